"""Facts about the image a Dockerfile produces: what runs as PID 1 and how it is stopped.

This is the middle of the pipeline: parse -> facts -> rules. Rules never look at raw text; they
read an `ImageFacts`. Only the stage that ships (the last one, or `--target`) is judged, but a stage
inherits ENTRYPOINT, CMD, STOPSIGNAL, SHELL and WORKDIR from the stage it is built `FROM`.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from initify.knowledge import loader as knowledge
from initify.knowledge import signals
from initify.dockerfile.model import Dockerfile, Heredoc, Instruction
from initify.errors import InputError
from initify.record import Record

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
WINDOWS_IMAGE_HINTS = ("mcr.microsoft.com/windows", "nanoserver", "servercore", "windows/")

EXEC = "exec"
SHELL = "shell"
MALFORMED = "malformed"


class Command(Record):
    """One CMD or ENTRYPOINT instruction, classified the way BuildKit reads it."""

    __slots__ = ("instruction", "form", "argv", "text", "error")

    def __init__(self, instruction: Instruction, form: str, argv: List[str], text: str,
                 error: Optional[str] = None) -> None:
        self.instruction = instruction
        self.form = form  # EXEC, SHELL or MALFORMED (looks like JSON, is not: Docker runs it as shell form)
        self.argv = argv  # what the runtime executes: the JSON list, or SHELL prefix + [text]
        self.text = text  # the instruction's value as written (continuations joined)
        self.error = error  # why a MALFORMED value is not a JSON string array


class StopSignal(Record):
    __slots__ = ("instruction", "raw", "name", "unresolved")

    def __init__(self, instruction: Instruction, raw: str, name: Optional[str], unresolved: bool = False) -> None:
        self.instruction = instruction
        self.raw = raw
        self.name = name  # canonical SIG-prefixed name, None when unknown or not a signal
        self.unresolved = unresolved  # uses a build variable we could not resolve


class Stage(Record):
    __slots__ = ("index", "name", "base", "from_instruction", "instructions", "parent", "global_args")

    def __init__(self, index: int, name: Optional[str], base: str, from_instruction: Instruction,
                 instructions: List[Instruction], parent: Optional[Stage] = None,
                 global_args: Optional[Dict[str, str]] = None) -> None:
        self.index = index
        self.name = name
        self.base = base  # the FROM image as written, build args substituted where known
        self.from_instruction = from_instruction
        self.instructions = instructions
        self.parent = parent  # the earlier stage this one is built FROM
        self.global_args: Dict[str, str] = {} if global_args is None else global_args  # ARGs before the first FROM


class ContextScript(Record):
    """A shell script that the image runs and that comes from the build context (or a heredoc)."""

    __slots__ = ("image_path", "source", "text", "copied_by", "context_path", "analysis")

    def __init__(self, image_path: str, source: str, text: str, copied_by: Instruction,
                 context_path: Optional[str] = None) -> None:
        self.image_path = image_path
        self.source = source  # context-relative path, or "<<NAME" for a heredoc
        self.text = text
        self.copied_by = copied_by
        self.context_path = context_path  # absolute path in the build context (None for heredocs)
        self.analysis: object = None  # initify.dockerfile.shell.ScriptAnalysis, filled lazily


class Step(Record):
    """One process in the launch chain: PID 1, what it execs into, what it supervises."""

    __slots__ = ("kind", "argv", "origin", "pid1", "init", "script", "context_script", "analysis",
                 "from_exec_form")

    def __init__(self, kind: str, argv: List[str], origin: Optional[Instruction], pid1: bool,
                 init: Optional[knowledge.Init] = None, script: Optional[str] = None,
                 context_script: Optional[ContextScript] = None, analysis: object = None,
                 from_exec_form: bool = True) -> None:
        self.kind = kind  # "init", "shell", "script", "launcher", "program"
        self.argv = argv
        self.origin = origin  # the CMD/ENTRYPOINT that put it there
        self.pid1 = pid1  # this process ends up as PID 1
        self.init = init
        self.script = script  # shell -c text, for kind "shell"
        self.context_script = context_script  # for kind "script"
        self.analysis = analysis  # initify.dockerfile.shell.ScriptAnalysis for shell/script steps
        self.from_exec_form = from_exec_form


class ImageFacts(Record):
    __slots__ = ("dockerfile", "stages", "final", "context_dir", "entrypoint", "cmd", "cmd_dropped",
                 "inherits_unknown_entrypoint", "stopsignal", "shell", "workdir", "windows", "pid1_argv",
                 "chain", "overridden", "onbuild", "scripts", "fix_init", "fix_base", "planned_files")

    def __init__(self, dockerfile: Dockerfile, stages: List[Stage], final: Stage, context_dir: Optional[str],
                 config: _Config, overridden: List[Instruction]) -> None:
        self.dockerfile = dockerfile
        self.stages = stages
        self.final = final
        self.context_dir = context_dir
        self.entrypoint = config.entrypoint
        self.cmd = config.cmd
        self.cmd_dropped = config.cmd_dropped  # a shell-form ENTRYPOINT ignores CMD
        self.inherits_unknown_entrypoint = config.unknown_entrypoint  # the external base image may set one
        self.stopsignal = config.stopsignal
        self.shell = config.shell
        self.workdir = config.workdir
        self.windows = config.windows
        self.overridden = overridden  # dead CMD/ENTRYPOINT lines
        self.pid1_argv: List[str] = []
        self.chain: List[Step] = []
        self.onbuild: List[Command] = []  # ONBUILD CMD/ENTRYPOINT of the final stage
        self.scripts: Dict[str, ContextScript] = {}
        self.fix_init = "auto"  # `initify fix --init`: which init IN106's fix injects
        self.fix_base: Optional[knowledge.Base] = None  # what a look inside the real base image found (initify build)
        # Context files as `initify fix` plans them (absolute path -> text): read instead of the
        # disk, so a later fix pass sees the entrypoint script an earlier pass rewrote in memory.
        self.planned_files: Dict[str, str] = {}

    @property
    def pid1(self) -> Optional[Step]:
        """The process that ends up as PID 1 once every `exec` hand-off has happened."""
        return pid1_of(self.chain)

    @property
    def base_image(self) -> str:
        """The external image the shipped stage is built on (following `FROM earlier-stage`)."""
        return _lineage(self.final)[0].base

    def behind_group_init(self, step: Step) -> bool:
        """Whether `step` runs under an init that signals its child's whole process group.

        Such an init (initify-init, dumb-init, `tini -g`) delivers the stop signal to the app even
        when a shell between them does not exec, so that shell no longer swallows it.
        """
        return behind_group_init(self.chain, step)

    @property
    def main(self) -> Optional[Step]:
        """The application: the last process of the launch chain."""
        return self.chain[-1] if self.chain else None

    @property
    def command_instruction(self) -> Optional[Instruction]:
        """The instruction that decides PID 1: ENTRYPOINT when set, else CMD."""
        if self.entrypoint is not None:
            return self.entrypoint.instruction
        return self.cmd.instruction if self.cmd is not None else None

    @property
    def delivered_signal(self) -> str:
        """The signal a runtime sends to stop the container: STOPSIGNAL, default SIGTERM."""
        if self.stopsignal is not None and self.stopsignal.name:
            return self.stopsignal.name
        return "SIGTERM"


# --------------------------------------------------------------------------------------------
# CMD / ENTRYPOINT forms
# --------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_command(instruction: Instruction, shell: List[str]) -> Command:
    """Classify CMD/ENTRYPOINT as BuildKit does: a JSON string array is exec form, else shell form."""
    text = instruction.value.strip()
    if text.startswith("["):
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:  # `[[[[...` 100k deep: BuildKit's parser rejects it as well
            return Command(instruction, MALFORMED, shell + [text], text, "not valid JSON: nested too deeply")
        except ValueError as error:
            if looks_like_json_array(text):
                return Command(instruction, MALFORMED, shell + [text], text, f"not valid JSON: {error}")
            return Command(instruction, SHELL, shell + [text], text)
        if not isinstance(value, list):
            return Command(instruction, SHELL, shell + [text], text)
        if not all(isinstance(item, str) for item in value):
            return Command(instruction, MALFORMED, shell + [text], text, "a JSON array must contain only strings")
        return Command(instruction, EXEC, list(value), text)
    return Command(instruction, SHELL, shell + [text], text)


def looks_like_json_array(text: str) -> bool:
    """True for text that was meant as exec form: `['a', 'b']`, `[a, b]`, `["a"] # note`.

    A shell test such as `[ -f x ] && run` is not: it has no comma and no quote right after `[`.
    """
    inner = text[1:].lstrip()
    if inner[:1] in ("\"", "'"):
        return True
    return "," in text and "]" in text


# --------------------------------------------------------------------------------------------
# Stages and build arguments
# --------------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?[-+]([^}]*))?\}|(\w+))")


def substitute(text: str, variables: Dict[str, str]) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} with known build arguments (unknown ones stay)."""

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1) or match.group(3)
        if name in variables:
            return variables[name]
        if match.group(2) is not None and "-" in match.group(0):
            return match.group(2)
        return match.group(0)

    return _VARIABLE.sub(replace, text)


def _arg_defaults(instruction: Instruction) -> Dict[str, str]:
    defaults: Dict[str, str] = {}
    for word in instruction.value.split():
        if "=" in word:
            name, value = word.split("=", 1)
            defaults[name] = value.strip("\"'")
    return defaults


def split_stages(dockerfile: Dockerfile, build_args: Optional[Dict[str, str]] = None) -> List[Stage]:
    global_args: Dict[str, str] = {}
    stages: List[Stage] = []
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            words = instruction.value.split()
            image = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            image = substitute(image, {**global_args, **(build_args or {})})
            stage = Stage(len(stages), name, image, instruction, [], global_args=global_args)
            lowered = image.lower()
            for earlier in stages:
                if earlier.name is not None and earlier.name.lower() == lowered:
                    stage.parent = earlier
            stages.append(stage)
        elif not stages:
            if instruction.keyword == "ARG":
                global_args.update(_arg_defaults(instruction))
        else:
            stages[-1].instructions.append(instruction)
    return stages


def pick_stage(stages: List[Stage], target: Optional[str]) -> Optional[Stage]:
    if not stages:
        return None
    if target is None:
        return stages[-1]
    for stage in stages:
        if stage.name is not None and stage.name.lower() == target.lower():
            return stage
    return None


def is_windows_image(image: str) -> bool:
    lowered = image.lower()
    return any(hint in lowered for hint in WINDOWS_IMAGE_HINTS)


# --------------------------------------------------------------------------------------------
# Effective configuration of a stage (following its parents)
# --------------------------------------------------------------------------------------------


class _Config(Record):
    __slots__ = ("entrypoint", "cmd", "stopsignal", "shell", "workdir", "cmd_dropped", "unknown_entrypoint",
                 "windows", "chain")

    def __init__(self, root: Stage) -> None:
        self.entrypoint: Optional[Command] = None
        self.cmd: Optional[Command] = None
        self.stopsignal: Optional[StopSignal] = None
        self.shell = list(DEFAULT_SHELL)
        self.workdir = "/"
        self.cmd_dropped = False
        self.unknown_entrypoint = root.base.lower() != "scratch"
        self.windows = is_windows_image(root.base)
        self.chain = [root]  # root stage first


def _shell_instruction(instruction: Instruction) -> Optional[List[str]]:
    try:
        value = json.loads(instruction.value)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return None


def _stage_config(stage: Stage, build_args: Dict[str, str], overridden: List[Instruction]) -> _Config:
    """The configuration `stage` ends with, its parents applied first. A loop, not recursion:
    a thousand chained stages are a valid Dockerfile."""
    chain = [stage]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)  # type: ignore[arg-type]
    chain.reverse()
    config = _Config(chain[0])
    for position, current in enumerate(chain):
        if position:
            config.chain.append(current)
        _apply_stage(current, config, build_args, overridden)
    config.cmd_dropped = config.entrypoint is not None and config.entrypoint.form != EXEC and config.cmd is not None
    return config


def _apply_stage(stage: Stage, config: _Config, build_args: Dict[str, str], overridden: List[Instruction]) -> None:
    cmd_set_here = False
    last_seen: Dict[str, Instruction] = {}
    for instruction in stage.instructions:
        keyword = instruction.keyword
        if keyword in ("CMD", "ENTRYPOINT"):
            if keyword in last_seen:
                overridden.append(last_seen[keyword])
            last_seen[keyword] = instruction
            command = parse_command(instruction, config.shell)
            if keyword == "CMD":
                config.cmd = command
                cmd_set_here = True
            else:
                config.entrypoint = command
                config.unknown_entrypoint = False
                if not cmd_set_here:
                    config.cmd = None  # Docker resets an inherited CMD when ENTRYPOINT is set
        elif keyword == "STOPSIGNAL":
            raw = instruction.value.strip()
            resolved = substitute(raw, build_args)
            config.stopsignal = StopSignal(instruction, raw, signals.normalise(resolved), "$" in resolved)
        elif keyword == "SHELL":
            shell = _shell_instruction(instruction)
            if shell is not None:
                config.shell = shell
                if os.path.basename(shell[0]).lower() in ("powershell", "powershell.exe", "pwsh", "cmd", "cmd.exe"):
                    config.windows = True
        elif keyword == "WORKDIR":
            path = instruction.value.strip().strip("\"'")
            config.workdir = posixpath.normpath(posixpath.join(config.workdir, path)) if path else config.workdir
        elif keyword == "ARG":
            build_args.update({k: v for k, v in _arg_defaults(instruction).items() if k not in build_args})
            # A bare `ARG NAME` in a stage brings in the default of a global ARG NAME.
            for name in instruction.value.split():
                if "=" not in name and name in stage.global_args and name not in build_args:
                    build_args[name] = stage.global_args[name]


# --------------------------------------------------------------------------------------------
# Scripts from the build context
# --------------------------------------------------------------------------------------------


def _copy_sources_and_dest(instruction: Instruction) -> Tuple[List[str], Optional[str]]:
    value = instruction.value.strip()
    words: List[str]
    if value.startswith("["):
        try:
            parsed = json.loads(value)
            words = [str(item) for item in parsed] if isinstance(parsed, list) else value.split()
        except (ValueError, RecursionError):
            words = value.split()
    else:
        words = value.split()
    if len(words) < 2:
        return [], None
    return words[:-1], words[-1]


@lru_cache(maxsize=64)
def _real(path: str) -> str:
    return os.path.realpath(path)


def inside_folder(path: str, root: str) -> bool:
    """Whether `path`, symlinks resolved, stays inside `root` (symlinks resolved too)."""
    real_root = _real(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def _read_context_file(context_dir: str, relative: str, planned_files: Dict[str, str]) -> Optional[Tuple[str, str]]:
    """(absolute path, text) of a context file, or None: outside the context, missing, binary.
    A file in `planned_files` (absolute path -> text) is read from there instead of the disk."""
    candidate = os.path.normpath(os.path.join(context_dir, relative.lstrip("/")))
    planned = planned_files.get(os.path.abspath(candidate))
    if planned is not None and inside_folder(candidate, context_dir):
        return candidate, planned
    if not os.path.isfile(candidate) or not inside_folder(candidate, context_dir):
        return None
    from initify.discover import read_bytes

    try:
        data = read_bytes(candidate)  # whole or not at all: a fix rewrites the script it read
    except InputError:
        return None
    if b"\0" in data:
        return None
    try:
        return candidate, data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _copy_targets(instruction: Instruction, workdir: str) -> List[Tuple[str, str, Optional[Heredoc]]]:
    """(image path, source, heredoc) pairs a COPY/ADD creates for file-like sources."""
    if instruction.flags.get("from"):
        return []
    sources, dest = _copy_sources_and_dest(instruction)
    if dest is None:
        return []
    dest = dest.strip("\"'")
    as_dir = dest.endswith("/") or len(sources) > 1
    if not dest.startswith("/"):
        dest = posixpath.join(workdir, dest)
    heredocs = {doc.delimiter: doc for doc in instruction.heredocs}
    targets = []
    for source in sources:
        heredoc = None
        if source.startswith("<<"):
            name = source.lstrip("<-").strip("\"'")
            heredoc = heredocs.get(name)
            if heredoc is None:
                continue
            source = name
        base = posixpath.basename(source.rstrip("/"))
        target = posixpath.join(dest, base) if as_dir else dest
        targets.append((posixpath.normpath(target), source, heredoc))
        if heredoc is None:
            if not as_dir:
                # dest may be an existing directory: `COPY run.sh /usr/local/bin`, `COPY run.sh .`.
                targets.append((posixpath.normpath(posixpath.join(dest, base)), source, None))
            # A directory source copies its contents into dest; remember dest as a directory too.
            targets.append((posixpath.join(posixpath.normpath(dest), ""), source.rstrip("/") + "/", None))
    return targets


def find_context_script(facts: Optional[ImageFacts], program: str) -> Optional[ContextScript]:
    """The context file (or COPY heredoc) that provides `program` in the final image, if any.

    `facts` is None when the image is unknown (a pod manifest without a paired Dockerfile)."""
    if facts is None:
        return None
    if program in facts.scripts:
        return facts.scripts[program]
    if "/" in program:
        wanted = [posixpath.normpath(posixpath.join(facts.workdir, program))]
    else:
        wanted = [posixpath.join(directory, program) for directory in DEFAULT_PATH]
    workdir = "/"
    found: Optional[ContextScript] = None
    copies: List[Tuple[Instruction, str]] = []
    for stage in _lineage(facts.final):
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                path = instruction.value.strip().strip("\"'")
                workdir = posixpath.normpath(posixpath.join(workdir, path))
            elif instruction.keyword in ("COPY", "ADD"):
                copies.append((instruction, workdir))
    for instruction, at_workdir in reversed(copies):
        for target, source, heredoc in _copy_targets(instruction, at_workdir):
            script = _match_target(facts, target, source, heredoc, wanted, instruction)
            if script is not None:
                found = script
                break
        if found is not None:
            break
    if found is not None:
        facts.scripts[program] = found
    return found


def _match_target(
    facts: ImageFacts,
    target: str,
    source: str,
    heredoc: Optional[Heredoc],
    wanted: List[str],
    instruction: Instruction,
) -> Optional[ContextScript]:
    for path in wanted:
        if heredoc is not None:
            if target == path:
                return ContextScript(path, "<<" + heredoc.delimiter, heredoc.body, instruction)
            continue
        if facts.context_dir is None or any(ch in source for ch in "*?[") or "://" in source:
            continue
        if target.endswith("/"):
            if not path.startswith(target):
                continue
            relative = posixpath.join(source.rstrip("/"), path[len(target):])
        elif target == path:
            relative = source
        else:
            continue
        read = _read_context_file(facts.context_dir, relative, facts.planned_files)
        if read is not None:
            return ContextScript(path, relative, read[1], instruction, context_path=read[0])
    return None


def _lineage(stage: Stage) -> List[Stage]:
    chain = []
    current: Optional[Stage] = stage
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def is_shell_script(script: ContextScript) -> bool:
    first = script.text.split("\n", 1)[0].strip()
    if first.startswith("#!"):
        words = first[2:].split()
        if not words:
            return True
        interpreter = os.path.basename(words[0])
        if interpreter == "env" and len(words) > 1:
            interpreter = os.path.basename(words[1] if not words[1].startswith("-") else words[-1])
        return interpreter in knowledge.load().shells
    return script.image_path.endswith(".sh")


# --------------------------------------------------------------------------------------------
# The launch chain
# --------------------------------------------------------------------------------------------


def shell_c_script(argv: List[str]) -> Optional[Tuple[int, str]]:
    """For `sh [-opts] -c SCRIPT [ARG0 ARGS...]`: the index of SCRIPT and its text."""
    index = 1
    has_c = False
    while index < len(argv):
        word = argv[index]
        if word in ("-o", "+o") and index + 1 < len(argv):
            index += 2
            continue
        if len(word) > 1 and word[0] in "-+" and word != "--":
            if "c" in word[1:] and word[0] == "-":
                has_c = True
            index += 1
            continue
        if word == "--":
            index += 1
        break
    if has_c and index < len(argv):
        return index, argv[index]
    return None


def _shell_script_operand(argv: List[str]) -> Optional[str]:
    """For `bash [-opts] FILE args`: FILE (a script run by an explicit shell)."""
    for word in argv[1:]:
        if word in ("-o", "+o"):
            return None
        if word.startswith("-") or word.startswith("+"):
            continue
        return word
    return None


def pid1_of(chain: List[Step]) -> Optional[Step]:
    """The step of a launch chain that ends up as PID 1 once every `exec` hand-off has happened."""
    current = None
    for step in chain:
        if step.pid1:
            current = step
    return current


def behind_group_init(chain: List[Step], step: Step) -> bool:
    """Whether an init earlier in `chain` than `step` signals its child's whole process group."""
    for earlier in chain:
        if earlier is step:
            return False
        if earlier.kind == "init" and earlier.init is not None and earlier.init.forwards_to_group(earlier.argv[1:]):
            return True
    return False


def init_child_argv(init: knowledge.Init, args: List[str]) -> List[str]:
    """The command an init supervises: after `--`, else after the init's own options."""
    if "--" in args:
        return args[args.index("--") + 1:]
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        index += 2 if option in init.options_with_value and "=" not in option else 1
    return args[index:]


def _analyse(text: str):
    from initify.dockerfile import shell

    return shell.analyse(text)


def _exec_target(analysis, positional: List[str]) -> Optional[List[str]]:
    """The argv a script execs into at its end, when it can be known exactly."""
    from initify.dockerfile import shell

    if not getattr(analysis, "ok", False) or not getattr(analysis, "ends_with_exec", False):
        return None
    if getattr(analysis, "runs_args", False):
        return list(positional)
    last = getattr(analysis, "last_command", None) or ""
    words = shell.split_words(last)
    if words is None:  # `exec app --port $PORT`: the program is known, some arguments are not
        scanned = shell._scan_command(last, allow_parameters=True)
        if scanned and not scanned[0].has_expansion and len(scanned) > 1 and not scanned[1].has_expansion:
            words = [word.raw if word.has_expansion else word.value for word in scanned]
    if not words or words[0] != "exec":
        return None
    return words[1:] or None


def _bash_lone_command(argv: List[str], text: str) -> Optional[List[str]]:
    """The program bash execs for a shell-form command under `SHELL ["/bin/bash", "-c"]`.

    `bash -c 'python app.py'` runs a lone simple command (no list, redirection or builtin) with
    exec, without forking, so the program takes PID 1 (bash's "one-shot" optimisation; dash and
    busybox sh fork instead). Only the Dockerfile's SHELL is trusted here: the real /bin/sh of
    the base image is not known."""
    from initify.dockerfile import shell

    if os.path.basename(argv[0]) != "bash":
        return None
    return shell.exec_argv(text)


def build_chain(facts: Optional[ImageFacts], argv: List[str], origin: Optional[Instruction], from_exec_form: bool) -> List[Step]:
    kb = knowledge.load()
    steps: List[Step] = []
    pid1 = True
    depth = 0
    while argv and depth < 8:
        depth += 1
        program = argv[0]
        init = kb.init_for(program)
        if init is not None:
            steps.append(Step("init", argv, origin, pid1, init=init, from_exec_form=from_exec_form))
            if not init.supervises_argv:
                break
            argv = init_child_argv(init, argv[1:])
            pid1 = False
            continue
        if kb.is_shell(program):
            found = shell_c_script(argv)
            if found is None:
                operand = _shell_script_operand(argv)
                script = find_context_script(facts, operand) if operand else None
                if script is None:
                    steps.append(Step("shell", argv, origin, pid1, from_exec_form=from_exec_form))
                    break
                argv = [script.image_path] + argv[argv.index(operand) + 1:]
                continue
            index, text = found
            analysis = _analyse(text)
            steps.append(Step("shell", argv, origin, pid1, script=text, analysis=analysis, from_exec_form=from_exec_form))
            target = _exec_target(analysis, argv[index + 2:])
            if target is None and not from_exec_form:
                target = _bash_lone_command(argv, text)
            if target is None:
                break
            steps[-1].pid1 = False  # it execs: the target takes its place (and its PID)
            argv = target
            continue
        script = find_context_script(facts, program)
        if script is not None and is_shell_script(script):
            if script.analysis is None:
                script.analysis = _analyse(script.text)
            steps.append(Step("script", argv, origin, pid1, context_script=script, analysis=script.analysis, from_exec_form=from_exec_form))
            target = _exec_target(script.analysis, argv[1:])
            if target is None:
                break
            steps[-1].pid1 = False  # it execs: the target takes its place (and its PID)
            argv = target
            continue
        kind = "launcher" if kb.is_launcher(program) else "program"
        steps.append(Step(kind, argv, origin, pid1, from_exec_form=from_exec_form))
        break
    return steps


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def analyse_image(
    dockerfile: Dockerfile,
    target: Optional[str] = None,
    context_dir: Optional[str] = None,
    build_args: Optional[Dict[str, str]] = None,
    planned_files: Optional[Dict[str, str]] = None,
) -> Optional[ImageFacts]:
    """Facts for the stage that ships; None for a file with no FROM (or an unknown --target).

    `planned_files` (absolute path -> text) are context files as `initify fix` plans them."""
    stages = split_stages(dockerfile, build_args)
    final = pick_stage(stages, target)
    if final is None:
        return None
    if context_dir is None and dockerfile.path and os.path.exists(dockerfile.path):
        context_dir = os.path.dirname(os.path.abspath(dockerfile.path))
    overridden: List[Instruction] = []
    config = _stage_config(final, dict(build_args or {}), overridden)
    shipped = [i for i in overridden if any(i in s.instructions for s in [final])]
    facts = ImageFacts(dockerfile, stages, final, context_dir, config, shipped)
    facts.planned_files = planned_files if planned_files is not None else {}  # a live view in fix: not copied
    for instruction in final.instructions:
        if instruction.keyword == "ONBUILD" and instruction.onbuild is not None:
            inner = instruction.onbuild
            if inner.keyword in ("CMD", "ENTRYPOINT"):
                facts.onbuild.append(parse_command(inner, config.shell))
    facts.pid1_argv, origin, exec_form = _pid1_argv(facts)
    if facts.pid1_argv:
        facts.chain = build_chain(facts, facts.pid1_argv, origin, exec_form)
    return facts


def _pid1_argv(facts: ImageFacts) -> Tuple[List[str], Optional[Instruction], bool]:
    entrypoint, cmd = facts.entrypoint, facts.cmd
    if entrypoint is not None:
        if entrypoint.form != EXEC:
            return entrypoint.argv, entrypoint.instruction, False
        args = cmd.argv if cmd is not None else []
        return entrypoint.argv + args, entrypoint.instruction, True
    if cmd is not None:
        return cmd.argv, cmd.instruction, cmd.form == EXEC
    return [], None, True

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
from typing import Dict, List, Optional, Sequence, Tuple

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

    __slots__ = ("instruction", "form", "argv", "text", "error", "inherited")

    def __init__(self, instruction: Instruction, form: str, argv: List[str], text: str,
                 error: Optional[str] = None, inherited: Optional[str] = None) -> None:
        self.instruction = instruction
        self.form = form  # EXEC, SHELL or MALFORMED (looks like JSON, is not: Docker runs it as shell form)
        self.argv = argv  # what the runtime executes: the JSON list, or SHELL prefix + [text]
        self.text = text  # the instruction's value as written (continuations joined)
        self.error = error  # why a MALFORMED value is not a JSON string array
        # Set when no line of the Dockerfile wrote it: it comes from the external base image's
        # config, and this says where that was read ("local image x: config Cmd"); `instruction`
        # is then the FROM line that brings it in (a place to report, never to rewrite).
        self.inherited = inherited


class StopSignal(Record):
    __slots__ = ("instruction", "raw", "name", "unresolved", "inherited")

    def __init__(self, instruction: Instruction, raw: str, name: Optional[str], unresolved: bool = False,
                 inherited: Optional[str] = None) -> None:
        self.instruction = instruction
        self.raw = raw
        self.name = name  # canonical SIG-prefixed name, None when unknown or not a signal
        self.unresolved = unresolved  # uses a build variable we could not resolve
        self.inherited = inherited  # where the base image's StopSignal was read (see Command.inherited)


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
                 "from_exec_form", "shell_fact", "implicit_exec", "init_fact", "behind_shell")

    def __init__(self, kind: str, argv: List[str], origin: Optional[Instruction], pid1: bool,
                 init: Optional[knowledge.Init] = None, script: Optional[str] = None,
                 context_script: Optional[ContextScript] = None, analysis: object = None,
                 from_exec_form: bool = True) -> None:
        # "init", "shell", "script", "launcher", "program", "unknown"; "passthrough": the base
        # image's start script that execs its arguments (never PID 1 for long)
        self.kind = kind
        self.argv = argv
        self.origin = origin  # the CMD/ENTRYPOINT that put it there
        self.pid1 = pid1  # this process ends up as PID 1
        self.init = init
        self.script = script  # shell -c text, for kind "shell"
        self.context_script = context_script  # for kind "script"
        self.analysis = analysis  # initify.dockerfile.shell.ScriptAnalysis for shell/script steps
        self.from_exec_form = from_exec_form
        # For a `sh -c` step whose script ends in a plain simple command: which shell this is
        # (initify.image.facts.Fact, None when not known) and whether it execs that command, so
        # that the command, not the shell, ends up with the shell's PID.
        self.shell_fact: object = None
        self.implicit_exec = False
        self.init_fact: object = None  # for /sbin/init: what it really is in the image (a Fact)
        # It runs as the last child of a shell or script that does not exec it (that shell stays
        # in front, between it and the runtime's signal): what fixing that shell would make PID 1.
        self.behind_shell = False


class ImageFacts(Record):
    __slots__ = ("dockerfile", "stages", "final", "context_dir", "entrypoint", "cmd", "cmd_dropped",
                 "inherits_unknown_entrypoint", "stopsignal", "shell", "workdir", "windows", "pid1_argv",
                 "chain", "overridden", "onbuild", "scripts", "fix_init", "fix_base", "planned_files", "base_info",
                 "build_args", "env", "notes")

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
        self.base_info: object = None  # initify.image.facts.ImageInfo of the base image (None: Windows)
        self.build_args: Dict[str, str] = {}  # --build-arg values: ARG defaults they override
        self.env: Dict[str, str] = dict(config.env)  # ENV of the image: the container's environment
        # What the run must say although no rule finds it (a context script too large to read),
        # one line each; lint, fix and pairing print them as notes.
        self.notes: List[str] = []

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
    def init_in_front(self) -> bool:
        """Whether PID 1 is an init (one behind a shell that does not exec it does not count)."""
        return init_in_front(self.chain)

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
                 "windows", "chain", "env")

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
        self.env: Dict[str, str] = {}  # ENV values, for $VAR in WORKDIR


def _shell_instruction(instruction: Instruction) -> Optional[List[str]]:
    try:
        value = json.loads(instruction.value)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return None


def _stage_config(stage: Stage, build_args: Dict[str, str], overridden: List[Instruction],
                  base: object = None) -> _Config:
    """The configuration `stage` ends with, its parents applied first. A loop, not recursion:
    a thousand chained stages are a valid Dockerfile. `base` (initify.image.facts.ImageInfo) is
    the external image the first stage is built FROM: its config is where the stages start."""
    chain = [stage]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)  # type: ignore[arg-type]
    chain.reverse()
    config = _Config(chain[0])
    _inherit(config, chain[0].from_instruction, base)
    for position, current in enumerate(chain):
        if position:
            config.chain.append(current)
        _apply_stage(current, config, build_args, overridden)
    config.cmd_dropped = config.entrypoint is not None and config.entrypoint.form != EXEC and config.cmd is not None
    return config


def _inherit(config: _Config, from_instruction: Instruction, base: object) -> None:
    """Start from the ENTRYPOINT, CMD and STOPSIGNAL the base image's config sets, as a build
    does: the real image's config when it was read, else the knowledge table's, else nothing
    (unknown: the ENTRYPOINT stays "may be set by the base", nothing else is guessed). An image
    config holds argv lists only: a shell-form CMD of the base is there as ["/bin/sh", "-c", ...]."""
    if base is None:
        return
    entrypoint, cmd, stopsignal = (base.get(name) for name in ("entrypoint", "cmd", "stopsignal"))  # type: ignore[attr-defined]
    if entrypoint is not None and isinstance(entrypoint.value, list):
        config.unknown_entrypoint = False
        if entrypoint.value:
            config.entrypoint = _inherited_command(from_instruction, entrypoint.value, entrypoint.source)
    if cmd is not None and isinstance(cmd.value, list) and cmd.value:
        config.cmd = _inherited_command(from_instruction, cmd.value, cmd.source)
    if stopsignal is not None and isinstance(stopsignal.value, str) and stopsignal.value:
        raw = stopsignal.value
        config.stopsignal = StopSignal(from_instruction, raw, signals.normalise(raw), False, stopsignal.source)


def _inherited_command(from_instruction: Instruction, argv: List[str], source: str) -> Command:
    return Command(from_instruction, EXEC, [str(word) for word in argv], json.dumps(argv), inherited=source)


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
            path = substitute(instruction.value.strip().strip("\"'"), {**build_args, **config.env})
            config.workdir = posixpath.normpath(posixpath.join(config.workdir, path)) if path else config.workdir
        elif keyword == "ENV":
            config.env.update(env_values(instruction.value, {**build_args, **config.env}))
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


def _read_context_file(context_dir: str, relative: str, planned_files: Dict[str, str],
                       too_large: Optional[List[str]] = None) -> Optional[Tuple[str, str]]:
    """(absolute path, text) of a context file, or None: outside the context, missing, binary,
    unreadable or over the size cap (then the reason is added to `too_large`, for a note: a
    script initify did not read is neither checked nor ever edited, and the run must say so).
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
    except InputError as error:
        if too_large is not None and error.reason.startswith("larger than"):
            too_large.append(error.reason)
        return None
    if b"\0" in data:
        return None
    try:
        return candidate, data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def env_values(value: str, known: Dict[str, str]) -> Dict[str, str]:
    """The variables an `ENV` sets: `ENV A=1 B="two words"` or the legacy `ENV NAME value`;
    `$VAR` in values is expanded with the variables already `known` (as BuildKit does)."""
    import shlex

    text = value.strip()
    first = text.split(None, 1)[0] if text else ""
    if "=" not in first:
        parts = text.split(None, 1)
        return {parts[0]: substitute(parts[1], known)} if len(parts) == 2 else {}
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        return {}
    result: Dict[str, str] = {}
    for word in words:
        name, equals, item = word.partition("=")
        if equals and name.isidentifier():
            result[name] = substitute(item, {**known, **result})
    return result


def _copy_targets(instruction: Instruction, workdir: str, variables: Optional[Dict[str, str]] = None) -> List[Tuple[str, str, Optional[Heredoc]]]:
    """(image path, source, heredoc) pairs a COPY/ADD creates for file-like sources; `$VAR` in
    the destination is expanded with the ARG/ENV `variables` in scope."""
    if instruction.flags.get("from"):
        return []
    sources, dest = _copy_sources_and_dest(instruction)
    if dest is None:
        return []
    dest = substitute(dest.strip("\"'"), variables or {})
    if "$" in dest:
        return []  # a variable initify does not know: the destination is unknown
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
    copies: List[Tuple[Instruction, str, Dict[str, str]]] = []
    lineage = _lineage(facts.final)
    variables: Dict[str, str] = {}  # ARG and ENV values in scope, for $VAR in WORKDIR and COPY
    for stage in lineage:
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                path = substitute(instruction.value.strip().strip("\"'"), variables)
                workdir = posixpath.normpath(posixpath.join(workdir, path))
            elif instruction.keyword in ("COPY", "ADD"):
                copies.append((instruction, workdir, dict(variables)))
            elif instruction.keyword == "ENV":
                variables.update(env_values(instruction.value, variables))
            elif instruction.keyword == "ARG":
                for name, value in _arg_defaults(instruction).items():
                    variables.setdefault(name, facts.build_args.get(name, value))
                for name in instruction.value.split():
                    if "=" not in name and name in facts.build_args:
                        variables.setdefault(name, facts.build_args[name])
                    elif "=" not in name and name in stage.global_args:
                        variables.setdefault(name, facts.build_args.get(name, stage.global_args[name]))
    for instruction, at_workdir, known in reversed(copies):
        for target, source, heredoc in _copy_targets(instruction, at_workdir, known):
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
        too_large: List[str] = []
        read = _read_context_file(facts.context_dir, relative, facts.planned_files, too_large)
        if read is not None:
            return ContextScript(path, relative, read[1], instruction, context_path=read[0])
        if too_large:
            from initify.discover import MAX_BYTES

            where = os.path.relpath(facts.dockerfile.path) if facts.dockerfile.path else "Dockerfile"
            note = (f"{where}:{instruction.start_line}: {relative} (run as {path}) is larger than "
                    f"{MAX_BYTES:,} bytes, the most initify reads: it is not checked and never edited")
            if note not in facts.notes:
                facts.notes.append(note)
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


def pid1_after_fixes(chain: List[Step]) -> Optional[Step]:
    """The step that becomes PID 1 once every shell in front that does not exec its last command
    does (the fixes of IN101-IN105, IN204, IN301: exec form, `exec` before the last command).

    It is PID 1 itself when PID 1 is not such a shell; the shell's child when the shell runs one
    plain command last (`sh -c "python app.py"`, a script ending in `"$@"`), and so on down the
    chain. A shell with no such child (`["bash"]`, a script ending in `wait` or a pipeline)
    stays PID 1 after any fix, so it is the answer."""
    current = pid1_of(chain)
    while current is not None and current.kind in ("shell", "script"):
        index = chain.index(current)
        following = chain[index + 1] if index + 1 < len(chain) else None
        if following is not None and following.behind_shell and getattr(current.analysis, "traps", None):
            return current  # `exec` would drop the trap: the shell stays, an init is the fix
        if following is None or not following.behind_shell:
            programs = _exec_fixable(current.analysis)
            if programs is None:
                return current
            # Several endings (`if ...; then a; else b; fi`): `exec` before each makes one of
            # them PID 1, whichever runs; a launcher among them still needs an init.
            kb = knowledge.load()
            launcher = next((p for p in programs if kb.is_launcher(p)), None)
            kind = "launcher" if launcher else "unknown"
            return Step(kind, [launcher or programs[0]], current.origin, True, from_exec_form=True)
        current = following
    return current


def _exec_fixable(analysis) -> Optional[List[str]]:
    """The programs a shell that does not exec runs last, when `exec` before each of them would
    make it PID 1 (every ending that runs something is a simple command of a program, not a
    builtin, a function or another shell); None otherwise."""
    from initify.dockerfile import shell

    if not getattr(analysis, "ok", False) or getattr(analysis, "ends_with_exec", False):
        return None
    if analysis.traps:
        return None  # `exec` would drop the script's trap: an init keeps what it was meant for
    running = [tail for tail in analysis.tails if tail.kind != "stop"]
    if not running or any(tail.kind not in ("command", "exec") for tail in running):
        return None
    programs = [tail.program or "" for tail in running]
    kb = knowledge.load()
    for program in programs:
        if not program or program in shell.SHELL_BUILTINS or program in analysis.functions or kb.is_shell(program):
            return None
    return programs


def init_in_front(chain: List[Step]) -> bool:
    """Whether PID 1 of a launch chain is an init."""
    pid1 = pid1_of(chain)
    return pid1 is not None and pid1.kind == "init"


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


def inherited_note(facts: Optional[ImageFacts], instruction: Optional[Instruction], stopsignal: bool = False) -> str:
    """`; inherited from the base image (local image x:1: config Cmd)` for a finding reported on
    the FROM line that brings in the base image's ENTRYPOINT/CMD (or, with `stopsignal`, its
    STOPSIGNAL); empty when a line of the Dockerfile set it."""
    if facts is None or instruction is None:
        return ""
    values = (facts.stopsignal,) if stopsignal else (facts.entrypoint, facts.cmd)
    sources = [v.inherited for v in values if v is not None and v.inherited and v.instruction is instruction]
    return "; inherited from the base image (" + "; ".join(sources) + ")" if sources else ""


def also_init(facts: Optional[ImageFacts], step: Step) -> str:
    """The advice, for a finding about a shell that does not exec, that an init is needed as
    well once it does: the shell starts background jobs (nobody reaps or stops them after the
    exec), or the program it leaves as PID 1 is a launcher. Empty when no init is advised."""
    if facts is not None and facts.init_in_front:
        return ""
    if getattr(step.analysis, "background", False):
        return ("; it also starts background processes, which nothing reaps or stops once it execs: put an "
                "init in front too (initify-init, tini, dumb-init)")
    chain = facts.chain if facts is not None else []
    after = pid1_after_fixes(chain) if step in chain else None
    if after is not None and after.kind == "launcher":
        return (f"; {after.argv[0]} does not forward signals either, so put an init in front too "
                f"(initify-init, tini, dumb-init)")
    return ""


def _analyse(text: str, args: Optional[List[str]] = None):
    from initify.dockerfile import shell

    return shell.analyse(text, None if args is None else tuple(args))


def _exec_target(analysis, positional: List[str], env: Optional[Dict[str, str]] = None) -> Optional[List[str]]:
    """The argv a script execs into at its end, when it can be known exactly."""
    from initify.dockerfile import shell

    if not getattr(analysis, "ok", False) or not getattr(analysis, "ends_with_exec", False):
        return None
    if getattr(analysis, "runs_args", False):
        return list(positional)
    last = getattr(analysis, "last_command", None) or ""
    words = shell.split_words(last)
    if words is None and env and "'" not in last:
        words = shell.split_words(substitute(last, env))  # `exec ${APP}/server` with ENV APP
    if words is None:  # `exec app --port $PORT`: the program is known, some arguments are not
        scanned = shell._scan_command(last, allow_parameters=True)
        if scanned and not scanned[0].has_expansion and len(scanned) > 1 and not scanned[1].has_expansion:
            words = [word.raw if word.has_expansion else word.value for word in scanned]
    if not words or words[0] != "exec":
        return _known_program(analysis, last)
    return words[1:] or None


def _words(command: str) -> Optional[List[str]]:
    """The words of a simple command when its program and first argument are literal."""
    from initify.dockerfile import shell

    words = shell.split_words(command)
    if words is None:  # `app --port $PORT`: the program is known, some arguments are not
        scanned = shell._scan_command(command, allow_parameters=True)
        if scanned and not scanned[0].has_expansion and (len(scanned) == 1 or not scanned[1].has_expansion):
            words = [word.raw if word.has_expansion else word.value for word in scanned]
    return words or None


def _plain_tail(analysis, text: str, positional: Sequence[str] = (),
                env: Optional[Dict[str, str]] = None) -> Optional[List[str]]:
    """The argv of a `-c` script's last command when it is a plain simple command at the top level
    (after nothing, `;`, `&&` or a newline; no redirection, assignment, builtin, function or trap):
    the command bash and BusyBox ash exec instead of forking. `"$@"` is the script's arguments;
    an ENV path (`${APP}/run.sh`) is read with the image's ENV."""
    if not getattr(analysis, "ok", False) or analysis.compound_last or analysis.traps:
        return None
    tails = [tail for tail in analysis.tails if tail.kind != "stop"]  # `a && b` stops early when a fails
    if len(tails) != 1:
        return None
    tail = tails[0]
    if tail.kind != "command" or tail.function is not None or "builtin" in tail.reason:
        return None
    lines = text.split("\n")
    if tail.line < 1 or tail.line > len(lines):
        return None
    offset = sum(len(line) + 1 for line in lines[: tail.line - 1])
    start, end = offset + tail.start, offset + tail.end
    if text[start:end] != tail.text:
        start, end = tail.start, tail.end  # offsets counted from the start of the text
        if text[start:end] != tail.text:
            return None
    if text[end:].strip(" \t\n;"):
        return None
    before = text[:start].rstrip(" \t")
    if before and not (before.endswith(";") or before.endswith("&&") or before.endswith("\n")):
        return None
    if tail.text.strip() in ('"$@"', '"${@}"'):
        return list(positional) or None
    words = _words(tail.text)
    if words is None and env and "'" not in tail.text:
        words = _words(substitute(tail.text, env))
    if not words or "=" in words[0] or any(word[:1] in "<>" or word[-1:] in "<>" for word in words):
        return None
    return words


def _known_program(analysis, last: str) -> Optional[List[str]]:
    """`exec app -D $(cmd)`: the arguments are only known at run time, but the program is; its
    argv is the literal words before the first one that needs the shell (enough to identify it)."""
    program = getattr(analysis, "program", None)
    if not program or any(char in program for char in "$`\\\"'*?["):
        return None
    words = last.split()
    if program not in words:
        return None
    argv = []
    for word in words[words.index(program):]:
        if any(char in word for char in "$`\\\"'*?[(){}<>|&;"):
            break
        argv.append(word)
    return argv


def _child_command(analysis, positional: List[str], env: Optional[Dict[str, str]] = None) -> Optional[List[str]]:
    """The argv of the program a shell that does not exec runs last as its child, when it is one
    plain simple command run by the main shell (`./run.sh`, `python app.py`, `"$@"`)."""
    from initify.dockerfile import shell

    if not getattr(analysis, "ok", False) or getattr(analysis, "ends_with_exec", False):
        return None
    running = [tail for tail in analysis.tails if tail.kind != "stop"]
    if len(running) != 1 or running[0].kind != "command":
        return None
    if running[0].text.strip() in ('"$@"', '"${@}"'):
        return list(positional) or None
    argv = shell.split_words(running[0].text)
    if argv is None and env and "'" not in running[0].text:
        argv = shell.split_words(substitute(running[0].text, env))  # `${APP}/run.sh` with ENV APP
    if not argv or argv[0] in shell.SHELL_BUILTINS or argv[0] in analysis.functions:
        return None
    return argv


def _after_shell(steps: List[Step], analysis, positional: List[str], origin: Optional[Instruction], pid1: bool,
                 from_exec_form: bool, env: Optional[Dict[str, str]] = None) -> Tuple[Optional[List[str]], bool]:
    """What follows a shell or script step: (argv of the next step, whether it is PID 1).

    It execs a known argv: that takes its place as PID 1. It execs a program whose argv is not
    known (`exec "$APP"`): an "unknown" step ends the chain, so no rule takes the shell for PID 1.
    It runs one plain command as its last child (`./run.sh`, `python app.py`): the chain goes on
    with that child, not PID 1, so the rules see what runs behind the shell (and what fixing the
    shell would make PID 1). Otherwise the chain ends at the shell."""
    step = steps[-1]
    target = _exec_target(analysis, positional, env)
    if target is not None:
        step.pid1 = False  # it execs: the target takes its place (and its PID)
        return target, pid1
    if getattr(analysis, "ok", False) and getattr(analysis, "ends_with_exec", False):
        step.pid1 = False
        steps.append(Step("unknown", [getattr(analysis, "program", None) or "?"], origin, pid1, from_exec_form=from_exec_form))
        return None, pid1
    child = _child_command(analysis, positional, env)
    if child is not None:
        return child, False
    return None, pid1


def _stays(step: Step) -> bool:
    """Whether a shell/script step stays running (it did not exec what follows it)."""
    return not getattr(step.analysis, "ends_with_exec", False)


def _continue_behind(steps: List[Step], analysis, positional: List[str], origin: Optional[Instruction], pid1: bool,
                     from_exec_form: bool, env: Optional[Dict[str, str]],
                     behind_from: Optional[int]) -> Tuple[Optional[List[str]], bool, Optional[int]]:
    """After a `sh -c` or script step: (the argv the chain goes on with, None to end it; whether
    that is PID 1; the index from which steps run behind a shell that stays). One helper for both
    kinds of shell step, so they cannot drift apart."""
    next_argv, next_pid1 = _after_shell(steps, analysis, positional, origin, pid1, from_exec_form, env)
    if next_argv is None:
        return None, pid1, behind_from
    if _stays(steps[-1]) and behind_from is None:
        behind_from = len(steps)
    return next_argv, next_pid1, behind_from


def build_chain(facts: Optional[ImageFacts], argv: List[str], origin: Optional[Instruction], from_exec_form: bool,
                image: object = None) -> List[Step]:
    """The launch chain of `argv`. `image` (initify.image.facts.ImageInfo) says which shell /bin/sh
    is and what /sbin/init is; by default the base image of `facts`."""
    from initify.image import facts as image_facts

    kb = knowledge.load()
    if image is None and facts is not None:
        image = facts.base_info
    steps: List[Step] = []
    pid1 = True
    depth = 0
    behind_from: Optional[int] = None  # steps from this index run behind a shell that stays
    while argv and depth < 8:
        depth += 1
        program = argv[0]
        init = kb.init_for(program)
        init_fact = None
        if init is not None and init.key == "systemd":
            init_fact = image_facts.init_identity(program, image)  # type: ignore[arg-type]
            if init_fact is not None and init_fact.value != "systemd":
                init = kb.init_by_key(f"{init_fact.value}-init") if init_fact.value else None
                if init is None:  # no init package in the image: /sbin/init is a program we know nothing of
                    steps.append(Step("program", argv, origin, pid1, from_exec_form=from_exec_form))
                    steps[-1].init_fact = init_fact
                    break
        if init is not None:
            steps.append(Step("init", argv, origin, pid1, init=init, from_exec_form=from_exec_form))
            steps[-1].init_fact = init_fact
            if not init.supervises_argv:
                break
            argv = init_child_argv(init, argv[1:])
            pid1 = False
            continue
        if kb.is_shell(program):
            found = shell_c_script(argv)
            if found is None:
                operand = _shell_script_operand(argv)
                script = None
                if operand:  # `sh run.sh` reads run.sh from the working directory first
                    script = find_context_script(facts, operand if "/" in operand else "./" + operand)
                    script = script or find_context_script(facts, operand)
                if script is None:
                    steps.append(Step("shell", argv, origin, pid1, from_exec_form=from_exec_form))
                    break
                argv = [script.image_path] + argv[argv.index(operand) + 1:]
                continue
            index, text = found
            analysis = _analyse(text, argv[index + 2:])
            steps.append(Step("shell", argv, origin, pid1, script=text, analysis=analysis, from_exec_form=from_exec_form))
            positional = argv[index + 2:]
            env = facts.env if facts is not None else None
            tail = _plain_tail(analysis, text, positional, env)
            if tail is not None:
                steps[-1].shell_fact = (image_facts.shell_flavour(program, image)  # type: ignore[arg-type]
                                        or image_facts.Fact(None, "not known"))
                if image_facts.execs_last_command(program, image) is True:  # type: ignore[arg-type]
                    # bash and BusyBox ash exec a plain last command: it takes the shell's PID
                    steps[-1].implicit_exec = True
                    steps[-1].pid1 = False
                    argv = tail
                    continue
            next_argv, pid1, behind_from = _continue_behind(steps, analysis, positional, origin, pid1, from_exec_form,
                                                            env, behind_from)
            if next_argv is None:
                break
            argv = next_argv
            continue
        script = find_context_script(facts, program)
        if script is not None and is_shell_script(script):
            analysis = _analyse(script.text, argv[1:])
            if script.analysis is None:
                script.analysis = analysis
            steps.append(Step("script", argv, origin, pid1, context_script=script, analysis=analysis, from_exec_form=from_exec_form))
            next_argv, pid1, behind_from = _continue_behind(steps, analysis, argv[1:], origin, pid1, from_exec_form,
                                                            facts.env if facts is not None else None, behind_from)
            if next_argv is None:
                break
            argv = next_argv
            continue
        if len(argv) > 1 and image_facts.passes_on_args(program, image) is not None:  # type: ignore[arg-type]
            # the base image's start script (docker-entrypoint.sh) ends in `exec "$@"`: what it
            # is given takes its PID
            steps.append(Step("passthrough", argv[:1], origin, False, from_exec_form=from_exec_form))
            argv = argv[1:]
            cmd = facts.cmd if facts is not None else None
            if cmd is not None and argv == cmd.argv and facts.entrypoint is not None and origin is facts.entrypoint.instruction:  # type: ignore[union-attr]
                origin, from_exec_form = cmd.instruction, cmd.form == EXEC  # the CMD line says what it runs
            continue
        kind = "launcher" if kb.is_launcher(program) else "program"
        steps.append(Step(kind, argv, origin, pid1, from_exec_form=from_exec_form))
        break
    for step in steps[behind_from or len(steps):]:
        step.behind_shell = True
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
    base = _lineage(final)[0].base
    base_info = None
    if not is_windows_image(base):
        from initify.image import facts as image_facts

        base_info = image_facts.resolve(base)
    config = _stage_config(final, dict(build_args or {}), overridden, base_info)
    shipped = [i for i in overridden if any(i in s.instructions for s in [final])]
    facts = ImageFacts(dockerfile, stages, final, context_dir, config, shipped)
    facts.planned_files = planned_files if planned_files is not None else {}  # a live view in fix: not copied
    if not facts.windows:
        facts.base_info = base_info
    facts.build_args = dict(build_args or {})
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

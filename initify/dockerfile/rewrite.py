"""Rewriting helpers shared by the rules' fixes: exec-form arrays, STOPSIGNAL lines, inits.

Every helper returns `engine.Edit`s that replace only the lines of the instruction concerned,
keeping its indentation, keyword case and line ending (CRLF, or no newline at the end of file).
"""

from __future__ import annotations

import ast
import json
import re
from typing import List, Optional, Tuple

from initify.knowledge import loader as knowledge
from initify.dockerfile import shell
from initify.knowledge import signals
from initify.engine import Edit, Fix
from initify.dockerfile.facts import EXEC, MALFORMED, SHELL, Command, ImageFacts
from initify.dockerfile.model import Instruction

_COMMAND_PREFIX = re.compile(r"^([ \t]*(?:onbuild[ \t]+)?(?:cmd|entrypoint))([ \t]*)", re.IGNORECASE)
_STOPSIGNAL_PREFIX = re.compile(r"^([ \t]*stopsignal)([ \t]*)", re.IGNORECASE)


def render_exec(argv: List[str]) -> str:
    """`["a", "b"]`: the way people write exec form, with JSON escaping."""
    return "[" + ", ".join(json.dumps(word, ensure_ascii=False) for word in argv) + "]"


def line_ending(raw: str) -> str:
    """The line ending of an instruction's last line: "\\r\\n", "\\n", or "" at end of file."""
    if raw.endswith("\r\n"):
        return "\r\n"
    return "\n" if raw.endswith("\n") else ""


def _first_line(raw: str) -> str:
    return raw.split("\n", 1)[0].rstrip("\r")


def _inner_comments(instruction: Instruction) -> str:
    """Comment lines inside a continued instruction, kept as lines above the rewrite."""
    lines = instruction.raw.split("\n")[1:]
    kept = [line for line in lines[:-1] if line.strip().startswith("#")]  # never the last line
    return "".join(line + "\n" for line in kept)  # each keeps its own "\r"


def replace_value(path: str, instruction: Instruction, value: str, prefix_pattern: "re.Pattern[str]" = _COMMAND_PREFIX) -> Optional[Edit]:
    """Replace an instruction's value, keeping indentation, keyword (case) and line ending.

    None for a FROM line: a CMD, ENTRYPOINT or STOPSIGNAL inherited from the base image is
    reported there (Command.inherited), but the line that brings it in is never rewritten."""
    if instruction.keyword == "FROM":
        return None
    if instruction.heredocs:
        return None
    match = prefix_pattern.match(_first_line(instruction.raw))
    if match is None:
        return None
    ending = line_ending(instruction.raw)
    text = _inner_comments(instruction) + match.group(1) + (match.group(2) or " ") + value + ending
    return Edit(path, instruction.start_line, instruction.end_line, text)


def command_edit(path: str, instruction: Instruction, argv: List[str]) -> Optional[Edit]:
    return replace_value(path, instruction, render_exec(argv))


# --------------------------------------------------------------------------------------------
# Shell form -> exec form (IN101, IN102)
# --------------------------------------------------------------------------------------------


def exec_form_fix(path: str, command: Command, keep_ignoring_args: bool = False, onbuild: bool = False) -> Optional[Fix]:
    """The exec form of a shell-form CMD/ENTRYPOINT, or None when there is no sensible one.

    Plain words become their exact argv (safe). Text that needs the shell for expansion becomes
    `[SHELL..., "exec TEXT"]` (safe: the same program with the same arguments, environment and
    redirections, only now it takes the shell's place; unsafe when the program is a shell builtin
    or itself an expansion), a compound command `[SHELL..., "TEXT"]` with `exec` before its last
    command where that is exact (shell.add_exec), else as it is (unsafe: an init should go in
    front, IN106). `keep_ignoring_args` keeps a shell-form ENTRYPOINT's meaning of ignoring
    CMD and `docker run` arguments: the text stays in a `sh -c` script (with `exec`).
    """
    if command.form != SHELL:
        return None
    text = command.text
    prefix = command.argv[:-1]  # the SHELL in force at the instruction, e.g. ["/bin/sh", "-c"]
    kind = shell.classify(text)
    exec_text = text if text.startswith("exec ") else "exec " + text
    if kind == "plain":
        argv = shell.exec_argv(text)
        if argv is None:
            return None
        if keep_ignoring_args:
            edit = command_edit(path, command.instruction, prefix + [exec_text])
            note = "kept the shell so CMD and `docker run` arguments stay ignored, as with the shell form; the program is exec'd"
            return Fix((edit,), True, note) if edit else None
        edit = command_edit(path, command.instruction, argv)
        return Fix((edit,), True, "exact argv") if edit else None
    if onbuild:
        return None
    if kind == "expansion":
        edit = command_edit(path, command.instruction, prefix + [exec_text])
        return Fix((edit,), _plain_program(text), "needs the shell for expansion: kept `sh -c` with `exec`") if edit else None
    if kind == "compound":
        with_exec = shell.add_exec(text)  # `cd /app && python app.py` -> `cd /app && exec python app.py`
        if with_exec is not None:
            edit = command_edit(path, command.instruction, prefix + [with_exec])
            return Fix((edit,), False, "compound command: kept `sh -c` with `exec` before its last command") if edit else None
        edit = command_edit(path, command.instruction, prefix + [text])
        return Fix((edit,), False, "compound command: kept `sh -c`; it needs an init in front (IN106)") if edit else None
    return None


def _plain_program(text: str) -> bool:
    """Whether `exec TEXT` runs the program TEXT names: a literal name that is no builtin."""
    words = shell._scan_command(text[5:] if text.startswith("exec ") else text, allow_parameters=True)
    if not words or words[0].has_expansion:
        return False
    return words[0].value not in shell.SHELL_BUILTINS and words[0].value not in shell.RESERVED_WORDS


# --------------------------------------------------------------------------------------------
# Malformed exec form (IN103)
# --------------------------------------------------------------------------------------------

_TRAILING_COMMENT = re.compile(r"^(\[.*\])[ \t]*(#.*)$", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*\]$")


def _bare_words(text: str) -> Optional[List[str]]:
    """The words of `[a, b.py, --flag]`, a list written without quotes; None for anything else,
    including words with `$`, quotes, backslashes or braces (their meaning would be a guess)."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    inner = text[1:-1]
    if any(ch in inner for ch in "[]\"'\\$`{}"):
        return None
    words = [word.strip() for word in inner.split(",")]
    if words and words[-1] == "":
        words.pop()  # a trailing comma
    if not words or any(not word or any(ch.isspace() for ch in word) for word in words):
        return None
    return words


def malformed_fix(path: str, command: Command) -> Optional[Fix]:
    """Repair `["a", "b"] # note`, `["a",]`, `["sleep", 1]`, `['a', 'b']` and `[a, b]`.

    All safe: as written the runtime hands the text to `/bin/sh -c`, whose first word
    (`[python,`, `["a",`) names no program, so the container cannot start at all; the repaired
    array is the only command it can have meant. The note says when the quotes were guessed."""
    if command.form != MALFORMED:
        return None
    text = command.text.strip()
    comment = ""
    match = _TRAILING_COMMENT.match(text)
    if match is not None:
        text, comment = match.group(1).rstrip(), match.group(2)
    text = _TRAILING_COMMA.sub("]", text)
    argv: Optional[List[str]] = None
    guessed = False
    try:
        value = json.loads(text)
        if isinstance(value, list) and all(isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)) for item in value):
            argv = [item if isinstance(item, str) else str(item) for item in value]
    except (ValueError, RecursionError):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            argv, guessed = list(value), True
        else:
            argv, guessed = _bare_words(text), True
    if not argv:
        return None
    edit = command_edit(path, command.instruction, argv)
    if edit is None:
        return None
    if comment:
        indent = re.match(r"[ \t]*", _first_line(command.instruction.raw))
        ending = line_ending(command.instruction.raw) or "\n"
        edit = Edit(edit.path, edit.start_line, edit.end_line, (indent.group(0) if indent else "") + comment + ending + edit.text)
    return Fix((edit,), True, "rewrote as a JSON string array" + (" (quotes guessed)" if guessed else ""))


# --------------------------------------------------------------------------------------------
# Exec-form arrays holding a `sh -c` script (IN104)
# --------------------------------------------------------------------------------------------


def replace_script_fix(path: str, facts: ImageFacts, script: str, new_script: str) -> Optional[Fix]:
    """Replace `script` inside the exec-form CMD or ENTRYPOINT that holds it."""
    for command in (facts.cmd, facts.entrypoint):
        if command is None or command.form != EXEC:
            continue
        for index, word in enumerate(command.argv):
            if index > 0 and word == script:
                argv = list(command.argv)
                argv[index] = new_script
                edit = command_edit(path, command.instruction, argv)
                return Fix((edit,), True, "prefixed the last command with `exec`") if edit else None
    return None


# --------------------------------------------------------------------------------------------
# STOPSIGNAL (IN107, IN108, IN109)
# --------------------------------------------------------------------------------------------


def _insertion_point(facts: ImageFacts) -> Tuple[Optional[Instruction], bool]:
    """(instruction, before): insert before the final stage's first CMD/ENTRYPOINT, else after
    the stage's last instruction."""
    final = facts.final.instructions
    commands = [i for i in final if i.keyword in ("CMD", "ENTRYPOINT") and i not in facts.overridden]
    if commands:
        return commands[0], True
    last = final[-1] if final else facts.final.from_instruction
    return last, False


def _above_attached_comments(facts: ImageFacts, anchor: Instruction) -> int:
    """The first line of the comment block right above `anchor` (no blank line between), or the
    anchor's own line: a comment such as `# start the app` belongs to its instruction, so a new
    line goes above it, never between them."""
    comment_lines = {line for line, _ in facts.dockerfile.comments}
    previous_end = max((i.end_line for i in facts.dockerfile.instructions if i.end_line < anchor.start_line), default=0)
    line = anchor.start_line
    while line - 1 > previous_end and line - 1 in comment_lines:
        line -= 1
    return line


def stopsignal_fix(path: str, facts: ImageFacts, signal: str, note: str) -> Optional[Fix]:
    """Replace the effective STOPSIGNAL's value, or insert `STOPSIGNAL signal`."""
    current = facts.stopsignal
    if current is not None and current.inherited is None:  # an inherited one is overridden by a new line
        edit = replace_value(path, current.instruction, signal, _STOPSIGNAL_PREFIX)
        return Fix((edit,), True, note) if edit else None
    anchor, before = _insertion_point(facts)
    if anchor is None:
        return None
    first = _first_line(anchor.raw)
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    keyword = "stopsignal" if anchor.original_keyword.islower() else "STOPSIGNAL"
    newline = facts.dockerfile.newline
    line = f"{indent}{keyword} {signal}"
    if before:
        at = _above_attached_comments(facts, anchor)
        edit = Edit(path, at, at - 1, line + newline)
    else:
        ending = line_ending(anchor.raw)
        text = anchor.raw + (line + ending if ending else newline + line)
        edit = Edit(path, anchor.start_line, anchor.end_line, text)
    return Fix((edit,), True, note)


# --------------------------------------------------------------------------------------------
# Init injection (IN106)
# --------------------------------------------------------------------------------------------

INIT_IN_CONTEXT = ".initify/initify-init"
INIT_IN_IMAGE = "/usr/local/bin/initify-init"
_PACKAGE_INSTALL = {
    "apt": "apt-get update && apt-get install -y --no-install-recommends {package} && rm -rf /var/lib/apt/lists/*",
    "apk": "apk add --no-cache {package}",
    "dnf": "dnf install -y {package} && dnf clean all",
    "microdnf": "microdnf install -y {package} && microdnf clean all",
    "yum": "yum install -y {package} && yum clean all",
}


def known_base(facts: ImageFacts) -> Optional[knowledge.Base]:
    """What is known of the base image: `initify build`'s probe, else the image facts (the real
    image, else the knowledge table); None when neither python3 nor the package manager is known."""
    if facts.fix_base is not None:
        return facts.fix_base
    info = facts.base_info
    if info is None or not (info.known("python3") or info.known("package_manager")):  # type: ignore[attr-defined]
        return None
    return knowledge.Base(facts.base_image, info.value("python3") is True,  # type: ignore[attr-defined]
                          info.value("package_manager") or None)  # type: ignore[attr-defined]


def choose_init(facts: ImageFacts) -> Tuple[Optional[str], str]:
    """(init, why): the init `--init` asks for; `auto` picks python, else tini, else None."""
    choice = facts.fix_init
    if choice == "none":
        return None, "--init none"
    base = known_base(facts)
    if choice != "auto":
        if choice in ("tini", "dumb-init") and (base is None or base.package_manager not in _PACKAGE_INSTALL):
            return None, f"the package manager of {facts.base_image} is unknown; use --init python"
        return choice, f"--init {choice}"
    if base is not None and base.python3:
        return "python", f"{facts.base_image} has python3"
    if base is not None and base.package_manager in _PACKAGE_INSTALL:
        return "tini", f"tini from {base.package_manager}"
    return None, f"nothing is known about {facts.base_image}: pass --init python|tini|dumb-init"


def _rewrite_options(facts: ImageFacts, init: str = "python") -> List[str]:
    """`--rewrite SENT:WANTED` when the program is a daemon whose stop signal is not the one sent
    (dumb-init writes the pair as numbers, `--rewrite 15:3`; tini cannot rewrite)."""
    main = facts.main
    if main is None:
        return []
    program: Optional[str] = main.argv[0] if main.argv else None
    if main.kind in ("shell", "script"):  # the init signals the group: the script's last program counts
        last = getattr(main.analysis, "last_command", None) or ""
        scanned = shell._scan_command(last, allow_parameters=True) or []
        program = scanned[0].value if scanned and not scanned[0].has_expansion else None
    elif main.kind != "program":
        return []
    daemon = knowledge.load().daemon_for(program) if program else None
    sent = facts.delivered_signal
    if daemon is None or daemon.stop_signal == sent or init == "tini":
        return []
    if init == "dumb-init":
        return ["--rewrite", f"{signals.number_of(sent)}:{signals.number_of(daemon.stop_signal)}"]
    return ["--rewrite", f"{sent[3:]}:{daemon.stop_signal[3:]}"]


def _line(anchor: Instruction, keyword: str, value: str) -> str:
    first = _first_line(anchor.raw)
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    word = keyword.lower() if anchor.original_keyword.islower() else keyword
    return f"{indent}{word} {value}"


def _reinclude_init(facts: ImageFacts) -> List[Edit]:
    """A `!.initify/initify-init` line for each ignore file that would keep the init out of the
    build: an allow-list (`*`, then `!app.py`...) excludes every file it does not name, and the
    build would then fail at `COPY .initify/initify-init`. `.containerignore` and `.dockerignore`
    in the context and `<Dockerfile>.dockerignore` beside it are all checked (engines differ in
    which one they read)."""
    import os

    from initify import discover
    from initify.dockerfile import ignore

    assert facts.context_dir is not None
    candidates = [os.path.join(facts.context_dir, name) for name in ignore.IGNORE_FILES]
    if facts.dockerfile.path:
        candidates.append(os.path.abspath(facts.dockerfile.path) + ".dockerignore")
    edits = []
    for candidate in candidates:
        if not discover.is_regular(candidate) or not discover.inside(candidate, facts.context_dir):
            continue  # a FIFO or a symlink out of the context is never read
        text = discover.read_bytes(candidate).decode("utf-8", errors="surrogateescape")
        if not ignore.ignored(ignore.parse_ignore(text, candidate), INIT_IN_CONTEXT):
            continue
        newline = "\r\n" if "\r\n" in text else "\n"
        separator = "" if not text or text.endswith("\n") else newline
        edits.append(Edit(candidate, text=f"{text}{separator}!{INIT_IN_CONTEXT}{newline}", whole_file=True))
    return edits


def init_fix(path: str, facts: ImageFacts) -> Optional[Fix]:
    """Put an init in front of the command as the ENTRYPOINT (always unsafe: it changes the image)."""
    import os

    from initify.resources import init_source

    init, why = choose_init(facts)
    entrypoint, cmd = facts.entrypoint, facts.cmd
    if init is None or (entrypoint is not None and entrypoint.form != EXEC) or facts.context_dir is None:
        return None
    final = facts.final.instructions
    newline = facts.dockerfile.newline
    edits: List[Edit] = []
    if init == "python":
        with open(init_source(), encoding="utf-8") as handle:
            source = handle.read()
        context_file = os.path.join(facts.context_dir, *INIT_IN_CONTEXT.split("/"))
        edits.append(Edit(context_file, text=source, whole_file=True, mode=0o755))
        edits.extend(_reinclude_init(facts))
        prepare = ("COPY", f"--chmod=0755 {INIT_IN_CONTEXT} {INIT_IN_IMAGE}")
        front = [INIT_IN_IMAGE] + _rewrite_options(facts) + ["--"]
    else:
        base = known_base(facts)
        assert base is not None and base.package_manager is not None
        if any(i.keyword == "USER" for i in final):
            return None  # a package install would run as that user
        prepare = ("RUN", _PACKAGE_INSTALL[base.package_manager].format(package=init))
        # `tini -g`: a plain `tini --` signals only its child, so a start script's children are
        # SIGKILLed when tini exits; with -g the whole process group gets the stop signal.
        group = ["-g"] if init == "tini" else []
        front = [init] + group + _rewrite_options(facts, init) + ["--"]
    argv = front + (entrypoint.argv if entrypoint is not None else [])
    anchor, before = _insertion_point(facts)
    if anchor is None:
        return None
    lines = [_line(anchor, *prepare)]
    if entrypoint is not None and entrypoint.instruction in final:
        replaced = command_edit(path, entrypoint.instruction, argv)
        if replaced is None:
            return None
        edits.append(Edit(path, entrypoint.instruction.start_line, entrypoint.instruction.start_line - 1, lines[0] + newline))
        edits.append(replaced)
    else:
        lines.append(_line(anchor, "ENTRYPOINT", render_exec(argv)))
        if cmd is not None and cmd.instruction not in final:  # a new ENTRYPOINT resets an inherited CMD
            lines.append(_line(anchor, "CMD", render_exec(cmd.argv) if cmd.form == EXEC else cmd.text))
        block = "".join(line + newline for line in lines)
        if before:
            edits.append(Edit(path, anchor.start_line, anchor.start_line - 1, block))
        else:
            ending = line_ending(anchor.raw)
            text = anchor.raw + (block if ending else newline + block[: -len(newline)])
            edits.append(Edit(path, anchor.start_line, anchor.end_line, text))
    name = "initify-init" if init == "python" else init
    return Fix(tuple(edits), False, f"put {name} in front as ENTRYPOINT ({why})", after_others=True)

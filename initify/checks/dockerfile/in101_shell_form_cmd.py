"""IN101 shell-form-cmd: the image's CMD is shell form, so /bin/sh -c is what the runtime starts."""

from typing import Iterator

from initify.engine import Hit, hit
from initify.dockerfile import rewrite
from initify.dockerfile.facts import SHELL, ImageFacts

CODE = "IN101"
NAME = "shell-form-cmd"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "CMD is shell form: /bin/sh -c becomes PID 1 (or the init's child) and swallows SIGTERM"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    for command in facts.onbuild:
        if command.instruction.keyword == "CMD" and command.form == SHELL:
            yield hit(
                command.instruction,
                f"ONBUILD CMD is shell form: every image built FROM this one gets `/bin/sh -c "
                f"{command.text!r}` as its command; write it as a JSON array",
                fix=rewrite.exec_form_fix(facts.dockerfile.path, command, onbuild=True),
            )
    cmd = facts.cmd
    if cmd is None or cmd.form != SHELL or facts.cmd_dropped:
        return
    shell = " ".join(facts.shell)
    if facts.entrypoint is not None and facts.entrypoint.argv:  # `ENTRYPOINT []` resets it: the shell is PID 1
        where = f"ENTRYPOINT {facts.entrypoint.argv[0]!r} receives `{shell} ...` as its arguments"
    else:
        where = f"{shell} runs as PID 1; it installs no SIGTERM handler and forwards no signal"
    inherited = "" if cmd.instruction in facts.final.instructions else " (inherited from an earlier stage)"
    first = facts.chain[0] if facts.chain else None
    if facts.entrypoint is None and first is not None and first.kind == "shell" and not first.pid1 and not cmd.text.startswith("exec "):
        message = (
            f"CMD is shell form{inherited}: `{shell}` execs a lone command, so {facts.chain[1].argv[0]} "
            f"becomes PID 1 and receives signals, but that holds only while the command stays one simple "
            f"command; exec form is exact and needs no shell; write it as a JSON array"
        )
    elif cmd.text.startswith("exec "):
        message = (
            f"CMD is shell form{inherited}: `exec` already hands PID 1 to the program, so signals do "
            f"arrive, but exec form is exact and needs no shell; write it as a JSON array"
        )
    else:
        message = f"CMD is shell form{inherited}: {where}; write it as a JSON array (exec form)"
    yield hit(cmd.instruction, message, fix=rewrite.exec_form_fix(facts.dockerfile.path, cmd))

"""IN101 shell-form-cmd: the image's CMD is shell form, so /bin/sh -c is what the runtime starts."""

from typing import Iterator

from initify.engine import Hit, hit
from initify.dockerfile import rewrite
from initify.dockerfile.facts import SHELL, ImageFacts, Step, also_init

UNKNOWN_SHELL_CLAUSE = ("if /bin/sh here is dash, as on Debian and Ubuntu; bash and BusyBox exec the last command, "
                        "and this image's shell is not known")


def shell_says(step: Step) -> str:
    """What the shell does with the last command, and how initify knows: `bash execs the last
    command`, or `this image's /bin/sh is busybox (local image x: /bin/sh -> busybox), which execs
    the last command`."""
    fact = step.shell_fact
    program = step.argv[0]
    if str(fact.source).startswith("argv[0] is"):  # type: ignore[union-attr]
        return f"{program} execs the last command"  # `bash -c`: the program names the shell
    return f"this image's {program} is {fact.value} ({fact.source}), which execs the last command"  # type: ignore[union-attr]


def execs_anyway(step: Step) -> str:
    """The middle of IN104/IN204/IN301's note for a shell that execs its last command itself:
    `but bash execs the last command: `app` takes the shell's PID ...; `exec` says so exactly`."""
    last = step.analysis.last_command.strip()  # type: ignore[attr-defined]
    return (f"but {shell_says(step)}: `{last}` takes the shell's PID and gets the stop signal; "
            f"`exec` says so exactly on any shell")


def unknown_shell(step: Step) -> bool:
    """A `sh -c` script ends in a plain command, but whether this /bin/sh execs it is not known."""
    return step.shell_fact is not None and getattr(step.shell_fact, "value", None) is None

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
    # the base image's start script that execs its arguments (docker-entrypoint.sh): the shell takes its PID
    through = facts.chain[0] if facts.chain and facts.chain[0].kind == "passthrough" else None
    direct = facts.entrypoint is None or not facts.entrypoint.argv or through is not None
    if not direct:  # `ENTRYPOINT []` resets it: the shell is PID 1
        where = f"ENTRYPOINT {facts.entrypoint.argv[0]!r} receives `{shell} ...` as its arguments"  # type: ignore[union-attr]
    else:
        where = f"{shell} runs as PID 1; it installs no SIGTERM handler and forwards no signal"
        if through is not None:
            where = f"the base image's ENTRYPOINT {through.argv[0]} execs it, so " + where
    inherited = "" if cmd.instruction in facts.final.instructions else " (inherited from an earlier stage)"
    step = next((s for s in facts.chain if s.kind == "shell" and s.argv == cmd.argv), None)
    if direct and step is not None and step.implicit_exec:
        index = facts.chain.index(step)
        runs = " ".join(facts.chain[index + 1].argv) if index + 1 < len(facts.chain) else step.script.strip()
        found = hit(
            cmd.instruction,
            f"CMD is shell form{inherited}: {shell_says(step)}, so `{runs}` runs as PID 1 "
            f"and gets the stop signal; exec form says so exactly whatever the shell is; write it as a JSON array",
            fix=rewrite.exec_form_fix(facts.dockerfile.path, cmd),
        )
        found.severity = "info"
        yield found
        return
    if direct and step is not None and unknown_shell(step):
        where += f"; {UNKNOWN_SHELL_CLAUSE}"
    if cmd.text.startswith("exec "):
        message = (
            f"CMD is shell form{inherited}: `exec` already hands PID 1 to the program, so signals do "
            f"arrive, but exec form is exact and needs no shell; write it as a JSON array"
        )
    else:
        message = f"CMD is shell form{inherited}: {where}; write it as a JSON array (exec form)"
    pid1 = facts.pid1
    if pid1 is not None and pid1.kind == "shell" and pid1.origin is cmd.instruction:
        message += also_init(facts, pid1)
    yield hit(cmd.instruction, message, fix=rewrite.exec_form_fix(facts.dockerfile.path, cmd))

"""IN102 shell-form-entrypoint: a shell-form ENTRYPOINT runs under /bin/sh -c and drops CMD."""

from typing import Iterator

from initify.engine import Hit, hit
from initify.dockerfile import rewrite
from initify.dockerfile.facts import SHELL, ImageFacts, also_init

CODE = "IN102"
NAME = "shell-form-entrypoint"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "ENTRYPOINT is shell form: /bin/sh -c is PID 1, signals stop there, and CMD is silently ignored"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    for command in facts.onbuild:
        if command.instruction.keyword == "ENTRYPOINT" and command.form == SHELL:
            yield hit(command.instruction, "ONBUILD ENTRYPOINT is shell form: every image built FROM this one starts under /bin/sh -c; write it as a JSON array",
                fix=rewrite.exec_form_fix(facts.dockerfile.path, command, onbuild=True),
            )
    entrypoint = facts.entrypoint
    if entrypoint is None or entrypoint.form != SHELL:
        return
    dropped = ""
    if facts.cmd is not None:
        dropped = f"; it also ignores CMD (line {facts.cmd.instruction.start_line}) and `docker run` arguments"
    first = facts.chain[0] if facts.chain else None
    if entrypoint.text.startswith("exec "):
        problem = "`exec` hands PID 1 to the program, so signals arrive, but the shell still runs first"
    elif first is not None and first.kind == "shell" and not first.pid1 and len(facts.chain) > 1:
        problem = (f"`{' '.join(facts.shell)}` execs a lone command, so {facts.chain[1].argv[0]} becomes PID 1 and "
                   f"receives signals, but only while the command stays one simple command")
    else:
        problem = f"{' '.join(facts.shell)} is PID 1 and does not pass SIGTERM on"
    pid1 = facts.pid1
    also = also_init(facts, pid1) if pid1 is not None and pid1.kind == "shell" else ""
    yield hit(
        entrypoint.instruction,
        f"ENTRYPOINT is shell form: {problem}{dropped}; write it as a JSON array{also}",
        fix=rewrite.exec_form_fix(facts.dockerfile.path, entrypoint, keep_ignoring_args=facts.cmd is not None),
    )

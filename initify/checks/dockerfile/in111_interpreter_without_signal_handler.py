"""IN111 interpreter-without-signal-handler: python/node/ruby/php/deno/bun is PID 1 and its code
from the build context installs no SIGTERM handler, so the kernel drops the stop signal."""

import posixpath
from typing import Iterator

from initify.dockerfile import rewrite
from initify.dockerfile.facts import ImageFacts, inherited_note, pid1_after_fixes
from initify.engine import Hit, hit
from initify.knowledge import loader as knowledge

CODE = "IN111"
NAME = "interpreter-without-signal-handler"
SEVERITY = "warning"
TARGET = "dockerfile"
FIXABLE = True
FIXES = True
FIX_SAFETY = "unsafe"  # the fix puts an init in front: it changes the image
SUMMARY = "an interpreter (python, node, ruby, php, deno, bun) is PID 1 and its code handles no SIGTERM: the kernel drops it"

_HOW = {
    "python": "signal.signal(signal.SIGTERM, handler)",
    "node": "process.on('SIGTERM', ...)",
    "ruby": "trap('TERM') { ... }",
    "php": "pcntl_signal(SIGTERM, ...)",
    "deno": 'Deno.addSignalListener("SIGTERM", ...)',
    "bun": "process.on('SIGTERM', ...)",
}


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows or facts.delivered_signal != "SIGTERM":
        return  # Python and Ruby handle SIGINT themselves; other stop signals are IN108's concern
    pid1 = facts.pid1
    if pid1 is None or pid1.origin is None or facts.init_in_front:
        return
    if pid1.kind not in ("program", "shell", "script"):
        return
    behind = ""
    if pid1.kind in ("shell", "script"):
        # A shell in front that does not exec (IN101-IN105 report it): once it does, as their
        # fixes make it, the interpreter is PID 1. Report that now rather than after the fix.
        after = pid1_after_fixes(facts.chain)
        if after is None or after is pid1 or after.kind != "program":
            return
        pid1, behind = after, "once the shell in front of it execs it (see the finding on that shell), "
    if knowledge.load().interpreter_for(pid1.argv[0] if pid1.argv else "") is None:
        return
    from initify.dockerfile.interpreters import interpreted  # only when an interpreter is PID 1

    found = interpreted(facts, pid1)
    if found is None or found.handler is not None:
        return
    where = found.entry
    if found.script is not None and found.script.source and not found.script.source.startswith("<<"):
        where = f"{found.entry} (from {posixpath.normpath(found.script.source)})"
    where_reported = facts.pid1.origin if facts.pid1 is not None and facts.pid1.origin is not None else pid1.origin
    yield hit(
        where_reported,
        f"{behind}PID 1 is {pid1.argv[0]} running {where}, which installs no SIGTERM handler: the kernel drops "
        f"SIGTERM to a PID 1 without one, so a stop waits out the grace period and ends in SIGKILL, and "
        f"nothing reaps the zombies its subprocesses leave; put an init in front (initify-init, tini, "
        f"dumb-init) or handle SIGTERM in the code ({_HOW[found.interpreter]}){inherited_note(facts, where_reported)}",
        fix=rewrite.init_fix(facts.dockerfile.path, facts),
    )

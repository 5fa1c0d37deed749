"""IN106 missing-init: PID 1 is a shell, a script or a launcher, and no init reaps or forwards."""

from typing import Iterator

from initify.dockerfile import rewrite
from initify.knowledge import signals
from initify.engine import Hit, hit
from initify.dockerfile.facts import MALFORMED, ImageFacts, inherited_note, pid1_after_fixes
from initify.dockerfile.shell import stops_on_term

CODE = "IN106"
NAME = "missing-init"
SEVERITY = "warning"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "unsafe"
FIXES = True
SUMMARY = "no init is PID 1 and PID 1 is a shell, a shell script or a launcher (npm, yarn) whose program never gets the stop signal"

_WHAT = {
    "shell": "a shell",
    "script": "a shell script",
    "launcher": "a launcher",
}


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    pid1 = facts.pid1
    if pid1 is None or pid1.kind not in _WHAT or pid1.origin is None:
        return
    if facts.init_in_front:
        return
    if pid1.kind == "shell" and pid1.script is None and inherited_note(facts, pid1.origin):
        # the base image's default interactive shell (alpine's ["/bin/sh"]), and this Dockerfile
        # sets no command: a base or tool image, given its command at run time (rules/IN106.md)
        return
    after = pid1_after_fixes(facts.chain)
    if after is not pid1 and after is not None and after.kind not in ("shell", "script"):
        # IN101-IN105 report the shell in front, and their fix makes the program PID 1; their
        # message says when an init is still advised. One finding per cause.
        return
    if any(c is not None and c.form == MALFORMED and c.instruction is pid1.origin for c in (facts.entrypoint, facts.cmd)):
        return  # IN103: the JSON meant exec form; its fix runs the intended argv without a shell
    if pid1.kind in ("shell", "script") and (not getattr(pid1.analysis, "ok", True) or stops_on_term(pid1.analysis)):
        return  # the script's tail is unknown (say nothing), or it is a deliberate signal handler
    program = pid1.argv[0]
    if pid1.kind == "script" and pid1.context_script is not None:
        program = pid1.context_script.image_path
    fix = rewrite.init_fix(facts.dockerfile.path, facts)
    hint = ""
    if fix is None and facts.fix_init != "none":
        init, why = rewrite.choose_init(facts)
        hint = f"; `initify fix` cannot inject one: {why}" if init is None else ""
    if pid1.kind == "launcher":
        message = f"PID 1 is a launcher ({program}): {signals.launcher_problem(program)} (initify-init, tini, dumb-init){hint}"
    else:
        message = (f"PID 1 is {_WHAT[pid1.kind]} ({program}): the kernel drops SIGTERM to a PID 1 without a handler "
                   f"and nothing reaps orphaned children; put an init in front (initify-init, tini, dumb-init) "
                   f"or exec the app directly{hint}")
    yield hit(pid1.origin, message + inherited_note(facts, pid1.origin), fix=fix)

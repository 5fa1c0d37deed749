"""IN107 systemd-without-stopsignal: systemd as PID 1 only halts on SIGRTMIN+3."""

from typing import Iterator

from initify.dockerfile import rewrite
from initify.engine import Hit, hit
from initify.dockerfile.facts import ImageFacts, inherited_note

CODE = "IN107"
NAME = "systemd-without-stopsignal"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
FIXES = True
SUMMARY = "PID 1 is systemd and STOPSIGNAL is not SIGRTMIN+3: on SIGTERM systemd re-executes itself and keeps running"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    pid1 = facts.pid1
    if pid1 is None or pid1.kind != "init" or pid1.init is None or pid1.init.key != "systemd" or pid1.origin is None:
        return
    signal = facts.stopsignal
    if signal is not None and (signal.name == "SIGRTMIN+3" or signal.unresolved):
        return
    fix = rewrite.stopsignal_fix(facts.dockerfile.path, facts, "SIGRTMIN+3", "STOPSIGNAL SIGRTMIN+3 for systemd")
    unknown = ""
    if pid1.init_fact is None and "systemd" not in pid1.argv[0]:
        # /sbin/init of an image initify cannot see: systemd on most distributions, BusyBox init on
        # Alpine (where SIGRTMIN+3 would turn a clean stop into a SIGKILL): say so, fix only when asked
        unknown = f" (taking {pid1.argv[0]} to be systemd: what it is in {facts.base_image} is not known)"
        if fix is not None:
            fix = fix._replace(safe=False)
    if signal is None:
        yield hit(
            pid1.origin,
            "PID 1 is systemd but the image has no STOPSIGNAL: the runtime sends SIGTERM, systemd "
            "re-executes itself instead of halting and is SIGKILLed after the grace period; "
            f"add `STOPSIGNAL SIGRTMIN+3`{unknown}{inherited_note(facts, pid1.origin)}",
            fix=fix,
        )
    else:
        yield hit(
            signal.instruction,
            f"PID 1 is systemd but STOPSIGNAL is {signal.raw}: systemd halts only on SIGRTMIN+3; "
            f"write `STOPSIGNAL SIGRTMIN+3`{unknown}{inherited_note(facts, signal.instruction, stopsignal=True)}",
            fix=fix,
        )

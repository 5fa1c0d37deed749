"""IN109 invalid-stopsignal: STOPSIGNAL names no Linux signal, or one that allows no clean stop."""

from typing import Iterator, Optional

from initify.knowledge import loader as knowledge
from initify.dockerfile import rewrite
from initify.engine import Fix, Hit, hit
from initify.dockerfile.facts import ImageFacts, inherited_note
from initify.knowledge.signals import UNCATCHABLE

CODE = "IN109"
NAME = "invalid-stopsignal"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
FIXES = True
SUMMARY = "STOPSIGNAL names no Linux signal, or is SIGKILL/SIGSTOP (no graceful stop possible)"


def check(facts: ImageFacts) -> Iterator[Hit]:
    signal = facts.stopsignal
    if facts.windows or signal is None or signal.unresolved:
        return
    if signal.name is None or signal.name in UNCATCHABLE:
        fix = _fix(facts)
    if signal.name is None:
        yield hit(
            signal.instruction,
            f"STOPSIGNAL {signal.raw} is not a Linux signal: the runtime refuses to stop the container "
            f"or falls back to SIGTERM (CRI-O); write a SIG-prefixed name such as SIGTERM{inherited_note(facts, signal.instruction, stopsignal=True)}",
            fix=fix,
        )
    elif signal.name in UNCATCHABLE:
        yield hit(
            signal.instruction,
            f"STOPSIGNAL {signal.raw} cannot be caught: the app gets no chance to shut down cleanly; "
            f"use the signal it handles (usually SIGTERM){inherited_note(facts, signal.instruction, stopsignal=True)}",
            fix=fix,
        )


def _fix(facts: ImageFacts) -> Optional[Fix]:
    """The signal the program handles: systemd's SIGRTMIN+3, a known daemon's, else SIGTERM."""
    signal = "SIGTERM"
    pid1, main = facts.pid1, facts.main
    if pid1 is not None and pid1.init is not None and pid1.init.key == "systemd":
        signal = "SIGRTMIN+3"
    elif main is not None and main.kind == "program":
        daemon = knowledge.load().daemon_for(main.argv[0])
        if daemon is not None:
            signal = daemon.stop_signal
    return rewrite.stopsignal_fix(facts.dockerfile.path, facts, signal, f"STOPSIGNAL {signal}")

"""IN109 invalid-stopsignal: STOPSIGNAL names no Linux signal, or one that allows no clean stop."""

from typing import Iterator

from initify.engine import Hit, hit
from initify.facts import ImageFacts
from initify.signals import UNCATCHABLE

CODE = "IN109"
NAME = "invalid-stopsignal"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
SUMMARY = "STOPSIGNAL names no Linux signal, or is SIGKILL/SIGSTOP (no graceful stop possible)"


def check(facts: ImageFacts) -> Iterator[Hit]:
    signal = facts.stopsignal
    if facts.windows or signal is None or signal.unresolved:
        return
    if signal.name is None:
        yield hit(
            signal.instruction,
            f"STOPSIGNAL {signal.raw} is not a Linux signal: the runtime refuses to stop the container "
            f"or falls back to SIGTERM (CRI-O); write a SIG-prefixed name such as SIGTERM",
        )
    elif signal.name in UNCATCHABLE:
        yield hit(
            signal.instruction,
            f"STOPSIGNAL {signal.raw} cannot be caught: the app gets no chance to shut down cleanly; "
            f"use the signal it handles (usually SIGTERM)",
        )

"""IN303 compose-systemd-stop-signal: systemd service without a SIGRTMIN+3 stop signal."""

from typing import Iterator, Optional

from initify.knowledge import signals
from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import hit_at
from initify.compose.services import ServiceFacts

CODE = "IN303"
NAME = "compose-systemd-stop-signal"
SEVERITY = "warning"
TARGET = "compose-service"
FIXABLE = True
FIXES = True
SUMMARY = "a systemd service whose image STOPSIGNAL is unknown or not SIGRTMIN+3 and has no `stop_signal: SIGRTMIN+3`"

WANTED = "SIGRTMIN+3"


def _fix(subject: ServiceFacts) -> Optional[Fix]:
    edit = yaml_edit.set_key(subject.compose, subject.service.node, "stop_signal", WANTED)
    return Fix((edit,), safe=True, note=f"stop_signal: {WANTED}") if edit is not None else None


def check(subject: ServiceFacts) -> Iterator[Hit]:
    if not subject.systemd:
        return
    service = subject.service
    name = service.name
    if service.stop_signal is not None:
        if signals.normalise(service.stop_signal) == WANTED:
            return
        found = hit_at(
            subject.compose.text, service.line_of("stop_signal"),
            f"service {name!r}: PID 1 is systemd, which halts only on SIGRTMIN+3, but `stop_signal` is "
            f"{service.stop_signal}; write `stop_signal: SIGRTMIN+3`",
        )
        found.fix = _fix(subject)
        yield found
        return
    image = subject.image
    if image is not None and image.stopsignal is not None and image.stopsignal.name == WANTED:
        return
    if image is None:
        why = "the image is not paired with a Dockerfile, so its STOPSIGNAL is unknown"
    elif image.stopsignal is None:
        why = "the image sets no STOPSIGNAL, so docker sends SIGTERM and systemd only re-executes itself (daemon-reexec)"
    else:
        why = f"the image STOPSIGNAL is {image.stopsignal.raw}"
    found = hit_at(
        subject.compose.text, service.line,
        f"service {name!r}: PID 1 is systemd, which halts only on SIGRTMIN+3, and {why}; add `stop_signal: SIGRTMIN+3`",
    )
    found.fix = _fix(subject)
    yield found

"""IN303 compose-systemd-stop-signal: systemd service without a SIGRTMIN+3 stop signal."""

from typing import Iterator, Optional

from initify.knowledge import signals
from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import assumed_clause, hit_at
from initify.compose.services import ServiceFacts

CODE = "IN303"
NAME = "compose-systemd-stop-signal"
SEVERITY = "warning"
TARGET = "compose-service"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "a systemd service whose image STOPSIGNAL is unknown or not SIGRTMIN+3 and has no `stop_signal: SIGRTMIN+3`"

WANTED = "SIGRTMIN+3"


def _fix(subject: ServiceFacts) -> Optional[Fix]:
    """`stop_signal: SIGRTMIN+3`; unsafe where systemd is only assumed (on BusyBox init it would
    replace the SIGTERM that stops it with a signal it ignores)."""
    edit = yaml_edit.set_key(subject.compose, subject.service.node, "stop_signal", WANTED)
    return Fix((edit,), safe=not subject.systemd_assumed, note=f"stop_signal: {WANTED}") if edit is not None else None


def check(subject: ServiceFacts) -> Iterator[Hit]:
    if not subject.systemd:
        return
    service = subject.service
    name = service.name
    who = "PID 1 is systemd, which halts only on SIGRTMIN+3"
    if subject.systemd_assumed:
        who += f" ({assumed_clause(subject.systemd_step, subject.image_reference)})"  # type: ignore[arg-type]
    if service.stop_signal is not None:
        if signals.normalise(service.stop_signal) == WANTED:
            return
        found = hit_at(
            subject.compose.text, service.line_of("stop_signal"),
            f"service {name!r}: {who}, but `stop_signal` is {service.stop_signal}; write `stop_signal: SIGRTMIN+3`",
        )
        found.fix = _fix(subject)
        yield found
        return
    image = subject.image
    signal = subject.image_stop_signal  # the paired Dockerfile's, else the image's own (initify.image.facts)
    if signal == WANTED:
        return
    if not subject.image_stop_signal_known:
        why = "the image is not paired with a Dockerfile and not read here, so its STOPSIGNAL is unknown"
    elif signal is None:
        why = "the image sets no STOPSIGNAL, so docker sends SIGTERM and systemd only re-executes itself (daemon-reexec)"
    elif image is not None and image.stopsignal is not None:
        why = f"the image STOPSIGNAL is {image.stopsignal.raw}"
    else:
        why = f"the image STOPSIGNAL is {signal}"
    found = hit_at(
        subject.compose.text, service.line,
        f"service {name!r}: {who}, and {why}; add `stop_signal: SIGRTMIN+3`",
    )
    found.fix = _fix(subject)
    yield found

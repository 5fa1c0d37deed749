"""IN302 compose-stop-grace-too-short: stop_grace_period below what a systemd or multi-service image needs."""

from typing import Iterator

from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import MULTI_SERVICE_SECONDS, assumed_clause, hit_at
from initify.compose.services import ServiceFacts

CODE = "IN302"
NAME = "compose-stop-grace-too-short"
SEVERITY = "warning"
TARGET = "compose-service"
FIXABLE = True
FIXES = True
SUMMARY = "compose stop_grace_period (default 10 s) is below what the service needs (systemd or multi-service init: 100 s)"


def check(subject: ServiceFacts) -> Iterator[Hit]:
    if not subject.multi_service or subject.grace_seconds >= MULTI_SERVICE_SECONDS:
        return
    service = subject.service
    what = "systemd" if subject.systemd else "an init that stops several services"
    if subject.systemd_assumed:
        what += f" ({assumed_clause(subject.systemd_step, subject.image_reference)})"  # type: ignore[arg-type]
    if service.stop_grace_period is None:
        line, current = service.line, "the default 10 s"
    else:
        line, current = service.line_of("stop_grace_period"), f"{subject.grace_seconds:g} s"
    found = hit_at(
        subject.compose.text, line,
        f"service {service.name!r}: stop_grace_period is {current}, but PID 1 is {what}, which needs up to "
        f"{MULTI_SERVICE_SECONDS} s to stop its services before SIGKILL; set `stop_grace_period: {MULTI_SERVICE_SECONDS}s`",
    )
    edit = yaml_edit.set_key(subject.compose, service.node, "stop_grace_period", f"{MULTI_SERVICE_SECONDS}s")
    if edit is not None:
        found.fix = Fix((edit,), safe=True, note=f"stop_grace_period: {MULTI_SERVICE_SECONDS}s")
    yield found

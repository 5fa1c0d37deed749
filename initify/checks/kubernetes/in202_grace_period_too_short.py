"""IN202 grace-period-too-short: terminationGracePeriodSeconds below what the pod's containers need."""

from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple

from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import (MULTI_SERVICE_SECONDS, ContainerFacts, PodFacts, assumed_clause, hit_at,
                                     is_multi_service, prestop_sleep, systemd_assumed)

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN202"
NAME = "grace-period-too-short"
SEVERITY = "warning"
TARGET = "pod"
FIXABLE = True
FIXES = True
SUMMARY = "terminationGracePeriodSeconds (default 30) is below what the containers need: 100 s for systemd or multi-service images, preStop sleep + 10 s"


def need(subject: ContainerFacts, grace: int) -> Optional[Tuple[int, str]]:
    """(seconds, why) a container needs to stop cleanly, or None when the default is fine."""
    needs: List[Tuple[int, str]] = []
    pid1 = subject.pid1
    if is_multi_service(pid1) and pid1 is not None and pid1.init is not None:
        assumed = f" ({assumed_clause(pid1, subject.image_reference)})" if systemd_assumed(pid1) else ""
        needs.append((MULTI_SERVICE_SECONDS, f"PID 1 is {pid1.init.key}{assumed}, which stops every service it started "
                                             f"(systemd allows each unit 90 s by default)"))
    seconds = prestop_sleep(subject.container.pre_stop)
    if seconds is not None and seconds < grace:  # a longer sleep is IN203's error
        needs.append((seconds + 10, f"its preStop hook sleeps {seconds} s before the app gets its stop signal"))
    return max(needs) if needs else None


def check(pod: PodFacts) -> Iterator[Hit]:
    grace = pod.grace_seconds
    worst: Optional[Tuple[int, str, ContainerFacts]] = None
    for subject in pod.containers:
        if not subject.running:
            continue
        found = need(subject, grace)
        if found is not None and found[0] > grace and (worst is None or found[0] > worst[0]):
            worst = (found[0], found[1], subject)
    if worst is None:
        return
    seconds, why, subject = worst
    if pod.pod.termination_grace_period is None:
        line = subject.container.line
        current = "the default 30 s"
    else:
        line = pod.pod.line_of("terminationGracePeriodSeconds")
        current = f"{grace} s"
    found = hit_at(
        pod.manifest.text, line,
        f"terminationGracePeriodSeconds is {current}, but container {subject.container.name!r} needs at least "
        f"{seconds} s: {why}; set `terminationGracePeriodSeconds: {seconds}` in the pod spec",
    )
    edit = yaml_edit.set_key(pod.manifest, pod.pod.node, "terminationGracePeriodSeconds", seconds, first=True)
    if edit is not None:
        found.fix = Fix((edit,), safe=True, note=f"terminationGracePeriodSeconds: {seconds}")
    yield found


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): systemd or another multi-service init as PID 1 (from
    `command`) with a grace period below the params' `multiServiceGraceSeconds`, or a preStop
    sleep that leaves less than `preStopMarginSeconds` for the app."""
    from initify.kubernetes import admission as cel

    names, paths = cel.multi_service_inits()
    near = cel.prestop_sleeps_at_least("variables.nearS", "variables.sleepNearGrace")
    over = cel.prestop_sleeps_at_least("variables.grace", "variables.sleepAtLeastGrace")
    return cel.PolicyCheck(
        code=CODE,
        fails=(f"({cel.pid1_is(names, paths)} && variables.grace < int(params.data.multiServiceGraceSeconds)) "
               f"|| ({near} && !({over}))"),
        message=f"{CODE} {NAME}: terminationGracePeriodSeconds (default 30) is below what a container needs: "
                "100 s for systemd or another multi-service init, a preStop sleep + 10 s",
        detail="needs a longer terminationGracePeriodSeconds (100 s for a multi-service init, preStop sleep + 10 s)",
    )

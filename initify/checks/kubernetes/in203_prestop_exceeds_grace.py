"""IN203 prestop-exceeds-grace: a preStop sleep as long as the whole termination grace period."""

from typing import TYPE_CHECKING, Iterator

from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import SLEEP_ACTION_SINCE, ContainerFacts, hit_at, prestop_sleep

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN203"
NAME = "prestop-exceeds-grace"
SEVERITY = "error"
TARGET = "container"
FIXABLE = True
FIXES = True
SUMMARY = "a preStop sleep (sleep.seconds or an exec `sleep N`) lasts as long as terminationGracePeriodSeconds or longer"


def check(subject: ContainerFacts) -> Iterator[Hit]:
    hook = subject.container.pre_stop
    seconds = prestop_sleep(hook)
    grace = subject.pod.termination_grace_period
    grace = 30 if grace is None else grace
    if hook is None or seconds is None or seconds < grace:
        return
    if grace == 0 and hook.action != "sleep":  # the kubelet skips preStop when the grace period is 0
        return
    name = subject.container.name
    if hook.action == "sleep" and seconds > grace:
        message = (
            f"container {name!r}: preStop `sleep.seconds: {seconds}` exceeds terminationGracePeriodSeconds "
            f"({grace}): the API server rejects the pod"
        )
    else:
        message = (
            f"container {name!r}: the preStop hook sleeps {seconds} s, the whole grace period ({grace} s, counted "
            f"from before the hook): the app gets its stop signal at most 2 s before SIGKILL"
        )
    message += f"; sleep less, or raise terminationGracePeriodSeconds to at least {seconds + 10}"
    if hook.action == "exec" and subject.k8s_version >= SLEEP_ACTION_SINCE:
        message += "; prefer the `sleep: {seconds: N}` action, which needs no `sleep` binary in the image"
        base = subject.minimal_base
        if base is not None:
            message += f" ({base} has none)"
    found = hit_at(subject.manifest.text, hook.line, message)
    edit = yaml_edit.set_key(subject.manifest, subject.pod.node, "terminationGracePeriodSeconds", seconds + 10, first=True)
    if edit is not None:
        found.fix = Fix((edit,), safe=True, note=f"terminationGracePeriodSeconds: {seconds + 10}")
    yield found


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): exact for the sleep action and an exec `sleep N...`;
    in a `sh -c` preStop script one `sleep N` alone must reach the grace period."""
    from initify.kubernetes import admission as cel

    return cel.PolicyCheck(
        code=CODE,
        fails=(f"{cel.prestop_sleeps_at_least('variables.grace', 'variables.sleepAtLeastGrace')} "
               f"&& (variables.grace > 0 || {cel.prestop_sleep_action()})"),
        message=f"{CODE} {NAME}: a preStop sleep lasts the whole terminationGracePeriodSeconds (default 30): "
                "the app gets its stop signal at most 2 s before SIGKILL; sleep less or raise the grace period",
        detail="its preStop hook sleeps as long as terminationGracePeriodSeconds or longer; sleep less or raise the grace period",
        containers="variables.containers",
    )

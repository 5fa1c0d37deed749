"""IN205 systemd-without-tty: systemd as PID 1 writes its status to the console, which needs a TTY."""

from typing import TYPE_CHECKING, Iterator

from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import ContainerFacts, hit_at

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN205"
NAME = "systemd-without-tty"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = True
FIX_SAFETY = "unsafe"
FIXES = True
SUMMARY = "PID 1 is systemd and the container has no `tty: true`: its console output is lost"


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows or not subject.systemd or subject.container.tty:
        return
    if subject.systemd_assumed:
        return  # /sbin/init of an image whose init is not known: IN201 says so, once (rules/IN205.md)
    container = subject.container
    found = hit_at(
        subject.manifest.text, container.line,
        f"container {container.name!r}: PID 1 is systemd but `tty: true` is not set: systemd writes boot and "
        f"shutdown messages to /dev/console, which without a TTY goes nowhere (`kubectl logs` stays empty); "
        f"add `tty: true`",
    )
    edit = yaml_edit.set_key(subject.manifest, container.node, "tty", True)
    if edit is not None:  # unsafe: every process of the container now sees a TTY (see rules/IN205.md)
        found.fix = Fix((edit,), safe=False, note="added tty: true")
    yield found


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): `command` starts systemd, directly or by `exec` at the
    end of `sh -c`, and `tty` is not true."""
    from initify.kubernetes import admission as cel

    names, paths = cel.systemd()
    return cel.PolicyCheck(
        code=CODE,
        fails=f"!variables.windows && !(has(c.tty) && c.tty == true) && {cel.pid1_is(names, paths)}",
        message=f"{CODE} {NAME}: PID 1 is systemd but `tty: true` is not set: its boot and shutdown "
                "messages go nowhere; add `tty: true`",
        detail="PID 1 is systemd but `tty: true` is not set; add `tty: true`",
    )

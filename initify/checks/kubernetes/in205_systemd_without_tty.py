"""IN205 systemd-without-tty: systemd as PID 1 writes its status to the console, which needs a TTY."""

from typing import Iterator

from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.pods import ContainerFacts, hit_at

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

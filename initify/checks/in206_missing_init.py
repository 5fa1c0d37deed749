"""IN206 missing-init (Kubernetes): what `command`/`args` make PID 1 is a shell, script or launcher."""

from typing import Iterator

from initify.engine import Hit
from initify.pods import ContainerFacts, hit_at

CODE = "IN206"
NAME = "missing-init"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = False
SUMMARY = "a container's command/args make a shell, script or launcher PID 1 (or drop the image's init) and no init is in front"

_WHAT = {
    "shell": "a shell",
    "script": "a shell script",
    "launcher": "a launcher that does not forward signals",
}


def _init_dropped(subject: ContainerFacts) -> bool:
    """`command` replaced an ENTRYPOINT whose PID 1 was an init that supervises its argv."""
    if subject.source != "command" or not subject.image_chain:
        return False
    first = subject.image_chain[0]
    return first.kind == "init" and first.init is not None and first.init.supervises_argv


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows or subject.pod.share_process_namespace:
        return
    pid1 = subject.pid1
    if pid1 is None or any(step.kind == "init" for step in subject.chain):
        return
    line = subject.manifest_line
    name = subject.container.name
    if pid1.kind in _WHAT and subject.manifest_made(pid1):
        program = pid1.context_script.image_path if pid1.context_script is not None else pid1.argv[0]
        yield hit_at(
            subject.manifest.text, line,
            f"container {name!r}: {subject.source} makes PID 1 {_WHAT[pid1.kind]} ({program}): it ignores "
            f"SIGTERM and reaps no orphans; put an init in front (tini, dumb-init, initify-init), exec the "
            f"app directly, or set `shareProcessNamespace: true` so the pause container reaps",
        )
    elif _init_dropped(subject):
        init = subject.image_chain[0].argv[0]
        yield hit_at(
            subject.manifest.text, line,
            f"container {name!r}: `command` replaces the image ENTRYPOINT, so its init ({init}) is gone and "
            f"{pid1.argv[0]} runs as PID 1; put the app in `args` only, or start `command` with the init",
        )

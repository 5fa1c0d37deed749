"""IN207 stopsignal-needs-os: lifecycle.stopSignal is only valid with spec.os.name."""

from typing import TYPE_CHECKING, Iterator

from typing import Optional

from initify.kubernetes import yaml_edit
from initify.engine import Edit, Fix, Hit
from initify.kubernetes.manifests import PodSpec, is_mapping
from initify.kubernetes.pods import PodFacts, hit_at

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN207"
NAME = "stopsignal-needs-os"
SEVERITY = "error"
TARGET = "pod"
FIXABLE = True
FIXES = True
SUMMARY = "a container sets lifecycle.stopSignal but the pod spec has no `os.name`: the API server rejects it"


def linux_os_edit(loaded: object, pod: PodSpec) -> Optional[Edit]:
    """The edit that sets `os.name: linux` in the pod spec (into an existing `os:` mapping)."""
    current = pod.node.get("os")
    if is_mapping(current):
        return yaml_edit.set_key(loaded, current, "name", "linux")  # type: ignore[arg-type]
    return yaml_edit.set_key(loaded, pod.node, "os", {"name": "linux"}, first=True)  # type: ignore[arg-type]


def check(pod: PodFacts) -> Iterator[Hit]:
    if pod.pod.os_name is not None:
        return
    for subject in pod.containers:
        if subject.container.stop_signal is not None:
            found = hit_at(
                pod.manifest.text, subject.stop_signal_line(),
                f"container {subject.container.name!r} sets `lifecycle.stopSignal` but the pod spec has no "
                f"`os.name`: the API server rejects the pod (KEP-4960); add `os: {{name: linux}}` to the pod spec",
            )
            edit = linux_os_edit(pod.manifest, pod.pod)
            if edit is not None:
                found.fix = Fix((edit,), safe=True, note="added os.name: linux")
            yield found
            return


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): exact."""
    from initify.kubernetes import admission as cel

    return cel.PolicyCheck(
        code=CODE,
        fails=("!(has(variables.spec.os) && has(variables.spec.os.name)) && "
               "has(c.lifecycle) && has(c.lifecycle.stopSignal)"),
        message=f"{CODE} {NAME}: a container sets lifecycle.stopSignal but the pod spec has no `os.name`: "
                "the API server rejects the pod; add `os: {name: linux}`",
        detail="sets lifecycle.stopSignal but the pod spec has no `os.name`; add `os: {name: linux}`",
        containers="variables.containers",
    )

"""IN207 stopsignal-needs-os: lifecycle.stopSignal is only valid with spec.os.name."""

from typing import Iterator

from initify.engine import Hit
from initify.pods import PodFacts, hit_at

CODE = "IN207"
NAME = "stopsignal-needs-os"
SEVERITY = "error"
TARGET = "pod"
FIXABLE = False
SUMMARY = "a container sets lifecycle.stopSignal but the pod spec has no `os.name`: the API server rejects it"


def check(pod: PodFacts) -> Iterator[Hit]:
    if pod.pod.os_name is not None:
        return
    for subject in pod.containers:
        if subject.container.stop_signal is not None:
            yield hit_at(
                pod.manifest.text, subject.stop_signal_line(),
                f"container {subject.container.name!r} sets `lifecycle.stopSignal` but the pod spec has no "
                f"`os.name`: the API server rejects the pod (KEP-4960); add `os: {{name: linux}}` to the pod spec",
            )
            return

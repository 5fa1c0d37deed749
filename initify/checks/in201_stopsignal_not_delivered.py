"""IN201 stopsignal-not-delivered: PID 1 needs a signal other than SIGTERM and the pod spec does not send it."""

from typing import Iterator, List

from initify import signals
from initify.engine import Hit
from initify.pods import STOP_SIGNAL_SINCE, ContainerFacts, hit_at, kill_spelling, minimal_base, prestop_signal

CODE = "IN201"
NAME = "stopsignal-not-delivered"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = False
SUMMARY = "the image needs a stop signal other than SIGTERM (systemd: SIGRTMIN+3) and the container has no preStop kill or lifecycle.stopSignal that sends it"

RUNTIMES = (
    "containerd < 1.6 cannot parse SIGRTMIN+3 and CRI-O 1.18 to 1.22.1 silently send SIGTERM instead"
)


def _remedies(subject: ContainerFacts, wanted: str) -> List[str]:
    remedies = []
    if not subject.pod.share_process_namespace:
        command = f'["kill", "{kill_spelling(wanted)}", "1"]'
        remedy = f"a preStop hook `exec: command: {command}`"
        base = minimal_base(subject.image)
        if base is not None:
            remedy += f" (it needs a `kill` binary, which the base image {base} does not have)"
        remedies.append(remedy)
    if subject.k8s_version >= STOP_SIGNAL_SINCE:
        remedies.append(
            f"`lifecycle.stopSignal: {wanted}` with `spec.os.name: linux` (Kubernetes >= 1.33, alpha gate "
            f"ContainerStopSignals, containerd >= 2.3 or CRI-O >= 1.33)"
        )
    return remedies


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows:
        return
    wanted = subject.wanted_signal
    if wanted is None or wanted == "SIGTERM":
        return
    container = subject.container
    severity = "error" if subject.systemd else None
    who = "PID 1 is systemd, which halts only on SIGRTMIN+3" if subject.systemd else f"the image stops on {wanted}"
    pod_signal = signals.normalise(container.stop_signal) if container.stop_signal else None
    if pod_signal is not None and subject.k8s_version >= STOP_SIGNAL_SINCE:
        if pod_signal == wanted:
            return
        line = subject.stop_signal_line()
        yield hit_at(
            subject.manifest.text, line,
            f"container {container.name!r}: {who}, but `lifecycle.stopSignal` sends {pod_signal} and wins over "
            f"the image STOPSIGNAL; set it to {wanted}",
            severity,
        )
        return
    sent = prestop_signal(container.pre_stop)
    if sent == wanted and not subject.pod.share_process_namespace:
        return
    if sent is not None and subject.pod.share_process_namespace:
        problem = "the preStop `kill ... 1` signals the pause container, because `shareProcessNamespace: true` makes it PID 1"
    elif subject.image is not None and subject.image_stop_signal == wanted:
        problem = f"the pod relies on the runtime honouring the image STOPSIGNAL ({RUNTIMES})"
    elif subject.image is not None:
        problem = "the image sets no matching STOPSIGNAL, so the runtime sends SIGTERM"
    else:
        problem = "the image is not paired with a Dockerfile, so nothing says the runtime sends it"
    if pod_signal is not None:
        problem += f"; `lifecycle.stopSignal` is ignored before Kubernetes 1.33 (--k8s-version is {subject.k8s_version[0]}.{subject.k8s_version[1]})"
    remedies = _remedies(subject, wanted)
    fix = "; use " + " or ".join(remedies) if remedies else ""
    line = container.pre_stop.line if container.pre_stop is not None else container.line
    yield hit_at(subject.manifest.text, line, f"container {container.name!r}: {who}, but {problem}{fix}", severity)

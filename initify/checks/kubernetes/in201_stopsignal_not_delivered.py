"""IN201 stopsignal-not-delivered: PID 1 needs a signal other than SIGTERM and the pod spec does not send it."""

import json
from typing import Any, Iterator, List, Optional

from initify.knowledge import signals
from initify.kubernetes import yaml_edit
from initify.checks.kubernetes.in207_stopsignal_needs_os import linux_os_edit
from initify.engine import Edit, Fix, Hit
from initify.kubernetes.manifests import is_mapping
from initify.kubernetes.pods import STOP_SIGNAL_SINCE, ContainerFacts, assumed_clause, hit_at, kill_spelling, prestop_signal

CODE = "IN201"
NAME = "stopsignal-not-delivered"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "the image needs a stop signal other than SIGTERM (systemd: SIGRTMIN+3) and the container has no preStop kill or lifecycle.stopSignal that sends it"

def _remedies(subject: ContainerFacts, wanted: str) -> List[str]:
    remedies = []
    if not subject.pod.share_process_namespace:
        command, _ = subject.kill_command(wanted)
        if command is not None:
            remedies.append("a preStop hook `exec: command: " + json.dumps(command) + "`")
        else:
            base = subject.minimal_base or "this image"
            remedies_note = f"no preStop exec hook can work: {base} has neither a shell nor a `kill`"
            if subject.k8s_version < STOP_SIGNAL_SINCE:
                return [remedies_note + "; only the runtime honouring the image STOPSIGNAL delivers it"]
            remedies.append(f"({remedies_note})")
    if subject.k8s_version >= STOP_SIGNAL_SINCE:
        remedies.append(
            f"`lifecycle.stopSignal: {wanted}` with `spec.os.name: linux` (Kubernetes >= 1.33, alpha gate "
            f"ContainerStopSignals, containerd >= 2.3 or CRI-O >= 1.33)"
        )
    return remedies


def _lifecycle_edit(subject: ContainerFacts, lifecycle: Any, key: str, value: Any) -> Optional[Edit]:
    """Set `lifecycle.<key>` of the container, adding `lifecycle:` when it is missing."""
    if lifecycle is None:
        return yaml_edit.set_key(subject.manifest, subject.container.node, "lifecycle", {key: value})
    return yaml_edit.set_key(subject.manifest, lifecycle, key, value)


def _fix(subject: ContainerFacts, wanted: str) -> Optional[Fix]:
    """preStop `kill -SIG 1`, or with --stopsignal-field (Kubernetes >= 1.33) lifecycle.stopSignal
    plus `os.name: linux`. An existing preStop hook is kept: no fix then."""
    container = subject.container
    lifecycle = container.node.get("lifecycle")
    if lifecycle is not None and not is_mapping(lifecycle):
        return None
    if subject.stop_signal_field and subject.k8s_version >= STOP_SIGNAL_SINCE:
        edit = _lifecycle_edit(subject, lifecycle, "stopSignal", wanted)
        if edit is None:
            return None
        edits = (edit,)
        if subject.pod.os_name is None:
            os_edit = linux_os_edit(subject.manifest, subject.pod)
            if os_edit is None:
                return None
            edits = (os_edit, edit)
        return Fix(edits, safe=True, note=f"lifecycle.stopSignal: {wanted}")
    if container.pre_stop is not None or subject.pod.share_process_namespace:
        return None
    command, known = subject.kill_command(wanted)
    if command is None:
        return None  # neither a shell nor a kill in the image
    hook = {"exec": {"command": command}}
    edit = _lifecycle_edit(subject, lifecycle, "preStop", hook)
    if edit is None:
        return None
    # safe only when the image is known to have this `kill` (the paired Dockerfile's base, or the image itself)
    return Fix((edit,), safe=known and subject.image_known, note=f"preStop kill {kill_spelling(wanted)} 1")


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows:
        return
    wanted = subject.wanted_signal
    if wanted is None or wanted == "SIGTERM":
        return
    container = subject.container
    assumed = subject.systemd_assumed  # /sbin/init of an image whose init is not known
    severity = "error" if subject.systemd and not assumed else None
    who = "PID 1 is systemd, which halts only on SIGRTMIN+3" if subject.systemd else f"the image stops on {wanted}"
    if assumed:
        who += f" ({assumed_clause(subject.pid1, subject.image_reference)})"  # type: ignore[arg-type]
    pod_signal = signals.normalise(container.stop_signal) if container.stop_signal else None
    if pod_signal is not None and subject.k8s_version >= STOP_SIGNAL_SINCE:
        if pod_signal == wanted:
            return
        line = subject.stop_signal_line()
        found = hit_at(
            subject.manifest.text, line,
            f"container {container.name!r}: {who}, but `lifecycle.stopSignal` sends {pod_signal} and wins over "
            f"the image STOPSIGNAL; set it to {wanted}",
            severity,
        )
        edit = yaml_edit.set_key(subject.manifest, container.node["lifecycle"], "stopSignal", wanted)
        if edit is not None:
            found.fix = Fix((edit,), safe=not assumed, note=f"lifecycle.stopSignal: {wanted}")
        yield found
        return
    sent = prestop_signal(container.pre_stop)
    if sent == wanted and not subject.pod.share_process_namespace:
        return
    if sent is not None and subject.pod.share_process_namespace:
        problem = "the preStop `kill ... 1` signals the pause container, because `shareProcessNamespace: true` makes it PID 1"
    elif subject.image_known and subject.image_stop_signal == wanted:
        risk = signals.runtime_risk(subject.image_stop_signal_spelling or wanted)
        if risk is None:
            return  # every containerd and CRI-O since 2017 sends a SIG-prefixed standard name
        problem = f"the pod relies on the runtime honouring the image STOPSIGNAL ({risk})"
    elif subject.image_known:
        problem = "the image sets no matching STOPSIGNAL, so the runtime sends SIGTERM"
    else:
        problem = "the image is not paired with a Dockerfile, so nothing says the runtime sends it"
    if pod_signal is not None:
        problem += f"; `lifecycle.stopSignal` is ignored before Kubernetes 1.33 (--k8s-version is {subject.k8s_version[0]}.{subject.k8s_version[1]})"
    if container.pre_stop is not None and sent is None:
        problem += f"; the existing preStop hook sends no signal to PID 1 (add `kill {kill_spelling(wanted)} 1` to it)"
    remedies = _remedies(subject, wanted)
    advice = "; use " + " or ".join(remedies) if remedies else ""
    line = container.pre_stop.line if container.pre_stop is not None else container.line
    found = hit_at(subject.manifest.text, line, f"container {container.name!r}: {who}, but {problem}{advice}", severity)
    found.fix = _fix(subject, wanted)
    if found.fix is not None and assumed:
        # on BusyBox init SIGRTMIN+3 does nothing, and a stopSignal would replace its SIGTERM: only when asked
        found.fix = found.fix._replace(safe=False)
    yield found

"""`initify verify IMAGE`: start a container, stop it the way docker or Kubernetes would, measure.

docker: send the image STOPSIGNAL (else SIGTERM), SIGKILL after the grace (default 10 s).
Kubernetes: run the container's preStop exec hook inside the container, then send
`lifecycle.stopSignal`, else the image STOPSIGNAL (containerd and CRI-O honour it), else SIGTERM;
SIGKILL when `terminationGracePeriodSeconds` (default 30) have passed since the stop request (the
countdown includes the hook, as in the kubelet).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from initify.image import runtime
from initify.knowledge import signals
from initify.errors import InputError

DOCKER_GRACE = 10.0
KUBERNETES_GRACE = 30.0


@dataclass
class VerifyOptions:
    image: str
    runtime: str = "auto"  # auto | runc | podman
    mode: str = "docker"  # docker | kubernetes
    manifest: Optional[str] = None
    container: Optional[str] = None  # which container of the manifest
    grace: Optional[float] = None
    startup: float = 2.0


@dataclass
class StopPlan:
    signal: str  # canonical name, e.g. SIGTERM
    signal_source: str  # "image STOPSIGNAL", "lifecycle.stopSignal", "default"
    grace: float
    pre_stop: Optional[List[str]] = None  # exec command run inside the container first
    pre_stop_sleep: Optional[int] = None  # preStop sleep.seconds (kubelet-side)
    notes: List[str] = field(default_factory=list)


@dataclass
class Result:
    runtime: str
    plan: StopPlan
    seconds: float  # from the stop request to the exit
    status: Optional[int]  # exit status (128+N when killed by signal N)
    killed: bool  # SIGKILLed when the grace ran out
    zombies: int  # zombies in the container's PID namespace just before the stop
    processes: int  # processes in the PID namespace just before the stop
    pre_stop_status: Optional[int] = None
    output: str = ""

    @property
    def ok(self) -> bool:
        return not self.killed


def _manifest_container(path: str, image: str, name: Optional[str]):  # -> (PodSpec, Container)
    from initify.kubernetes.manifests import load_manifest

    manifest = load_manifest(path)
    candidates = []
    for pod in manifest.pods:
        for container in pod.containers:
            if container.role != "init":
                candidates.append((pod, container))
    if name is not None:
        chosen = [c for c in candidates if c[1].name == name]
        if not chosen:
            raise InputError(path, f"no container named {name!r}")
        return chosen[0]
    if len(candidates) == 1:
        return candidates[0]
    wanted = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    chosen = [c for c in candidates if (c[1].image or "").rsplit("/", 1)[-1].split("@")[0].split(":")[0] == wanted]
    if len(chosen) == 1:
        return chosen[0]
    if not candidates:
        raise InputError(path, "no pod with containers in this file")
    raise InputError(path, "several containers: name one with --container")


def plan_stop(config: dict, options: VerifyOptions) -> StopPlan:
    """What the chosen runtime would do to stop a container of this image."""
    image_signal = config.get("StopSignal")
    if image_signal:
        name = signals.normalise(str(image_signal))
        if name is None:
            raise InputError(options.image, f"the image's StopSignal {image_signal!r} is not a signal")
        signal, source = name, "image STOPSIGNAL"
    else:
        signal, source = "SIGTERM", "default"
    if options.mode == "docker":
        if options.manifest is not None:
            raise InputError(options.manifest, "--manifest needs --as kubernetes")
        return StopPlan(signal, source, options.grace if options.grace is not None else DOCKER_GRACE)
    grace = KUBERNETES_GRACE
    plan = StopPlan(signal, source, grace)
    if options.manifest is not None:
        pod, container = _manifest_container(options.manifest, options.image, options.container)
        if pod.termination_grace_period is not None:
            plan.grace = float(pod.termination_grace_period)
        if container.stop_signal:
            name = signals.normalise(container.stop_signal)
            if name is None:
                raise InputError(options.manifest, f"lifecycle.stopSignal {container.stop_signal!r} is not a signal")
            plan.signal, plan.signal_source = name, "lifecycle.stopSignal"
        hook = container.pre_stop
        if hook is not None:
            if hook.action == "exec" and hook.command:
                plan.pre_stop = list(hook.command)
            elif hook.action == "sleep" and hook.sleep_seconds is not None:
                plan.pre_stop_sleep = hook.sleep_seconds
            else:
                plan.notes.append(f"preStop {hook.action} is not run by verify")
    if options.grace is not None:
        plan.grace = options.grace
    return plan


def _make_container(kind: str, image: str) -> runtime.Container:
    if kind == "podman":
        return runtime.PodmanContainer(image)
    return runtime.RuncContainer(image)


def _run(kind: str, options: VerifyOptions, plan: StopPlan, say: Callable[[str], None]) -> Result:
    with _make_container(kind, options.image) as container:
        say(f"started {options.image} with {kind} (PID 1 is host pid {container.pid()}); waiting {options.startup:g} s")
        early = container.wait(options.startup)
        if early is not None:
            raise runtime.RuntimeFailure(f"the container exited during start-up with status {early}: {container.output().strip()[-300:]}")
        pid = container.pid()
        found = runtime.processes_in_pid_namespace(pid) if pid else {}
        zombies = sum(1 for state in found.values() if state == "Z")
        started = time.monotonic()
        deadline = started + plan.grace
        pre_stop_status: Optional[int] = None
        if plan.pre_stop is not None:
            say(f"preStop: exec {' '.join(plan.pre_stop)}")
            pre_stop_status = container.exec(plan.pre_stop, deadline - time.monotonic())
        elif plan.pre_stop_sleep is not None:
            say(f"preStop: sleep {plan.pre_stop_sleep} s")
            time.sleep(max(0.0, min(plan.pre_stop_sleep, deadline - time.monotonic())))
        killed = False
        status = container.wait(0) if container.exited() else None
        if status is None:
            say(f"stop: sending {plan.signal} ({plan.signal_source}), grace {plan.grace:g} s")
            container.kill(plan.signal)
            status = container.wait(deadline - time.monotonic())
        if status is None:
            say(f"grace of {plan.grace:g} s over: sending SIGKILL")
            killed = True
            container.kill("SIGKILL")
            status = container.wait(30)
        seconds = time.monotonic() - started
        return Result(kind, plan, seconds, status, killed, zombies, len(found), pre_stop_status, container.output())


def verify(options: VerifyOptions, say: Callable[[str], None] = lambda line: None) -> Result:
    """Start, stop and measure; InputError for a bad image or manifest, ToolMissing, RuntimeFailure."""
    config = runtime.image_config(options.image)
    plan = plan_stop(config, options)
    for note in plan.notes:
        say(f"note: {note}")
    if options.runtime != "auto":
        return _run(options.runtime, options, plan, say)
    try:
        runtime.find_tool("podman")
    except runtime.ToolMissing:
        return _run("runc", options, plan, say)
    try:
        return _run("podman", options, plan, say)
    except runtime.RuntimeFailure as error:
        say(f"podman cannot run containers here ({error}); using runc")
        return _run("runc", options, plan, say)


def describe(result: Result) -> List[str]:
    """The report lines: stop time, exit status, killed or not, zombies."""
    status = "?" if result.status is None else str(result.status)
    if result.status is not None and result.status > 128 and signals.name_of(result.status - 128):
        status += f" ({signals.name_of(result.status - 128)})"
    outcome = (f"KILLED after the {result.plan.grace:g} s grace" if result.killed
               else f"stopped on its own within the {result.plan.grace:g} s grace")
    lines = [
        f"stop signal:   {result.plan.signal} ({result.plan.signal_source})",
        f"stop time:     {result.seconds:.2f} s",
        f"exit status:   {status}",
        f"outcome:       {outcome}",
        f"zombies:       {result.zombies} (of {result.processes} processes in the PID namespace before the stop)",
    ]
    if result.plan.pre_stop is not None:
        hook = "timed out" if result.pre_stop_status is None else f"exit {result.pre_stop_status}"
        lines.insert(1, f"preStop:       {' '.join(result.plan.pre_stop)} ({hook})")
    return lines

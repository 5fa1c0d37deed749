"""`initify verify IMAGE`: start a container, stop it the way docker or Kubernetes would, measure.

docker: send the image STOPSIGNAL (else SIGTERM), SIGKILL after the grace (default 10 s).
Kubernetes: run the container's preStop exec hook inside the container, then send
`lifecycle.stopSignal`, else the image STOPSIGNAL (containerd and CRI-O honour it), else SIGTERM;
SIGKILL when `terminationGracePeriodSeconds` (default 30) have passed since the stop request (the
countdown includes the hook, as in the kubelet).

A stop is clean only when PID 1 exited within the grace and every other process of the container
exited by itself before it: when PID 1 exits, the kernel SIGKILLs whatever is left in its PID
namespace, so a worker that never got the signal dies as surely as on SIGKILL, just unreported.
How each process ended comes from the kernel's exit events (`initify.image.exits`), else from
what /proc showed just before PID 1 exited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple

from initify.image import exits, runtime
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
class ProcessEnd:
    name: str  # /proc/PID/comm
    pid1: bool
    how: str  # in words: "exited with status 0", "killed (SIGKILL) when PID 1 exited..."
    clean: bool  # exited by itself (PID 1: within the grace)


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
    ends: List[ProcessEnd] = field(default_factory=list)
    exact: bool = True  # `ends` come from the kernel's exit events (else from /proc snapshots)
    pre_stop_output: str = ""

    @property
    def ok(self) -> bool:
        return not self.killed and all(end.clean for end in self.ends)


def _manifest_container(path: str, image: str, name: Optional[str]):  # -> (PodSpec, Container)
    from initify.kubernetes.manifests import load_manifest

    manifest = load_manifest(path, round_trip=False)
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


class _Tracker:
    """The container's processes (host pid -> name) seen so far, and which were alive when."""

    def __init__(self, pid1: int) -> None:
        self.pid1 = pid1
        self.namespace = runtime.pid_namespace(pid1)
        self.names: Dict[int, str] = {}
        self.last: Dict[int, str] = {}  # the latest snapshot: pid -> state
        self.snapshot()

    def snapshot(self) -> Dict[int, str]:
        found = runtime.processes_in_pid_namespace(self.pid1, self.namespace)
        if found:
            for pid, state in found.items():
                if pid not in self.names and state != "Z":  # a zombie had ended before we looked
                    self.names[pid] = runtime.process_name(pid) or "?"
            self.last = found
        return found

    def wait(self, container: runtime.Container, timeout: float) -> Optional[int]:
        """container.wait(timeout), looking at the processes every 50 ms meanwhile."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            status = container.wait(max(0.0, min(0.05, deadline - time.monotonic())))
            if status is not None or time.monotonic() >= deadline:
                return status
            self.snapshot()


def _how(end: Optional[exits.Exit], at_grace: bool, pid1: bool) -> Tuple[str, bool]:
    if end is None:
        return "ended, how unknown", True
    if end.signal == 9:
        if at_grace:
            return "still running when the grace ran out: SIGKILLed", False
        if pid1:
            return "killed by SIGKILL", False
        return "killed (SIGKILL) when PID 1 exited and the PID namespace ended", False
    if end.signal is not None:
        name = signals.name_of(end.signal) or f"signal {end.signal}"
        return f"ended by {name}", True
    return f"exited with status {end.code}", True


def _ends(tracker: _Tracker, watcher: Optional[exits.ExitWatcher], alive_at_kill: Set[int],
          alive_before_exit: Set[int]) -> Tuple[List[ProcessEnd], bool]:
    """How every process seen in the container ended, PID 1 first; and whether from exit events."""
    complete = watcher.drain() if watcher is not None else False
    ends: List[ProcessEnd] = []
    exact = watcher is not None and complete
    for pid, name in sorted(tracker.names.items(), key=lambda item: (item[0] != tracker.pid1, item[0])):
        pid1 = pid == tracker.pid1
        found = watcher.exit_of(pid) if watcher is not None else None
        if found is not None:
            how, clean = _how(found, pid in alive_at_kill, pid1)
        else:
            exact = exact and pid1  # PID 1's status is known from the runtime anyway
            if pid in alive_at_kill:
                how, clean = "still running when the grace ran out: SIGKILLed", False
            elif pid1:
                how, clean = "exited", True
            elif pid in alive_before_exit:
                how, clean = "still running just before PID 1 exited: killed when the PID namespace ended", False
            else:
                how, clean = "exited before PID 1", True
        ends.append(ProcessEnd(name, pid1, how, clean))
    return ends, exact


def _run(kind: str, options: VerifyOptions, plan: StopPlan, say: Callable[[str], None]) -> Result:
    watcher = exits.ExitWatcher.open()
    try:
        return _run_watched(kind, options, plan, say, watcher)
    finally:
        if watcher is not None:
            watcher.close()


def _run_watched(kind: str, options: VerifyOptions, plan: StopPlan, say: Callable[[str], None],
                 watcher: Optional[exits.ExitWatcher]) -> Result:
    with _make_container(kind, options.image) as container:
        say(f"started {options.image} with {kind} (PID 1 is host pid {container.pid()}); waiting {options.startup:g} s")
        early = container.wait(options.startup)
        if early is not None:
            raise runtime.RuntimeFailure(f"the container exited during start-up with status {early}: {container.output().strip()[-300:]}")
        pid = container.pid()
        tracker = _Tracker(pid)
        found = dict(tracker.last)
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
        alive_at_kill: Set[int] = set()
        tracker.snapshot()
        status = container.wait(0) if container.exited() else None
        if status is None:
            say(f"stop: sending {plan.signal} ({plan.signal_source}), grace {plan.grace:g} s")
            container.kill(plan.signal)
            status = tracker.wait(container, deadline - time.monotonic())
        if status is None:
            say(f"grace of {plan.grace:g} s over: sending SIGKILL")
            killed = True
            alive_at_kill = {p for p, state in tracker.snapshot().items() if state != "Z"}
            container.kill("SIGKILL")
            status = container.wait(30)
        seconds = time.monotonic() - started
        alive_before_exit = {p for p, state in tracker.last.items() if state != "Z"}
        time.sleep(0.05)  # let the last exit events arrive
        ends, exact = _ends(tracker, watcher, alive_at_kill, alive_before_exit)
        return Result(kind, plan, seconds, status, killed, zombies, len(found), pre_stop_status, container.output(),
                      ends, exact, container.exec_output if plan.pre_stop is not None else "")


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


OUTPUT_LINES = 10


def explain_pre_stop(status: Optional[int], output: str, runtime_name: str) -> str:
    """What a preStop exec hook's status means, in words (the kubelet only logs a
    FailedPreStopHook event, then goes on to the stop signal)."""
    if status is None:
        return "timed out: it was still running when the grace ran out"
    if status == 0:
        return "exit 0"
    said = next((line.strip() for line in output.splitlines() if "not found" in line or "no such file" in line.lower()), "")
    if (status == 255 and runtime_name == "runc") or status == 127 or said:
        missing = f" ({said})" if said else ""
        return (f"exit {status}: the command could not be started, most likely it is not in the image{missing}; "
                f"a `kill` needs procps or busybox in the image; the stop signal was sent after it anyway")
    if status == 126:
        return f"exit {status}: the command is not executable in the image"
    return f"exit {status}: the hook failed; Kubernetes records FailedPreStopHook and sends the stop signal anyway"


def describe(result: Result) -> List[str]:
    """The report lines: stop time, exit status, how each process ended, the last output lines."""
    status = "?" if result.status is None else str(result.status)
    if result.status is not None and result.status > 128 and signals.name_of(result.status - 128):
        status += f" ({signals.name_of(result.status - 128)})"
    unclean = [end for end in result.ends if not end.clean and not end.pid1]
    if result.killed:
        outcome = f"KILLED after the {result.plan.grace:g} s grace"
    elif unclean:
        outcome = (f"NOT CLEAN: PID 1 exited within the {result.plan.grace:g} s grace, but {len(unclean)} other "
                   f"process(es) did not exit by themselves before it")
    else:
        outcome = f"stopped on its own within the {result.plan.grace:g} s grace"
    lines = [
        f"stop signal:   {result.plan.signal} ({result.plan.signal_source})",
        f"stop time:     {result.seconds:.2f} s",
        f"exit status:   {status}",
        f"outcome:       {outcome}",
        f"zombies:       {result.zombies} (of {result.processes} processes in the PID namespace before the stop)",
    ]
    if result.plan.pre_stop is not None:
        hook = explain_pre_stop(result.pre_stop_status, result.pre_stop_output, result.runtime)
        lines.insert(1, f"preStop:       {' '.join(result.plan.pre_stop)} ({hook})")
    source = "" if result.exact else " (from /proc snapshots: the kernel's exit events were not available)"
    for index, end in enumerate(result.ends):
        label = "processes:" if index == 0 else ""
        who = f"{end.name} (PID 1)" if end.pid1 else end.name
        lines.append(f"{label:<15}{who}: {end.how}" + (source if index == 0 else ""))
    tail = [line for line in result.output.splitlines() if line.strip()][-OUTPUT_LINES:]
    if tail:
        lines.append(f"last output:   (last {len(tail)} line(s) of the container's output)")
        lines.extend(f"  | {line}" for line in tail)
    return lines

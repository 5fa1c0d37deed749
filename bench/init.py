#!/usr/bin/env python3
"""Benchmark initify-init against tini and dumb-init, each as PID 1.

Every run starts the init as PID 1 of a fresh PID namespace
(`unshare --pid --fork --mount-proc`, needs root) and measures:

- peak RSS: the init's VmHWM after supervising a 5000-orphan burst;
- start-up: wall time of `INIT -- true`, minus the same `unshare` running
  `true` without an init;
- stop latency: SIGTERM sent to the init -> the init has exited (seen
  through a pidfd), with a child that handles TERM by exiting at once;
- reap lag: the last of a 5000-orphan burst has exited (pidfds of all the
  orphans, watched with epoll) -> the init has no zombie child left (its
  /proc children list is down to the app);
- reap 5000 at once: the same burst while the init is stopped (SIGSTOP from
  outside), then SIGCONT -> no zombie left: the init's reaping throughput,
  the worst case of the lag above.

The inits take turns, round after round, so that load from elsewhere on the
machine spreads evenly; figures are medians. With two CPUs or more, the
namespace runs on the last CPU and this script on the others, so that
watching does not steal time from the init being watched.

Usage: sudo python3 bench/init.py [--runs N] [--orphans N] [--python PATH]
Needs Python >= 3.9 (pidfd_open) on the host; tini and dumb-init on PATH.
"""

import argparse
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

INIT_FILE = Path(__file__).resolve().parent.parent / "initify" / "init.py"
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]
WAIT = 60

HANDLES_TERM = r"""
import os, signal
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
print("ready", flush=True)
while True:
    signal.pause()
"""

# n orphans of PID 1 (`cat`, light to start and to end) blocked on one pipe;
# a line on stdin closes it and they all exit at once; end of stdin ends it.
ORPHANS = r"""
import os, sys
n = int(sys.argv[1])
read_end, write_end = os.pipe()
if os.fork() == 0:
    for i in range(n):
        os.posix_spawn("/bin/cat", ["cat"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, read_end, 0)])
    os._exit(0)
os.close(read_end)
os.wait()
print("spawned", flush=True)
sys.stdin.readline()
os.close(write_end)
sys.stdin.read()
"""


def split_cpus() -> "tuple[Optional[set], Optional[set]]":
    """(CPUs for this script, CPU for the namespace), or (None, None) on one CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return set(cpus[:-1]), {cpus[-1]}


OURS, THEIRS = split_cpus()


def pin_namespace() -> None:
    if THEIRS:
        os.sched_setaffinity(0, THEIRS)


def children_of(pid: int) -> List[int]:
    """Direct children of a process, zombies included."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
        return [int(word) for word in handle.read().split()]


def count_children(pid: int) -> int:
    with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
        return len(handle.read().split())


def find_init(unshare: subprocess.Popen) -> int:
    """The host pid of the PID 1 that unshare forked."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = children_of(unshare.pid)
        if found:
            return found[0]
        time.sleep(0.001)
    raise RuntimeError("unshare did not start the init")


def peak_rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def start(init: List[str], program: List[str]) -> subprocess.Popen:
    return subprocess.Popen(UNSHARE + init + program, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            preexec_fn=pin_namespace)


def expect(process: subprocess.Popen, text: str) -> str:
    line = process.stdout.readline().decode()
    if text not in line:
        raise RuntimeError("expected %r, got %r" % (text, line))
    return line


def startup_seconds(init: List[str]) -> float:
    started = time.monotonic()
    subprocess.run(UNSHARE + init + ["true"], check=True, preexec_fn=pin_namespace)
    return time.monotonic() - started


def stop_seconds(init: List[str], python: str) -> float:
    """SIGTERM to the init -> init exited, with a child that handles TERM."""
    process = start(init, [python, "-c", HANDLES_TERM])
    try:
        expect(process, "ready")
        pid = find_init(process)
        pidfd = os.pidfd_open(pid)
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        ready, _, _ = select.select([pidfd], [], [], WAIT)  # readable once it exited
        elapsed = time.monotonic() - started
        os.close(pidfd)
        if not ready:
            raise RuntimeError("the init did not exit")
        return elapsed
    finally:
        process.kill()
        process.wait()


def namespace_pid(pid: int) -> int:
    """A process's pid in its own PID namespace (last field of NSpid)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise RuntimeError("no NSpid for %d" % pid)


def wait_all_exited(pidfds: List[int]) -> float:
    """Block until every pidfd is readable (its process exited); the time then."""
    poller = select.epoll()
    for pidfd in pidfds:
        poller.register(pidfd, select.EPOLLIN)
    remaining = len(pidfds)
    while remaining:
        events = poller.poll(WAIT)
        if not events:
            raise RuntimeError("%d orphans did not exit" % remaining)
        for pidfd, _ in events:
            poller.unregister(pidfd)
            remaining -= 1
    last_exit = time.monotonic()
    poller.close()
    for pidfd in pidfds:
        os.close(pidfd)
    return last_exit


def reap_run(init: List[str], python: str, orphans: int, stopped: bool) -> Dict[str, float]:
    """One orphan burst: the reap lag (s) and the init's peak RSS (KiB).

    stopped: the init is stopped during the burst and continued once every
    orphan has exited; the lag counts from that SIGCONT.
    """
    process = start(init, [python, "-c", ORPHANS, str(orphans)])
    try:
        expect(process, "spawned")
        pid = find_init(process)
        burst = [child for child in children_of(pid) if namespace_pid(child) != 2]  # 2: the app
        if len(burst) != orphans:
            raise RuntimeError("expected %d orphans, found %d" % (orphans, len(burst)))
        pidfds = [os.pidfd_open(child) for child in burst]
        if stopped:
            os.kill(pid, signal.SIGSTOP)
        process.stdin.write(b"go\n")
        process.stdin.flush()
        last_exit = wait_all_exited(pidfds)
        if stopped:
            os.kill(pid, signal.SIGCONT)
            last_exit = time.monotonic()
        deadline = last_exit + WAIT
        while count_children(pid) > 1:  # busy, on its own CPU: the finest resolution
            if time.monotonic() > deadline:
                raise RuntimeError("zombies left: %d" % (count_children(pid) - 1))
        reaped = time.monotonic()
        rss = peak_rss_kib(pid)
        process.stdin.close()
        process.wait(WAIT)
        return {"lag": reaped - last_exit, "rss_kib": rss}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def in_turns(inits: Dict[str, List[str]], runs: int, measure: Callable[[List[str]], float]) -> Dict[str, List[float]]:
    """runs rounds, each init once per round (after one warm-up round)."""
    samples = {name: [] for name in inits}  # type: Dict[str, List[float]]
    for round_number in range(runs + 1):
        for name, init in inits.items():
            value = measure(init)
            if round_number:
                samples[name].append(value)
    return samples


def bench(inits: Dict[str, List[str]], python: str, runs: int, bursts: int, orphans: int) -> Dict[str, Dict[str, float]]:
    progress("start-up, %d rounds" % runs)
    baseline = statistics.median(startup_seconds([]) for _ in range(runs))
    startups = in_turns(inits, runs, startup_seconds)
    progress("stop latency, %d rounds" % runs)
    stops = in_turns(inits, runs, lambda init: stop_seconds(init, python))
    progress("%d-orphan bursts, %d rounds" % (orphans, bursts))
    reaps = {name: [] for name in inits}  # type: Dict[str, List[Dict[str, float]]]
    at_once = {name: [] for name in inits}  # type: Dict[str, List[Dict[str, float]]]
    for _ in range(bursts):
        for name, init in inits.items():
            reaps[name].append(reap_run(init, python, orphans, stopped=False))
            at_once[name].append(reap_run(init, python, orphans, stopped=True))
    return {name: {
        "rss_mib": max(run["rss_kib"] for run in reaps[name] + at_once[name]) / 1024.0,
        "startup_ms": max(statistics.median(startups[name]) - baseline, 0.0) * 1000,
        "stop_ms": statistics.median(stops[name]) * 1000,
        "reap_ms": statistics.median(run["lag"] for run in reaps[name]) * 1000,
        "at_once_ms": statistics.median(run["lag"] for run in at_once[name]) * 1000,
    } for name in inits}


def table(results: Dict[str, Dict[str, float]], orphans: int) -> str:
    lines = [
        "| init | peak RSS (MiB) | start-up `-- true` (ms) | SIGTERM to exit (ms) | reap lag, %d orphans (ms) "
        "| reap %d at once (ms) |" % (orphans, orphans),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        lines.append("| %s | %.1f | %.1f | %.2f | %.2f | %.1f |" % (
            name, row["rss_mib"], row["startup_ms"], row["stop_ms"], row["reap_ms"], row["at_once_ms"]))
    return "\n".join(lines)


def targets(results: Dict[str, Dict[str, float]]) -> List[str]:
    """The targets for initify-init, relative to tini."""
    ours, tini = results["initify-init"], results["tini"]
    checks = [
        ("peak RSS <= 10 MiB", ours["rss_mib"] <= 10.0),
        ("stop latency <= 2 x tini + 10 ms", ours["stop_ms"] <= 2 * tini["stop_ms"] + 10),
        ("reap lag <= tini + 5 ms", ours["reap_ms"] <= tini["reap_ms"] + 5),
    ]
    return ["%s %s" % ("ok  " if passed else "MISS", text) for text, passed in checks]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds for start-up and stop latency (median)")
    parser.add_argument("--bursts", type=int, default=7, help="rounds of orphan bursts (median)")
    parser.add_argument("--orphans", type=int, default=5000, help="size of an orphan burst")
    parser.add_argument("--python", default="/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable,
                        help="python3 that runs initify-init and the workloads (default: the system one)")
    options = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (PID namespaces)")
    if OURS:
        os.sched_setaffinity(0, OURS)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, options.orphans + 100)), hard))
    inits = {
        "initify-init": [options.python, str(INIT_FILE), "--"],
        "tini": ["tini", "--"],
        "dumb-init": ["dumb-init", "--"],
    }
    results = bench(inits, options.python, options.runs, options.bursts, options.orphans)
    version = subprocess.run([options.python, "--version"], capture_output=True, text=True).stdout.strip()
    print(table(results, options.orphans))
    print()
    print("initify-init on %s (%s); %d CPUs, namespace pinned: %s" % (
        options.python, version, os.cpu_count() or 0, "yes" if THEIRS else "no"))
    print("\n".join(targets(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

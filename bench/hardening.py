"""Benchmark the inputs that used to make initify quadratic or unbounded (issue 16).

Each case is generated into a temporary folder and run as a fresh `initify` process; the wall
time and the peak memory (of the child, from getrusage) are printed with the issue's target.

  pods N           one file of N small pods, each with a fixable `sh -c` (lint, then fix)
  word             a shell-form CMD with one 1 MB word (lint, fix --diff)
  dockerfiles N    N folders with a shell-form Dockerfile each (lint, then fix)
  alias bomb       nine levels of nine aliases beside one fixable container (lint, fix)

Usage: python bench/hardening.py [--pods 1000] [--dockerfiles 10000] [--quick]

Prints figures only; it exits non-zero only when a run fails (a traceback, exit status 3 or a
timeout), never because a target is missed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

POD = """apiVersion: v1
kind: Pod
metadata:
  name: p{n}
spec:
  containers:
  - name: app
    image: app:1
    command: ["sh", "-c", "python app.py"]
"""
SHELL_FORM = "FROM python:3.12-slim\nCMD python app.py\n"


# Runs initify as its own child, so the peak memory printed is that run's alone.
_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "initify", *sys.argv[1:]], capture_output=True, text=True)
sys.stderr.write(done.stderr[-2000:] if done.returncode not in (0, 1, 2) or "Traceback" in done.stderr else "")
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run(args: List[str], cwd: Path, timeout: float) -> Tuple[float, float, int]:
    """(seconds, peak MB, exit status) of `initify ARGS` in `cwd`; status -1 on a timeout."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return timeout, 0.0, -1
    seconds = time.perf_counter() - start
    sys.stderr.write(done.stderr)
    status, peak_kb = done.stdout.split()
    return seconds, int(peak_kb) / 1024.0, int(status)


def pods(folder: Path, count: int) -> Path:
    path = folder / "pods.yaml"
    path.write_text("---\n".join(POD.format(n=n) for n in range(count)))
    return path


def one_word(folder: Path) -> Path:
    path = folder / "Dockerfile"
    path.write_text("FROM alpine:3.20\nCMD python " + "a" * 1_000_000 + "\n")
    return path


def dockerfiles(folder: Path, count: int) -> None:
    for n in range(count):
        (folder / f"d{n}").mkdir()
        (folder / f"d{n}" / "Dockerfile").write_text(SHELL_FORM)


def alias_bomb(folder: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    (folder / "pod.yaml").write_text(POD.format(n=0) + "---\n" + "\n".join(lines) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--dockerfiles", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="small sizes (100 pods, 500 Dockerfiles), for a smoke test")
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args(argv)
    if options.quick:
        options.pods, options.dockerfiles = 100, 500
    rows: List[Tuple[str, float, float, int, str]] = []
    failed = False
    root = Path(tempfile.mkdtemp(prefix="initify-bench-"))
    try:
        cases = [
            (f"{options.pods} pods: lint", "pods", ["lint", "."], "< 2 s"),
            (f"{options.pods} pods: fix", "pods", ["fix", "."], "< 10 s"),
            ("1 MB word: lint", "word", ["lint", "."], "linear"),
            ("1 MB word: fix --diff", "word", ["fix", "--diff", "."], "linear"),
            (f"{options.dockerfiles} Dockerfiles: lint", "dockerfiles", ["lint", "."], ""),
            (f"{options.dockerfiles} Dockerfiles: fix", "dockerfiles", ["fix", "."], "about lint's time"),
            ("alias bomb: lint", "bomb", ["lint", "."], "IN001, small memory"),
            ("alias bomb: fix", "bomb", ["fix", "."], "IN001, small memory"),
        ]
        for label, kind, args, target in cases:
            folder = root / label.replace(" ", "_").replace(":", "")
            folder.mkdir()
            if kind == "pods":
                pods(folder, options.pods)
            elif kind == "word":
                one_word(folder)
            elif kind == "dockerfiles":
                dockerfiles(folder, options.dockerfiles)
            else:
                alias_bomb(folder)
            seconds, peak, status = run(args, folder, options.timeout)
            failed = failed or status not in (0, 1, 2)
            rows.append((label, seconds, peak, status, target))
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'case':<32} {'seconds':>8} {'peak MB':>8} {'exit':>5}  target")
    for label, seconds, peak, status, target in rows:
        print(f"{label:<32} {seconds:8.2f} {peak:8.0f} {status:5d}  {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

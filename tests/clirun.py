"""Run initify the two ways the tests need.

`initify(...)` runs `python -m initify` as a child process: what a user, pre-commit or CI runs,
with its real exit status, streams, signals and (through `user=`) a non-root user. `invoke(...)`
runs the click command in this process: faster, for tests of option handling and output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from click.testing import CliRunner, Result

from initify.cli import main

ROOT = Path(__file__).resolve().parent.parent


def initify(*args: str, cwd: Optional[Union[str, Path]] = None, stdin: Optional[Union[str, bytes]] = None,
            env: Optional[Dict[str, str]] = None, user: Optional[int] = None,
            timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """`initify ARGS` as a child process (in `cwd`, with `stdin`, extra `env`, as uid/gid `user`).

    Output is decoded with replacement, so a test can read what a non-UTF-8 file name printed."""
    command = [sys.executable, "-m", "initify", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(command, cwd=cwd, input=data, capture_output=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(errors="replace"),
                                       done.stderr.decode(errors="replace"))


def invoke(args: Sequence[str], cwd: Optional[Union[str, Path]] = None, catch_exceptions: bool = False) -> Result:
    """`initify ARGS` through click's test runner in this process (in `cwd` when given)."""
    arguments: List[str] = [str(arg) for arg in args]
    if cwd is None:
        return CliRunner().invoke(main, arguments, catch_exceptions=catch_exceptions)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, arguments, catch_exceptions=catch_exceptions)
    finally:
        os.chdir(old)

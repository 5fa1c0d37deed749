"""initify never passes silently (issue 15): unsafe-only fixes, pairing from the disk, standard
input, Helm charts, manifests under other names. Every test runs the real command line in a
subprocess, in a real folder, the way pre-commit and CI run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent

COMPOUND = 'FROM python:3.12-slim\nCMD ["sh", "-c", "python /app.py; echo done"]\n'  # only the unsafe IN106 fix
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: registry.example.com/web:1
"""


def run(*args: str, cwd: Path, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "initify", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)


# --------------------------------------------------------------------------------------------
# fix --check / --diff when only unsafe fixes are left; [*] and [~]
# --------------------------------------------------------------------------------------------


def test_check_with_only_unsafe_fixes_left_exits_1_and_names_unsafe_fixes(tmp_path):
    (tmp_path / "Dockerfile").write_text(COMPOUND)
    out = run("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert "--unsafe-fixes" in last and "Dockerfile:2 IN106" in last and last.startswith("0 file(s) would be rewritten")
    assert (tmp_path / "Dockerfile").read_text() == COMPOUND


def test_diff_with_only_unsafe_fixes_left_says_so(tmp_path):
    (tmp_path / "Dockerfile").write_text(COMPOUND)
    out = run("fix", "--diff", "Dockerfile", cwd=tmp_path)
    assert out.stdout == ""  # no diff: nothing safe to change
    assert "only 1 unsafe fix(es) left, applied with --unsafe-fixes: Dockerfile:2 IN106" in out.stderr


def test_check_with_nothing_to_fix_exits_0_silently(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCMD ["python", "/app.py"]\n')
    out = run("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == ""


def test_markers_tell_safe_from_unsafe_fixes(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python /app.py; echo done\nSTOPSIGNAL KILL\n")
    out = run("lint", "Dockerfile", cwd=tmp_path)
    lines = {line.split()[1]: line for line in out.stdout.splitlines() if line.startswith("Dockerfile:")}
    assert lines["IN109"].split()[2] == "[*]"  # replacing SIGKILL is safe
    assert lines["IN101"].split()[2] == "[~]" and lines["IN106"].split()[2] == "[~]"
    summary = out.stdout.splitlines()[-1]
    assert "1 marked [*] can be fixed with `initify fix`" in summary
    assert "2 marked [~] only with `initify fix --unsafe-fixes`" in summary

"""bench/lint.py runs end to end on a small corpus and prints the table and the verdicts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("hadolint", path=str(Path(sys.executable).parent)) is None,
                    reason="hadolint (the bench extra) is not installed beside this Python")
def test_lint_bench_on_a_small_corpus(tmp_path):
    for name, text in {
        "a/Dockerfile": "FROM python:3.12-slim\nCMD python app.py\n",
        "b/Dockerfile": 'FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n',
        "c/app.Dockerfile": 'FROM debian:12\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n',
        "c/run.sh": "#!/bin/sh\nexec app\n",
        "d/k8s.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}]}\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = subprocess.run([sys.executable, str(REPO / "bench" / "lint.py"), "--corpus", str(tmp_path), "--reps", "1"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "3 Dockerfiles, median of 1 runs each" in lines
    for tool in ("initify lint", "hadolint", "floor (dockerfile_parse)"):
        [row] = [line for line in lines if line.startswith(tool + " ")]
        assert len(row.split()) >= 5, row
    assert any(line.strip().startswith("whole corpus within 3x the floor:") for line in lines)
    assert any(line.strip().startswith("one file at most 60 ms:") for line in lines)
    assert any("Kubernetes manifests and compose files" in line for line in lines)


def test_hardening_bench_runs_every_case():
    """bench/hardening.py (issue 16's figures) runs end to end at small sizes; figures, no asserts on time."""
    result = subprocess.run([sys.executable, str(REPO / "bench" / "hardening.py"), "--quick"],
                            capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["case", "seconds", "peak", "MB"]
    statuses = {line[:32].strip(): int(line[32:].split()[2]) for line in lines[1:]}
    assert statuses["alias bomb: lint"] == 2 and statuses["100 pods: lint"] == 1 and statuses["100 pods: fix"] == 0

"""The hooks in .pre-commit-hooks.yaml, run by the real `pre-commit` package on a scratch repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pre_commit() -> list:
    script = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    if script is None:
        pytest.skip("pre-commit is not installed")
    return [script]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def scratch_repo(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ci@example.invalid")
    _git(repo, "config", "user.name", "ci")
    return repo


def _try_hook(repo: Path, hook: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    return subprocess.run(
        _pre_commit() + ["try-repo", str(ROOT), hook, "--all-files", "--verbose"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_lint_hook_fails_on_shell_form_and_passes_when_clean(scratch_repo, tmp_path):
    (scratch_repo / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python3 app.py\n")
    (scratch_repo / "notes.txt").write_text("CMD python3 app.py\n")
    _git(scratch_repo, "add", ".")
    result = _try_hook(scratch_repo, "initify-lint", tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Dockerfile:2:1: IN101" in result.stdout
    assert "notes.txt" not in result.stdout

    (scratch_repo / "Dockerfile").write_text('FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "app.py"]\n')
    _git(scratch_repo, "add", ".")
    result = _try_hook(scratch_repo, "initify-lint", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_hook_is_declared_for_the_same_files():
    from ruamel.yaml import YAML

    hooks = {hook["id"]: hook for hook in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) >= {"initify-lint", "initify-fix"}
    assert hooks["initify-fix"]["entry"] == "initify fix"
    assert hooks["initify-fix"]["files"] == hooks["initify-lint"]["files"]
    import re

    pattern = re.compile(hooks["initify-lint"]["files"])
    for name in ["Dockerfile", "sub/Containerfile", "Dockerfile.prod", "web.Dockerfile", "k8s/pod.yaml", "compose.yml"]:
        assert pattern.search(name), name
    for name in ["README.md", "Dockerfile-notes/x.txt", "app.py"]:
        assert not pattern.search(name), name


def test_fix_hook_rewrites_then_passes(scratch_repo, tmp_path):
    dockerfile = scratch_repo / "Dockerfile"
    dockerfile.write_bytes(b"FROM python:3.12-slim\r\n# run the app\r\nCMD python3 app.py --port 8080\r\n")
    (scratch_repo / "notes.txt").write_text("CMD python3 app.py\n")
    _git(scratch_repo, "add", ".")
    result = _try_hook(scratch_repo, "initify-fix", tmp_path)
    # pre-commit fails a hook that modified files, so the user can review and re-add them.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    assert dockerfile.read_bytes() == b'FROM python:3.12-slim\r\n# run the app\r\nCMD ["python3", "app.py", "--port", "8080"]\r\n'
    assert (scratch_repo / "notes.txt").read_text() == "CMD python3 app.py\n"

    _git(scratch_repo, "add", ".")
    result = _try_hook(scratch_repo, "initify-fix", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

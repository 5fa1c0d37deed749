"""The distribution as users get it: `python -m build` makes an sdist and a wheel named
`initify-lint` (PyPI's `initify` is an unrelated project), the wheel installs into a fresh venv
and with pipx, and the `initify` command works from outside the source tree. Real build backend,
real pip, real pipx; no network beyond what `python -m build` needs to fetch the build backend."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST_NAME = "initify-lint"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def _wheel(dist: Path) -> Path:
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_distribution_is_named_initify_lint(dist):
    from initify import __version__

    wheel = _wheel(dist)
    assert wheel.name == f"initify_lint-{__version__}-py3-none-any.whl"
    sdists = list(dist.glob("*.tar.gz"))
    assert [s.name for s in sdists] == [f"initify_lint-{__version__}.tar.gz"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(archive.read(f"initify_lint-{__version__}.dist-info/METADATA"))
        entry_points = archive.read(f"initify_lint-{__version__}.dist-info/entry_points.txt").decode()
    assert metadata["Name"] == DIST_NAME
    assert "lsp" in metadata.get_all("Provides-Extra")
    assert any(re.match(r"pygls>=2\.0; extra == ['\"]lsp['\"]", line) for line in metadata.get_all("Requires-Dist"))
    assert "initify = initify.console:main" in entry_points
    assert "initify/_data/rules/IN101.md" in names and "initify/_data/templates/deployment.yaml.j2" in names
    with tarfile.open(sdists[0]) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    assert {".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "rules/IN101.md", "action.yml", "Containerfile", ".containerignore"} <= members


def _run_outside(command, cwd: Path, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_the_wheel_installs_into_a_fresh_venv_and_runs_outside_the_tree(dist, tmp_path):
    from initify import __version__

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(_wheel(dist))],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    version = _run_outside([str(venv / "bin" / "initify"), "--version"], outside)
    assert version.returncode == 0 and version.stdout.strip() == f"initify, version {__version__}"
    (outside / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python3 app.py\n")
    lint = _run_outside([str(venv / "bin" / "initify"), "lint", "Dockerfile"], outside)
    assert lint.returncode == 1 and "Dockerfile:2:1: IN101" in lint.stdout
    doc = _run_outside([str(venv / "bin" / "initify"), "rules", "IN101"], outside)
    assert doc.returncode == 0 and doc.stdout.startswith("# IN101 shell-form-cmd")
    # the installed package is the wheel's, not this checkout
    where = _run_outside([str(venv / "bin" / "python"), "-c", "import initify; print(initify.__file__)"], outside)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout
    # the plain install has no editor server dependency; `initify lsp` says how to get it
    lsp = _run_outside([str(venv / "bin" / "initify"), "lsp"], outside)
    assert lsp.returncode == 2 and lsp.stderr == "initify: error: initify lsp needs pygls: pip install 'initify-lint[lsp]'\n"


def test_pipx_installs_the_wheel(dist, tmp_path):
    pipx = shutil.which("pipx", path=os.path.dirname(sys.executable)) or shutil.which("pipx")
    if pipx is None:
        pytest.skip("pipx is not installed")
    env = dict(os.environ, PIPX_HOME=str(tmp_path / "pipx-home"), PIPX_BIN_DIR=str(tmp_path / "bin"),
               PIPX_MAN_DIR=str(tmp_path / "man"), PIPX_DEFAULT_PYTHON=sys.executable)
    result = _run_outside([pipx, "install", str(_wheel(dist))], tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    version = _run_outside([str(tmp_path / "bin" / "initify"), "--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("initify, version ")

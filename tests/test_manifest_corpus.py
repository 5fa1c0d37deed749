"""Every Kubernetes manifest and compose file of the shared corpus lints through the CLI without a
crash: exit 0 or 1, or 2 with a one-line error only for the files with duplicate keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initify.cli import main

CORPUS = Path("/work/shared/corpus")
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()) if CORPUS.is_dir() else []
DUPLICATE_KEYS = {"etcd-controller.yaml", "etcd-discovery-controller.yaml", "openshift-controller.yaml"}

pytestmark = pytest.mark.skipif(not FILES, reason="the shared corpus is not available")


def lint(paths, *extra):
    return subprocess.run(
        [sys.executable, "-m", "initify", "lint", "--format", "json", *extra, *map(str, paths)],
        capture_output=True, text=True, timeout=600,
    )


def test_corpus_has_manifests_and_compose_files():
    assert len(FILES) >= 150
    assert any("compose" in p.name for p in FILES)


def test_every_file_lints_without_a_crash():
    good = [p for p in FILES if p.name not in DUPLICATE_KEYS]
    bad = [p for p in FILES if p.name in DUPLICATE_KEYS]
    assert len(bad) == 3
    result = lint(good)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("[")
    for path in bad:
        result = lint([path])
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"initify: error: {path}:12: invalid YAML: found duplicate key")


def test_each_file_alone_with_an_old_kubernetes_version():
    """One file at a time too (pairing and notes differ from the batch run), in-process for speed."""
    runner = CliRunner()
    for path in FILES:
        if path.name in DUPLICATE_KEYS:
            continue
        result = runner.invoke(main, ["lint", "--k8s-version", "1.29", str(path)])
        assert result.exit_code in (0, 1), (path, result.output, result.exception)

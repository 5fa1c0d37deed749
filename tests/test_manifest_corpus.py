"""Every Kubernetes manifest and compose file of the shared corpus lints through the CLI without a
crash: exit 0 or 1, or 2 with an IN001 finding only for the files with duplicate keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initify.cli import main

from tests.corpus import CORPUS
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
        assert result.returncode == 2 and result.stderr == ""
        findings = json.loads(result.stdout)
        assert [(f["code"], f["path"], f["line"]) for f in findings] == [("IN001", str(path), 12)]
        assert findings[0]["message"].startswith("invalid YAML: duplicate key")


def test_the_whole_corpus_as_one_folder_reports_every_finding_beside_in001():
    """Issue 15: one bad file must not hide the others. Linting the whole corpus folder gives
    every Dockerfile finding of linting the Dockerfiles alone, plus one IN001 per bad file, and exit 2."""
    whole = lint([CORPUS])
    assert whole.returncode == 2, whole.stderr
    found = json.loads(whole.stdout)
    errors = {(f["path"], f["line"]) for f in found if f["code"] == "IN001"}
    assert {(Path(path).name, line) for path, line in errors} == {(name, 12) for name in DUPLICATE_KEYS}
    assert all(f["path"].startswith(str(CORPUS)) for f in found)
    dockerfile_findings = [f for f in found if f["code"].startswith("IN1")]
    assert len(dockerfile_findings) > 20
    from initify import discover

    dockerfiles = list(discover.discover([str(CORPUS)], [discover.DOCKERFILE]))
    alone = lint(dockerfiles, "--select", "IN1")
    every = {(f["code"], f["path"], f["line"], f["message"]) for f in json.loads(alone.stdout)}
    assert every and every == {(f["code"], f["path"], f["line"], f["message"]) for f in dockerfile_findings}


def test_each_file_alone_with_an_old_kubernetes_version():
    """One file at a time too (pairing and notes differ from the batch run), in-process for speed."""
    runner = CliRunner()
    for path in FILES:
        if path.name in DUPLICATE_KEYS:
            continue
        result = runner.invoke(main, ["lint", "--k8s-version", "1.29", str(path)])
        assert result.exit_code in (0, 1), (path, result.output, result.exception)

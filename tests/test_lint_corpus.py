"""Smoke test: every real Dockerfile in ../shared/corpus lints without a crash."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from initify.commands import lint

from tests.corpus import CORPUS


def corpus_dockerfiles():
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    files = []
    for row in rows:
        if row["kind"] != "dockerfile":
            continue
        owner_repo = row["repo"].replace("/", "__")
        path = CORPUS / owner_repo / row["path"]
        if path.is_file():
            files.append(path)
    return files


FILES = corpus_dockerfiles()
pytestmark = pytest.mark.skipif(not FILES, reason="shared corpus not present")


def test_corpus_has_the_expected_size():
    assert len(FILES) >= 300


def test_every_corpus_dockerfile_lints_in_process():
    """No exception escapes but InputError, and only for files that are templates."""
    linted = skipped = 0
    codes = {}
    for path in FILES:
        result = lint.run([str(path)], lint.Options())
        if result.files:
            linted += 1
        else:
            skipped += 1
            assert result.notes and "template" in result.notes[0], path
        for finding in result.findings:
            assert 1 <= finding.line <= finding.end_line, finding
            codes[finding.code] = codes.get(finding.code, 0) + 1
    assert skipped <= 10
    assert linted + skipped == len(FILES)
    # The corpus is real-world: shell form and missing inits do occur in it.
    assert codes.get("IN101", 0) > 0 and codes.get("IN106", 0) > 0


def test_whole_corpus_in_one_cli_call_as_json():
    result = subprocess.run(
        [sys.executable, "-m", "initify", "lint", "--format", "json", *map(str, FILES)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)
    # besides the Dockerfiles: manifests in their folders that pair with them (a changed Dockerfile
    # changes what they run; lint.beside_named_dockerfiles), e.g. a pod of an image FROM nginx that
    # inherits STOPSIGNAL SIGQUIT
    folders = {str(p.parent) for p in FILES}
    extra = {f["path"] for f in findings} - {str(p) for p in FILES}
    assert all(Path(path).suffix in (".yaml", ".yml") and any(path.startswith(folder + "/") for folder in folders)
               for path in extra), extra
    assert all(line.startswith(("initify: note: ", "initify: image facts")) for line in result.stderr.splitlines())


def test_windows_images_are_not_judged():
    windows = [p for p in FILES if "windows" in p.read_text(errors="replace").lower()[:2000] and "servercore" in p.read_text(errors="replace")]
    for path in windows:
        result = lint.run([str(path)], lint.Options())
        assert not any(f.code.startswith("IN10") for f in result.findings), (path, result.findings)

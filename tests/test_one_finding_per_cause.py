"""One finding per cause, measured on the whole corpus and the samples (every Dockerfile and
every Kubernetes manifest with its Dockerfiles).

IN106/IN206 say "PID 1 is a shell/script, put an init in front". When IN101-IN105 or IN204 report
the shell in front and their fix makes the program PID 1, IN106/IN206 would repeat that cause.
The test applies exactly those fixes (`initify fix --select IN101,...,IN105,IN204 --unsafe-fixes`,
planned in memory, nothing written) and lints the result:

* an IN106/IN206 reported before the fix must still be there after it (else it repeated the
  cause the other finding names);
* an IN106/IN206 found after it must have been reported before (lint reports what fix meets),
  or the primary finding's message must say that an init is also advised.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from initify import engine
from initify.commands import fix, lint
from initify.dockerfile import facts
from initify.dockerfile import parser as dockerfile
from initify.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
from tests.corpus import CORPUS
PRIMARY = ["IN101", "IN102", "IN103", "IN104", "IN105"]


def dockerfiles() -> List[Path]:
    found = sorted((ROOT / "samples").glob("*/Dockerfile"))
    manifest = CORPUS / "MANIFEST.tsv"
    if manifest.is_file():
        with open(manifest, newline="") as handle:
            rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "dockerfile"]
        found += [CORPUS / row["repo"].replace("/", "__") / row["path"] for row in rows]
    return [path for path in found if path.is_file()]


FILES = dockerfiles()


def in106_after_primary_fixes(path: Path) -> Tuple[bool, Set[str]]:
    """(IN106 fires once the primary rules' fixes are applied, the primary codes that had a fix)."""
    planned = fix.plan([str(path)], fix.FixOptions(select=PRIMARY, unsafe_fixes=True))
    files = planned.planned_files()
    text = files.get(os.path.abspath(path))
    parsed = dockerfile.parse(text, str(path)) if text is not None else dockerfile.read(str(path))
    image = facts.analyse_image(parsed, context_dir=str(path.parent), planned_files=files)
    assert image is not None
    found = engine.run_rules("dockerfile", image, str(path), engine.Selection(select=["IN106"]))
    return bool(found), {a.finding.code for a in planned.applied}


@pytest.mark.skipif(len(FILES) < 300, reason="shared corpus not present")
def test_no_in106_repeats_a_cause_another_finding_names():
    checked = 0
    for path in FILES:
        try:
            found = lint.run([str(path)], lint.Options()).findings
        except InputError:
            continue
        before = {f.code for f in found}
        advised = any("init in front too" in f.message for f in found if f.code in PRIMARY)
        if not before & set(PRIMARY):
            continue
        after, fixed = in106_after_primary_fixes(path)
        if not fixed:
            continue
        checked += 1
        if "IN106" in before:
            assert after, f"{path}: IN106 repeats the cause of {sorted(before & set(PRIMARY))}"
        else:  # unless the primary finding already says an init is also needed
            assert advised or not after, f"{path}: fixing {sorted(fixed)} leaves an IN106 lint did not report"
    assert checked >= 5


def test_on_realistic_fixtures(tmp_path):
    """The same check on images written for it, so it also runs without the shared corpus."""
    cases = {
        "shell-form": ("FROM python:3.12-slim\nCMD python app.py\n", {}, False),
        "script": ('FROM python:3.12-slim\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n',
                   {"run.sh": "#!/bin/sh\nmkdir -p /tmp/cache\npython app.py\n"}, False),
        "script-ending-in-wait": ('FROM python:3.12-slim\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n',
                                  {"run.sh": "#!/bin/sh\npython worker.py &\npython app.py &\nwait\n"}, True),
        "npm-shell-form": ("FROM node:22-slim\nCMD npm start\n", {}, True),
    }
    for name, (text, files, in106_after) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, content in files.items():
            (folder / file).write_text(content)
            (folder / file).chmod(0o755)
        (folder / "Dockerfile").write_text(text)
        before = {f.code for f in lint.run([str(folder / "Dockerfile")], lint.Options()).findings}
        after, _ = in106_after_primary_fixes(folder / "Dockerfile")
        assert after is in106_after, name
        # npm left as PID 1: IN101's message advises the init, IN106 is not repeated on top
        assert ("IN106" in before) is (after and name != "npm-shell-form"), name


@pytest.mark.skipif(len(FILES) < 300, reason="shared corpus not present")
def test_lint_reports_everything_fix_meets_on_the_corpus():
    """Every finding `initify fix --unsafe-fixes` meets in any of its passes (fixed or left) on a
    corpus Dockerfile is one `initify lint` reports at once: no script or daemon is read only
    once an earlier fix changed the file."""
    checked = 0
    for path in FILES:
        try:
            linted = {f.code for f in lint.run([str(path)], lint.Options()).findings}
            planned = fix.plan([str(path)], fix.FixOptions(unsafe_fixes=True))
        except InputError:
            continue
        checked += 1
        met = {a.finding.code for a in planned.applied} | {f.code for f in planned.remaining}
        assert met <= linted, f"{path}: fix meets {sorted(met - linted)} that lint does not report"
    assert checked >= 300

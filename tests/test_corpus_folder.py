"""`initify lint` of the whole ../shared/corpus as one folder reports every Dockerfile finding that
linting each Dockerfile on its own reports, and each file that cannot be read or parsed as an
IN001 parse-error finding of its own (issue 15: never stop at one bad file).

The corpus holds files that do not parse: linted alone or in the folder, each is an IN001 finding
(rule IN001 came with branch hardening; before it, one such file stopped the folder run).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest

from initify import discover, engine
from initify.commands import lint

ROOT = Path(__file__).resolve().parent.parent
from tests.corpus import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")

Key = Tuple[str, int, int, str, str]  # absolute path, line, column, code, message


def _key(finding: engine.Finding) -> Key:
    return (os.path.abspath(finding.path), finding.line, finding.column, finding.code, finding.message)


def _per_file() -> Tuple[Set[Key], Dict[str, str]]:
    """Findings of every corpus Dockerfile linted alone, and the files that give IN001 (the
    reason) when linted alone."""
    findings: Set[Key] = set()
    errors: Dict[str, str] = {}
    for path in discover.discover([str(CORPUS)], [discover.DOCKERFILE]):
        result = lint.run([path], lint.Options())
        mine = [f for f in result.findings if os.path.abspath(f.path) == os.path.abspath(path)]
        parse_errors = [f for f in mine if f.code == "IN001"]
        if parse_errors:
            errors[os.path.abspath(path)] = parse_errors[0].message
            continue
        findings |= {_key(f) for f in mine}
    return findings, errors


def test_whole_corpus_folder_reports_every_dockerfile_finding():
    alone, errors = _per_file()
    assert alone, "the corpus Dockerfiles have findings: the comparison must not be empty"
    whole = lint.run([str(CORPUS)], lint.Options())  # never an InputError: bad files are IN001
    dockerfiles = {os.path.abspath(p) for p in discover.discover([str(CORPUS)], [discover.DOCKERFILE])}
    together = {_key(f) for f in whole.findings if os.path.abspath(f.path) in dockerfiles and os.path.abspath(f.path) not in errors}
    missing = sorted(alone - together)
    assert missing == [], f"{len(missing)} Dockerfile finding(s) lost in the folder run, first: {missing[:3]}"
    assert together - alone == set()
    parse_errors = {os.path.abspath(f.path): f.message for f in whole.findings if f.code == "IN001" and os.path.abspath(f.path) in dockerfiles}
    assert parse_errors == errors, "a Dockerfile is IN001 in the folder run exactly when it is IN001 alone, for the same reason"
    # The corpus files that do not parse are manifests (duplicate keys): each IN001 of the folder
    # run is the IN001 the file gives linted alone, and the run went on past them.
    everywhere = {(os.path.abspath(f.path), f.line, f.message) for f in whole.findings if f.code == "IN001"}
    assert everywhere, "the corpus holds files that do not parse: the folder run must report them"
    for path in sorted({p for p, _, _ in everywhere}):
        alone_result = lint.run([path], lint.Options())
        assert {(os.path.abspath(f.path), f.line, f.message) for f in alone_result.findings if f.code == "IN001"} == \
            {item for item in everywhere if item[0] == path}
    assert whole.files > len(everywhere) and len(whole.findings) > len(everywhere)


def test_corpus_dockerfiles_named_together_report_what_each_reports_alone():
    """Named Dockerfiles bring in the manifests beside them (pairing from the disk); an
    unparsable manifest there must not stop the run nor change a Dockerfile finding."""
    alone, errors = _per_file()
    named = [p for p in discover.discover([str(CORPUS)], [discover.DOCKERFILE]) if os.path.abspath(p) not in errors]
    together = lint.run(named, lint.Options())
    dockerfiles = {os.path.abspath(p) for p in named}
    assert {_key(f) for f in together.findings if os.path.abspath(f.path) in dockerfiles} == alone

"""Every real Dockerfile of the shared corpus, parsed by initify and by BuildKit's parser.

Where BuildKit parses a file, initify must see the same instructions at the same lines with the
same arguments and flags; where BuildKit fails, initify must parse it or raise InputError. The one
allowed difference: BuildKit's parse stage accepts unknown instructions (Go template lines such as
`{{ .base }}`) that `docker build` rejects in its next stage, and initify raises InputError there.
"""

from __future__ import annotations

import csv
from typing import List

import pytest

from initify.dockerfile.parser import KEYWORDS, read
from initify.errors import InputError
from tests.test_dockerfile_parser import (
    assert_spans_cover_file,
    oracle_heredocs,
    oracle_summary,
    our_heredocs,
    our_summary,
)

oracle = pytest.importorskip("dockerfile")

from tests.corpus import CORPUS


def corpus_dockerfiles() -> List[str]:
    """Paths (relative to the corpus) of the rows whose kind is dockerfile."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [f"{row['repo'].replace('/', '__')}/{row['path']}" for row in rows if row["kind"] == "dockerfile"]


FILES = corpus_dockerfiles()
pytestmark = pytest.mark.skipif(not FILES, reason=f"corpus not found at {CORPUS}")


def test_corpus_is_the_expected_size() -> None:
    assert len(FILES) == 322


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_matches_buildkit(name: str) -> None:
    path = str(CORPUS / name)
    try:
        commands = oracle.parse_file(path)
    except oracle.GoParseError:
        commands = None
    try:
        ours = read(path)
    except InputError as error:
        if commands is None:
            return  # both refuse it
        unknown = [c.cmd for c in commands if (c.cmd or "").upper() not in KEYWORDS]
        assert unknown, f"BuildKit parses {name} but initify raised: {error}"
        assert error.reason.startswith("unknown instruction: ")
        return
    assert_spans_cover_file(ours)
    if commands is not None:
        assert our_summary(ours) == oracle_summary(commands)
        assert our_heredocs(ours) == oracle_heredocs(commands)

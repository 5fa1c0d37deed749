"""`initify fix --unsafe-fixes` on whole corpus repositories at once, in temporary copies.

Run per repository rather than per file, Dockerfiles, Kubernetes manifests and compose files are
fixed together, so pairing works on real layouts: a compose service with its `build:` Dockerfile,
a manifest with the one Dockerfile beside it. Oracles: every fixed Dockerfile parses with
BuildKit's parser; no finding of a code fixed in a file remains in that file; a second fix changes
nothing; a YAML document that validated strictly before still validates. A repository holding
input initify rejects (exit 2) must name the file and line, and nothing may be written.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict

import dockerfile as buildkit
import pytest

from initify import discover
from initify.commands import fix
from initify.commands import lint
from initify.kubernetes import pairing
from initify.errors import InputError

from test_lint_corpus import CORPUS
from test_manifest_fix_corpus import VERSION, _valid_docs

REPOS = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
OPTIONS = dict(unsafe_fixes=True, k8s_version=VERSION)

pytestmark = pytest.mark.skipif(not REPOS, reason="shared corpus not present")


def _contents(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("repo", REPOS, ids=[p.name for p in REPOS])
def test_fix_whole_repository(repo, tmp_path):
    copy = tmp_path / repo.name
    shutil.copytree(repo, copy, symlinks=True)
    before = _contents(copy)
    try:
        plan = fix.plan([str(copy)], fix.FixOptions(**OPTIONS))
    except InputError as error:
        assert error.path and str(copy) in str(error.path) and error.line is not None, str(error)
        assert _contents(copy) == before
        return
    fix.write(plan)
    fixed = {(a.finding.path, a.finding.code) for a in plan.applied}
    for state in plan.changed():
        if discover.kind_of(state.path) == discover.DOCKERFILE and Path(state.path).name != "entrypoint.sh":
            buildkit.parse_string(state.text.lstrip("\ufeff"))
    remaining = {(f.path, f.code) for f in lint.run([str(copy)], lint.Options(k8s_version=VERSION)).findings}
    assert not remaining & fixed, sorted(remaining & fixed)
    assert fix.plan([str(copy)], fix.FixOptions(**OPTIONS)).changed() == []
    for name, original in before.items():
        if name.endswith((".yaml", ".yml")):
            old, new = _valid_docs(original.decode("utf-8")), _valid_docs((copy / name).read_text(encoding="utf-8"))
            assert len(old) == len(new)
            assert all(now for was, now in zip(old, new) if was), f"{name}: a document no longer validates"


def test_repositories_pair_and_fix_something(monkeypatch):
    """The corpus repositories exercise pairing (a compose service or manifest is paired with a
    real Dockerfile) and fixing (fixes are planned)."""
    paired = []
    load = pairing.Pairing._load

    def counting_load(self, path, build=None):  # observes pairing, changes nothing
        found = load(self, path, build)
        if found is not None:
            paired.append(path)
        return found

    monkeypatch.setattr(pairing.Pairing, "_load", counting_load)
    applied = 0
    for repo in REPOS:
        try:
            applied += len(fix.plan([str(repo)], fix.FixOptions(**OPTIONS)).applied)
        except InputError:
            continue
    assert applied >= 5 and len(set(paired)) >= 3, (applied, sorted(set(paired)))

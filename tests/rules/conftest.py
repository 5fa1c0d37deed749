"""Shared helper for the rule tests: lint real Dockerfile text through the real pipeline.

The Dockerfile and any context files are written to `tmp_path`, so entrypoint scripts are real
files the facts layer reads from the build context, exactly as `initify lint` does.
"""

import textwrap
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from initify import engine
from initify.dockerfile import parser as dockerfile
from initify.dockerfile import facts


def write_context(tmp_path, dockerfile_text: str, files: Optional[Dict[str, str]] = None) -> str:
    """Write the Dockerfile (dedented) and context files under tmp_path; return the Dockerfile path."""
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    path = tmp_path / "Dockerfile"
    path.write_text(textwrap.dedent(dockerfile_text).lstrip("\n"))
    return str(path)


def lint_findings(
    tmp_path,
    dockerfile_text: str,
    files: Optional[Dict[str, str]] = None,
    select: Sequence[str] = ("ALL",),
    target: Optional[str] = None,
) -> List[engine.Finding]:
    """Findings of the selected rules, sorted by line and code ([] when there is no image)."""
    path = write_context(tmp_path, dockerfile_text, files)
    image = facts.analyse_image(dockerfile.read(path), target=target)
    if image is None:
        return []
    return engine.sort_findings(engine.run_rules("dockerfile", image, path, engine.Selection(select=list(select))))


def lint_text(
    tmp_path,
    dockerfile_text: str,
    files: Optional[Dict[str, str]] = None,
    select: Sequence[str] = ("ALL",),
    target: Optional[str] = None,
) -> List[Tuple[str, int]]:
    """(code, line) of every finding of the selected rules."""
    return [(f.code, f.line) for f in lint_findings(tmp_path, dockerfile_text, files, select, target)]


@pytest.fixture
def lint(tmp_path):
    """`lint(text, files=None, select=("ALL",), target=None)` -> [(code, line), ...]."""

    def run(dockerfile_text, files=None, select=("ALL",), target=None):
        return lint_text(tmp_path, dockerfile_text, files, select, target)

    return run


@pytest.fixture
def findings(tmp_path):
    """`findings(text, files=None, select=("ALL",), target=None)` -> [Finding, ...] (messages too)."""

    def run(dockerfile_text, files=None, select=("ALL",), target=None):
        return lint_findings(tmp_path, dockerfile_text, files, select, target)

    return run

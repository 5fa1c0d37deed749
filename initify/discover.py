"""Which files `initify lint` reads: named files, and lintable files found in named folders."""

from __future__ import annotations

import fnmatch
import os
from typing import Iterator, List, Optional

from initify.errors import InputError

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", "site-packages"}
DOCKERFILE_PATTERNS = ("Dockerfile", "Containerfile", "*.Dockerfile", "*.dockerfile", "*.Containerfile", "Dockerfile.*", "Containerfile.*", "dockerfile")
YAML_SUFFIXES = (".yaml", ".yml")

DOCKERFILE = "dockerfile"
MANIFEST = "manifest"
COMPOSE = "compose"


def is_compose_name(name: str) -> bool:
    """`compose.yaml`, `docker-compose.yml` and overrides such as `docker-compose.prod.yml` or
    `compose.override.yaml`, in either extension. (Plain string tests: a single-file run, as
    pre-commit makes, would otherwise compile a pattern per name.)"""
    return name.startswith(("compose.", "docker-compose.")) and name.endswith(YAML_SUFFIXES)


STDIN = "-"

# A Kubernetes object or list: `apiVersion:`/`kind:` at the start of a line (any document), or
# the same keys in JSON. Compose: a top-level `services:` key. Compiled on first use.
_MANIFEST_KEYS = r"(?m)^(?:apiVersion|kind)[ \t]*:[ \t]*\S|^\s*\{\s*\"(?:apiVersion|kind)\"\s*:"
_COMPOSE_KEY = r"(?m)^services[ \t]*:[ \t]*(?:#.*)?$"


def sniff(text: str) -> str:
    """How to read text whose name does not say: a Kubernetes manifest (also `helm template` and
    `kustomize build` output), a compose file, else a Dockerfile."""
    import re

    if re.search(_MANIFEST_KEYS, text):
        return MANIFEST
    if re.search(_COMPOSE_KEY, text):
        return COMPOSE
    return DOCKERFILE


def kind_by_name(name: str) -> Optional[str]:
    """The reader a file name asks for, or None when the name does not say (`rendered.txt`)."""
    name = os.path.basename(name)
    if is_compose_name(name):
        return COMPOSE
    if name.endswith(YAML_SUFFIXES):
        return MANIFEST
    if any(fnmatch.fnmatch(name, p) for p in DOCKERFILE_PATTERNS):
        return DOCKERFILE
    return None


def stdin_kind(text: str, stdin_filename: Optional[str]) -> str:
    """The reader for standard input: the one `--stdin-filename` names, else sniffed from the text."""
    by_name = kind_by_name(stdin_filename) if stdin_filename else None
    return by_name or sniff(text)


def chart_note(chart: str, command: str = "lint") -> str:
    """The note for a Helm chart folder: what to run instead (its files are Go templates)."""
    return (f"{chart}: a Helm chart, whose files are templates rather than manifests; {command} what it renders: "
            f"`helm template {chart} | initify {command} -`")


def is_stream(path: str) -> bool:
    """A named path that is neither a folder nor a regular file: a pipe or device (`/dev/stdin`,
    `<(helm template chart)`), which can be read only once."""
    return path != STDIN and os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path)


def kind_of(path: str) -> str:
    """How to read a file: by its name (YAML files are manifests or compose files, Dockerfile
    names are Dockerfiles), else by its content (`rendered.txt`, `/dev/stdin`). Only files named
    on the command line can have other names: a folder walk yields wanted names only."""
    kind = kind_by_name(path)
    if kind is not None:
        return kind
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536).decode("utf-8", "replace")
    except OSError:
        return DOCKERFILE  # the reader reports what is wrong with it
    return sniff(head)


def wanted_dockerfile(name: str) -> bool:
    """Whether a file named `name` is read as a Dockerfile when found in a folder."""
    if any(fnmatch.fnmatch(name, p) for p in DOCKERFILE_PATTERNS):
        return not name.endswith((".dockerignore", ".md", ".txt", ".sh", ".yaml", ".yml", ".json"))
    return False


def _wanted(name: str, kinds: List[str]) -> bool:
    if DOCKERFILE in kinds and any(fnmatch.fnmatch(name, p) for p in DOCKERFILE_PATTERNS):
        return wanted_dockerfile(name)
    if COMPOSE in kinds and is_compose_name(name):
        return True
    return MANIFEST in kinds and name.endswith(YAML_SUFFIXES)


def _skip_dir(path: str, name: str) -> bool:
    return name in SKIP_DIRS or os.path.isfile(os.path.join(path, name, "pyvenv.cfg"))


def discover(paths: List[str], kinds: List[str], charts: Optional[List[str]] = None) -> Iterator[str]:
    """Files to lint, in a stable order; a missing path is an InputError.

    A folder holding `Chart.yaml` is a Helm chart: its files are templates, not manifests, so
    nothing below it is yielded; its path is added to `charts` (when given) for a note."""
    seen = set()
    for path in paths:
        if not os.path.exists(path):
            raise InputError(path, "no such file or directory")
        if os.path.isfile(path):
            if path not in seen:
                seen.add(path)
                yield path
            continue
        for root, dirs, files in os.walk(path):
            if charts is not None and "Chart.yaml" in files:
                charts.append(root)
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if not _skip_dir(root, d))
            for name in sorted(files):
                full = os.path.join(root, name)
                if _wanted(name, kinds) and full not in seen:
                    seen.add(full)
                    yield full

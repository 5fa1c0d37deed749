"""Which files `initify lint` reads: named files, and lintable files found in named folders."""

from __future__ import annotations

import fnmatch
import os
from typing import Iterator, List

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


def kind_of(path: str) -> str:
    """How to read a file given by name: YAML files are manifests or compose files."""
    name = os.path.basename(path)
    if is_compose_name(name):
        return COMPOSE
    if name.endswith(YAML_SUFFIXES):
        return MANIFEST
    return DOCKERFILE


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


def discover(paths: List[str], kinds: List[str]) -> Iterator[str]:
    """Files to lint, in a stable order; a missing path is an InputError."""
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
            dirs[:] = sorted(d for d in dirs if not _skip_dir(root, d))
            for name in sorted(files):
                full = os.path.join(root, name)
                if _wanted(name, kinds) and full not in seen:
                    seen.add(full)
                    yield full

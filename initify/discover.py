"""Which files `initify lint` reads: named files, and lintable files found in named folders."""

from __future__ import annotations

import fnmatch
import os
import stat
from typing import Iterator, List, Optional, Tuple

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


def _wanted(name: str, kinds: List[str]) -> bool:
    if DOCKERFILE in kinds and any(fnmatch.fnmatch(name, p) for p in DOCKERFILE_PATTERNS):
        return not name.endswith((".dockerignore", ".md", ".txt", ".sh", ".yaml", ".yml", ".json"))
    if COMPOSE in kinds and is_compose_name(name):
        return True
    return MANIFEST in kinds and name.endswith(YAML_SUFFIXES)


def _skip_dir(path: str, name: str) -> bool:
    return name in SKIP_DIRS or os.path.isfile(os.path.join(path, name, "pyvenv.cfg"))


# What initify reads of one file at most. Real Dockerfiles, manifests and entrypoint scripts are
# far smaller; past this a file is reported as too large rather than read in part (a fix must
# never rewrite a file it did not read whole).
MAX_BYTES = 10_000_000


def read_bytes(path: str, limit: int = MAX_BYTES) -> bytes:
    """The whole content of the regular file `path`, or an InputError that says why not.

    Opened without blocking and checked on the open descriptor, so a FIFO, a device or a
    symlink to `/dev/zero` is refused instead of hanging or filling memory; a file larger than
    `limit` is refused, never cut."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(path, f"cannot read: not a regular file ({_file_type(info.st_mode)})")
        if info.st_size > limit:
            raise InputError(path, f"larger than {limit:,} bytes ({info.st_size:,}); initify reads files up to that size")
        chunks = []
        size = 0
        while True:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputError(path, f"larger than {limit:,} bytes; initify reads files up to that size")
        return b"".join(chunks)
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def is_regular(path: str) -> bool:
    """Whether `path` (symlinks followed) is a regular file; never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def inside(path: str, root: str) -> bool:
    """Whether `path`, symlinks resolved, stays inside `root` (symlinks resolved too)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def project_root(paths: List[str]) -> str:
    """The folder files may be read from: the common folder of the named paths (a named file
    counts by its folder). Nothing outside it is read through a symlink, a compose file or a
    configuration."""
    folders = [os.path.abspath(p) if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths or ["."]]
    try:
        return os.path.commonpath(folders)
    except ValueError:  # pragma: no cover - different drives on Windows
        return os.path.abspath(".")


def _walk(top: str) -> Iterator[Tuple[str, List[str]]]:
    """(folder, sorted file names) for `top` and every folder below it, depth first in name
    order, symlinked folders not entered. A stack, not recursion: a thousand nested folders are
    fine. An unreadable folder is passed over as os.walk does."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        dirs, files = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        yield folder, [entry.name for entry in files]
        below = [entry.path for entry in dirs if not entry.is_symlink() and not _skip_dir(folder, entry.name)]
        stack.extend(reversed(below))


def discover(paths: List[str], kinds: List[str], skipped: Optional[List[InputError]] = None) -> Iterator[str]:
    """Files to lint, in a stable order.

    A named path that is missing, not a regular file or a symlink out of the project is an
    InputError (exit 2). A file found in a named folder that is not a regular file or whose
    symlink leaves the project is not yielded: it goes to `skipped` (reported as IN001)."""
    seen = set()
    root = project_root(paths)
    for path in paths:
        if not os.path.lexists(path):
            raise InputError(path, "no such file or directory")
        if not os.path.isdir(path):
            if not os.path.exists(path):
                raise InputError(path, "a symlink to nothing")
            if not is_regular(path):
                raise InputError(path, f"not a regular file ({_file_type(os.stat(path).st_mode)}); not read")
            if not inside(path, root):
                raise InputError(path, "a symlink that leaves the project; not read")
            if path not in seen:
                seen.add(path)
                yield path
            continue
        for folder, names in _walk(path):
            for name in names:
                full = os.path.join(folder, name)
                if not _wanted(name, kinds) or full in seen:
                    continue
                seen.add(full)
                problem = None
                if not is_regular(full):
                    problem = (f"not a regular file ({_file_type(os.stat(full).st_mode)}); not read" if os.path.exists(full)
                               else "a symlink to nothing; not read")
                elif not inside(full, root):
                    problem = "a symlink that leaves the project; not read"
                if problem is None:
                    yield full
                elif skipped is not None:
                    skipped.append(InputError(full, problem))

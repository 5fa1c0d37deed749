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


# Paths that name a descriptor this process already holds: `/dev/stdin`, and `/dev/fd/63` from
# the shell's `<(helm template chart)`. Read once, with the size cap. Any other path that is not
# a regular file (a FIFO or a device node in the tree) is refused: reading it could hang.
_DESCRIPTOR_PATHS = ("/dev/stdin", "/dev/fd/", "/proc/self/fd/")


def is_stream(path: str) -> bool:
    """A named descriptor path (`/dev/stdin`, `<(...)`) that is not a folder: a pipe, which can be
    read only once, or a redirected file, which resolves outside the project (see `read_stream`)."""
    if path == STDIN or not (path == _DESCRIPTOR_PATHS[0] or path.startswith(_DESCRIPTOR_PATHS[1:])):
        return False
    return os.path.exists(path) and not os.path.isdir(path)  # also `< file`: read once, as given


def read_stream(path: str, limit: Optional[int] = None) -> bytes:
    """The content of a named descriptor path or of standard input (`-`), read once and never
    past the size cap (`/dev/stdin` from `/dev/zero` is refused, not read until memory runs out)."""
    import sys

    limit = MAX_BYTES if limit is None else limit
    try:
        handle = sys.stdin.buffer if path == STDIN else open(path, "rb")
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    try:
        data = handle.read(limit + 1)
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    finally:
        if path != STDIN:
            handle.close()
    if len(data) > limit:
        raise InputError(path, f"larger than {limit:,} bytes; initify reads input up to that size")
    return data


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


def _walk(top: str, charts: Optional[List[str]] = None) -> Iterator[Tuple[str, List[str]]]:
    """(folder, sorted file names) for `top` and every folder below it, depth first in name
    order, symlinked folders not entered. A stack, not recursion: a thousand nested folders are
    fine. An unreadable folder is passed over as os.walk does. With `charts`, a folder holding
    `Chart.yaml` (a Helm chart: templates, not manifests) is added to it, neither yielded nor entered."""
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
        if charts is not None and any(entry.name == "Chart.yaml" for entry in files):
            charts.append(folder)
            continue
        yield folder, [entry.name for entry in files]
        below = [entry.path for entry in dirs if not entry.is_symlink() and not _skip_dir(folder, entry.name)]
        stack.extend(reversed(below))


def discover(paths: List[str], kinds: List[str], charts: Optional[List[str]] = None,
             skipped: Optional[List[InputError]] = None) -> Iterator[str]:
    """Files to lint, in a stable order.

    A folder holding `Chart.yaml` is a Helm chart: its files are templates, not manifests, so
    nothing below it is yielded; its path is added to `charts` (when given) for a note.

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
        for folder, names in _walk(path, charts):
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

"""Facts about an image that rules and fixes ask: which shell, which init, which tools, what it runs.

Three sources, best first, and every fact keeps the one it came from (`Fact.source`):

1. the real image: the local containers-storage (`initify.image.storage`, what `buildah images`
   lists), and with `--image-facts registry` a registry (`initify.image.registry`, via skopeo);
2. the knowledge table (`[[images]]` in rules/knowledge.toml), matched on the reference;
3. unknown: the fact is missing, and a rule that needs it says so or stays silent.

A real image answers what its files and config show; what they cannot show (what /sbin/init is
once the Dockerfile installs the distribution's init, say) comes from the table, found by the
reference or by the distribution its /etc/os-release names.

`--image-facts off|local|registry` picks the sources (`configure`); `summary()` is the one line
the commands print on stderr: how many images were resolved from where.
"""

from __future__ import annotations

import os
from typing import Dict, List, NamedTuple, Optional, Tuple

from initify.record import Record

MODES = ("off", "local", "registry")
CONFIG_FACTS = ("entrypoint", "cmd", "stopsignal")  # from the image's config: never filled in from the table
LOCAL = "local"
REGISTRY = "registry"
TABLE = "table"
UNKNOWN = "unknown"

# What `sh -c SCRIPT` does with the script's last simple command (tests/test_image_shells.py
# measures each in a real PID namespace): True = exec (the command takes the shell's PID).
EXECS_LAST_COMMAND = {"dash": False, "bash": True, "busybox": True}
_SHELL_NAMES = {"bash": "bash", "dash": "dash", "ash": "busybox", "busybox": "busybox"}

# The distribution /etc/os-release names -> an image-table reference of that distribution.
OS_RELEASE_IMAGES = {
    "debian": "debian:latest", "ubuntu": "ubuntu:latest", "alpine": "alpine:latest", "fedora": "fedora:latest",
    "centos": "centos:stream9", "rocky": "rockylinux:9", "amzn": "amazonlinux:2023",
}


class Fact(NamedTuple):
    value: object
    source: str  # "local image localhost/app:1: /bin/sh -> dash", "knowledge table alpine:*: ..."


class ImageInfo(Record):
    """What is known about one image reference: facts by name (see knowledge.IMAGE_FACTS)."""

    __slots__ = ("reference", "origin", "facts", "digest")

    def __init__(self, reference: str, origin: str, facts: Optional[Dict[str, Fact]] = None,
                 digest: Optional[str] = None) -> None:
        self.reference = reference
        self.origin = origin  # LOCAL, REGISTRY, TABLE or UNKNOWN: where the image itself was read
        self.facts: Dict[str, Fact] = {} if facts is None else facts
        self.digest = digest

    def get(self, name: str) -> Optional[Fact]:
        return self.facts.get(name)

    def value(self, name: str, default: object = None) -> object:
        fact = self.facts.get(name)
        return default if fact is None else fact.value

    def known(self, name: str) -> bool:
        return name in self.facts

    @property
    def config_known(self) -> bool:
        """Whether ENTRYPOINT and CMD are both known (from the config or the table)."""
        return "entrypoint" in self.facts and "cmd" in self.facts


def shell_flavour(program: str, image: Optional[ImageInfo]) -> Optional[Fact]:
    """Which shell `program` (argv[0]) is: "dash", "bash", "busybox", or None when not known.

    `bash`, `dash`, `ash`, `busybox` name themselves; `sh` (`/bin/sh`) is what the image says."""
    name = os.path.basename(program)
    if name in _SHELL_NAMES:
        return Fact(_SHELL_NAMES[name], f"argv[0] is {name}")
    if name == "sh" and image is not None:
        fact = image.get("sh")
        if fact is not None and fact.value in EXECS_LAST_COMMAND:
            return fact
    return None


def execs_last_command(program: str, image: Optional[ImageInfo]) -> Optional[bool]:
    """Whether `program -c SCRIPT` execs SCRIPT's last simple command (None: not known)."""
    fact = shell_flavour(program, image)
    return None if fact is None else EXECS_LAST_COMMAND[str(fact.value)]


def init_identity(program: str, image: Optional[ImageInfo]) -> Optional[Fact]:
    """What `/sbin/init` (or `/usr/sbin/init`) really is in `image`: systemd, busybox, openrc,
    sysvinit, "" for none; None when not known. An explicit systemd path names itself."""
    if os.path.basename(program) == "systemd" or "/systemd/" in program:
        return Fact("systemd", f"argv[0] is {program}")
    if image is None:
        return None
    fact = image.get("init")
    return fact


def table_facts(reference: str) -> Optional[Dict[str, Fact]]:
    """The knowledge table's facts for `reference`, each with its source (None: no entry)."""
    from initify.knowledge import loader as knowledge

    entry = knowledge.load().image_entry(reference)
    if entry is None:
        return None
    return {name: Fact(value, f"knowledge table {entry.pattern}: {entry.sources[name]}")
            for name, value in entry.facts.items()}


def merge_real(info: ImageInfo, os_id: Optional[str]) -> ImageInfo:
    """Fill what a real image could not show from the table (by reference, else by distribution)."""
    table = table_facts(info.reference)
    if table is None and os_id in OS_RELEASE_IMAGES:
        table = table_facts(OS_RELEASE_IMAGES[os_id])  # type: ignore[index]
    for name, fact in (table or {}).items():
        if name not in info.facts and name not in CONFIG_FACTS:
            info.facts[name] = fact
    execs = info.facts.get("entrypoint_execs_args")
    if execs is not None and (table or {}).get("entrypoint", Fact(None, "")).value != info.value("entrypoint"):
        del info.facts["entrypoint_execs_args"]  # the table's start script is not this image's ENTRYPOINT
    return info


def passes_on_args(program: str, image: Optional[ImageInfo]) -> Optional[Fact]:
    """Whether `program` is `image`'s own ENTRYPOINT start script and execs its arguments (the
    official images' docker-entrypoint.sh end in `exec "$@"`): the fact, None when not known."""
    if image is None:
        return None
    fact = image.get("entrypoint_execs_args")
    entrypoint = image.value("entrypoint")
    if fact is None or fact.value is not True or not isinstance(entrypoint, list) or entrypoint[:1] != [program]:
        return None
    return fact


def _real_info(reference: str, origin: str, found: Dict[str, Tuple[object, str]], os_id: Optional[str],
               digest: Optional[str]) -> ImageInfo:
    info = ImageInfo(reference, origin, {name: Fact(value, source) for name, (value, source) in found.items()}, digest)
    return merge_real(info, os_id)


# --------------------------------------------------------------------------------------------
# The resolver: one per run, so each reference is read once and the summary can count them
# --------------------------------------------------------------------------------------------


class Resolver:
    """Resolves image references with the sources `mode` allows, once each."""

    def __init__(self, mode: str = LOCAL) -> None:
        if mode not in MODES:
            raise ValueError(f"--image-facts must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.seen: Dict[str, ImageInfo] = {}
        self.notes: List[str] = []  # why a real image could not be read (a registry error...)

    def resolve(self, reference: str) -> ImageInfo:
        key = reference.strip()
        found = self.seen.get(key)
        if found is None:
            found = self._resolve(key)
            self.seen[key] = found
        return found

    def _resolve(self, reference: str) -> ImageInfo:
        if reference.lower() != "scratch" and "$" not in reference and self.mode != "off":
            real = self._real(reference)
            if real is not None:
                return real
        table = table_facts(reference)
        if table is not None:
            return ImageInfo(reference, TABLE, table)
        return ImageInfo(reference, UNKNOWN)

    def _real(self, reference: str) -> Optional[ImageInfo]:
        from initify.image import storage

        try:
            found = storage.read_image(reference)
        except storage.StorageError as error:
            self.notes.append(f"{reference}: local storage not readable: {error}")
            found = None
        if found is not None:
            return _real_info(reference, LOCAL, *found)
        if self.mode == REGISTRY:
            from initify.image import registry

            try:
                return _real_info(reference, REGISTRY, *registry.read_image(reference))
            except registry.RegistryError as error:
                self.notes.append(f"{reference}: {error}")
        return None

    def summary(self) -> Optional[str]:
        """`initify: image facts: 1 from local storage, 2 from the knowledge table` (None: no image)."""
        if not self.seen:
            return None
        counts: Dict[str, int] = {}
        for info in self.seen.values():
            counts[info.origin] = counts.get(info.origin, 0) + 1
        words = {LOCAL: "from local storage", REGISTRY: "from a registry", TABLE: "from the knowledge table",
                 UNKNOWN: "unknown"}
        parts = [f"{counts[origin]} {words[origin]}" for origin in (LOCAL, REGISTRY, TABLE, UNKNOWN) if origin in counts]
        total = len(self.seen)
        line = f"initify: image facts ({self.mode}): {total} image{'s' if total != 1 else ''}: " + ", ".join(parts)
        return line


_current = Resolver(LOCAL)


def configure(mode: str) -> Resolver:
    """Start a run with `--image-facts MODE`; returns the run's resolver."""
    global _current
    _current = Resolver(mode)
    return _current


def current() -> Resolver:
    return _current


def resolve(reference: str) -> ImageInfo:
    """Facts about `reference` from the sources this run allows."""
    return _current.resolve(reference)

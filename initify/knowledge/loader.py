"""Typed access to the knowledge base: inits, shells, launchers, daemons and base images.

People edit rules/knowledge.toml; initify reads rules/knowledge.json, the copy that
scripts/build_knowledge.py writes from it (the JSON parser is loaded anyway, the TOML one would
cost a pre-commit run ~4 ms). tests/test_knowledge.py keeps the two in step.
"""

from __future__ import annotations

import fnmatch
import json
import os
from functools import lru_cache
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Tuple

from initify.resources import data_dir


class Init(NamedTuple):
    key: str
    names: FrozenSet[str]
    paths: FrozenSet[str]
    options_with_value: FrozenSet[str]
    supervises_argv: bool
    stop_signal: Optional[str]
    signals_group: bool = False
    group_options: FrozenSet[str] = frozenset()
    single_child_options: FrozenSet[str] = frozenset()
    stops_promptly: bool = False  # it does not wait for its services one by one (BusyBox init)

    def forwards_to_group(self, args: List[str]) -> bool:
        """Whether this init, run with `args`, sends the signals it gets to its child's whole group."""
        own: List[str] = []
        index = 0
        while index < len(args) and args[index].startswith("-") and args[index] != "--":
            own.append(args[index])  # the init's own options end at `--` or the child's argv[0]
            index += 2 if args[index] in self.options_with_value else 1
        flags = set(own)
        for arg in own:  # combined short options such as tini's `-sg`
            if len(arg) > 2 and arg[0] == "-" and arg[1] != "-":
                flags.update("-" + letter for letter in arg[1:])
        if flags & self.single_child_options:
            return False
        return self.signals_group or bool(flags & self.group_options)


class Daemon(NamedTuple):
    key: str
    names: FrozenSet[str]
    stop_signal: str
    source: str


class Base(NamedTuple):
    pattern: str
    python3: bool
    package_manager: Optional[str]


IMAGE_FACTS = ("sh", "init", "package_manager", "kill", "python3", "tini", "dumb_init", "entrypoint", "cmd", "stopsignal",
               "entrypoint_execs_args")


class ImageEntry(NamedTuple):
    """One row of the image table: a pattern, and each fact it knows with the source of that fact."""

    pattern: str
    example: str
    family: str
    facts: Dict[str, object]  # fact name -> value (a fact not there is unknown)
    sources: Dict[str, str]  # fact name -> where it comes from


class ImageStopSignal(NamedTuple):
    repository: str
    tag_contains: str
    stop_signal: str


class Interpreter(NamedTuple):
    """A language runtime that, as PID 1, stops only if the code it runs handles the stop signal."""

    key: str
    names: FrozenSet[str]
    version_suffix: bool  # `python3.12`, `php8.3` count too
    extensions: Tuple[str, ...]
    options_with_value: FrozenSet[str]
    handlers: Tuple[str, ...]  # regular expressions over the code that install a SIGTERM handler

    def matches(self, program: str) -> bool:
        base = os.path.basename(program)
        if base in self.names:
            return True
        if self.version_suffix:
            stem = base.rstrip("0123456789.")
            return stem != base and stem in self.names
        return False


class SignalFramework(NamedTuple):
    """A server or framework that installs a SIGTERM handler for the code that starts it."""

    interpreter: str
    name: str
    pattern: str
    modules: FrozenSet[str]


class Knowledge(NamedTuple):
    inits: Tuple[Init, ...]
    shells: FrozenSet[str]
    launchers: FrozenSet[str]
    daemons: Tuple[Daemon, ...]
    bases: Tuple[Base, ...]
    image_stop_signals: Tuple[ImageStopSignal, ...] = ()
    images: Tuple[ImageEntry, ...] = ()
    interpreters: Tuple[Interpreter, ...] = ()
    signal_frameworks: Tuple[SignalFramework, ...] = ()

    def interpreter_for(self, program: str) -> Optional[Interpreter]:
        """The interpreter `program` (argv[0]) starts: `python3`, `/usr/local/bin/node`..."""
        for interpreter in self.interpreters:
            if interpreter.matches(program):
                return interpreter
        return None

    def init_for(self, program: str) -> Optional[Init]:
        """The known init that `program` (argv[0]) starts, matched by exact path or basename."""
        base = os.path.basename(program)
        for init in self.inits:
            if program in init.paths or base in init.names:
                return init
        return None

    def init_by_key(self, key: str) -> Optional[Init]:
        for init in self.inits:
            if init.key == key:
                return init
        return None

    def daemon_for(self, program: str) -> Optional[Daemon]:
        base = os.path.basename(program)
        for daemon in self.daemons:
            if base in daemon.names:
                return daemon
        return None

    def is_shell(self, program: str) -> bool:
        return os.path.basename(program) in self.shells

    def is_launcher(self, program: str) -> bool:
        return os.path.basename(program) in self.launchers

    def image_stop_signal(self, image: str) -> Optional[str]:
        """The STOPSIGNAL an official base image is known to set (None: unknown or none)."""
        name = image.lower().split("@", 1)[0]
        for prefix in ("docker.io/library/", "index.docker.io/library/", "library/"):
            if name.startswith(prefix):
                name = name[len(prefix):]
        if "/" in name:
            return None  # not an official image
        repository, _, tag = name.partition(":")
        for entry in self.image_stop_signals:
            if repository == entry.repository and entry.tag_contains in tag:
                return entry.stop_signal
        return None

    def image_entry(self, image: str) -> Optional[ImageEntry]:
        """The first image-table entry whose pattern matches `image` (docker.io/library/ stripped)."""
        name = table_name(image)
        for entry in self.images:
            if glob_match(name, entry.pattern):
                return entry
        return None

    def base_for(self, image: str) -> Optional[Base]:
        """python3 and the package manager of `image`, from the image table (None: not in it)."""
        entry = self.image_entry(image)
        if entry is None:
            return None
        manager = entry.facts.get("package_manager") or None
        return Base(entry.pattern, bool(entry.facts.get("python3", False)), manager)  # type: ignore[arg-type]


def glob_match(name: str, pattern: str) -> bool:
    """fnmatchcase for `*`, `?` and `[...]` without compiling a regular expression per pattern
    (compiling the image table's patterns cost a lint run several milliseconds)."""
    if "[" in pattern:
        return fnmatch.fnmatchcase(name, pattern)
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return _same(name, pattern)
    first, last = pieces[0], pieces[-1]
    if len(name) < len(first) + len(last) or not _same(name[:len(first)], first):
        return False
    if last and not _same(name[len(name) - len(last):], last):
        return False
    position, end = len(first), len(name) - len(last)
    for piece in pieces[1:-1]:
        found = _find(name, piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _same(text: str, pattern: str) -> bool:
    return len(text) == len(pattern) and all(p == "?" or p == c for c, p in zip(text, pattern))


def _find(text: str, piece: str, start: int, end: int) -> int:
    if "?" not in piece:
        return text.find(piece, start, end)
    for index in range(start, end - len(piece) + 1):
        if _same(text[index:index + len(piece)], piece):
            return index
    return -1


def table_name(image: str) -> str:
    """`docker.io/library/python:3` -> `python:3`; a missing tag is `latest`; a digest is dropped."""
    name = image.split("@", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def _image_entries(data: Dict) -> Tuple[ImageEntry, ...]:
    families: Dict[str, Dict] = data.get("image_families", {})
    entries = []
    for row in data.get("images", []):
        family = families.get(row["family"], {})
        facts: Dict[str, object] = {}
        sources: Dict[str, str] = {}
        for name in IMAGE_FACTS:
            if name in row:
                facts[name], sources[name] = row[name], row["source"]
            elif name in family:
                facts[name], sources[name] = family[name], family["sources"][name]
        entries.append(ImageEntry(row["pattern"], row["example"], row["family"], facts, sources))
    return tuple(entries)


def _frozen(values: Optional[List[str]]) -> FrozenSet[str]:
    return frozenset(values or [])


@lru_cache(maxsize=1)
def load() -> Knowledge:
    with open(os.path.join(data_dir("rules"), "knowledge.json"), "rb") as handle:
        data: Dict = json.load(handle)
    inits = tuple(
        Init(
            key=key,
            names=_frozen(entry.get("names")),
            paths=_frozen(entry.get("paths")),
            options_with_value=_frozen(entry.get("options_with_value")),
            supervises_argv=bool(entry.get("supervises_argv", True)),
            stop_signal=entry.get("stop_signal"),
            signals_group=bool(entry.get("signals_group", False)),
            group_options=_frozen(entry.get("group_options")),
            single_child_options=_frozen(entry.get("single_child_options")),
            stops_promptly=bool(entry.get("stops_promptly", False)),
        )
        for key, entry in data["inits"].items()
    )
    daemons = tuple(
        Daemon(key=key, names=_frozen(entry["names"]), stop_signal=entry["stop_signal"], source=entry["source"])
        for key, entry in data["daemons"].items()
    )
    images = _image_entries(data)
    bases = tuple(Base(e.pattern, bool(e.facts.get("python3", False)), e.facts.get("package_manager") or None)  # type: ignore[arg-type]
                  for e in images)
    image_stop_signals = tuple(
        ImageStopSignal(entry["repository"], entry.get("tag_contains", ""), entry["stop_signal"])
        for entry in data.get("image_stop_signals", [])
    )
    interpreters = tuple(
        Interpreter(
            key=key,
            names=_frozen(entry["names"]),
            version_suffix=bool(entry.get("version_suffix", False)),
            extensions=tuple(entry.get("extensions", [])),
            options_with_value=_frozen(entry.get("options_with_value")),
            handlers=tuple(entry.get("handlers", [])),
        )
        for key, entry in data.get("interpreters", {}).items()
    )
    frameworks = tuple(
        SignalFramework(entry["interpreter"], entry["name"], entry["pattern"], _frozen(entry.get("modules")))
        for entry in data.get("signal_frameworks", [])
    )
    return Knowledge(
        interpreters=interpreters,
        signal_frameworks=frameworks,
        image_stop_signals=image_stop_signals,
        inits=inits,
        shells=_frozen(data["shells"]["names"]),
        launchers=_frozen(data["launchers"]["names"]),
        daemons=daemons,
        bases=bases,
        images=images,
    )

"""Read compose files: per service the image or build, command, entrypoint, init and stop settings.

Loaded with the same round-trip YAML layer as Kubernetes manifests (see `initify.kubernetes.manifests`), so
services can be edited in place and written back with `dump_documents`. Anchors, aliases and `<<:`
merge keys are resolved by ruamel.yaml: a service reads merged keys like its own, and `line_of`
points into the anchored mapping for them.
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Dict, List, Optional, Tuple

from initify import discover
from initify.knowledge.durations import parse_duration
from initify.errors import InputError
from initify.kubernetes.manifests import (
    YamlStyle,
    bool_value,
    detect_style,
    is_mapping,
    is_sequence,
    key_line,
    node_line,
    parse_documents,
    read_text,
    scalar_text,
    string_list,
    value_line,
)
from initify.record import Record

def is_compose_path(path: str) -> bool:
    """True for compose file names (see discover.is_compose_name)."""
    return discover.is_compose_name(os.path.basename(path))


class ComposeService(Record):
    __slots__ = ("name", "image", "build_context", "dockerfile", "build_target", "build_args", "command",
                 "command_raw", "command_from_string", "entrypoint", "entrypoint_raw", "entrypoint_from_string",
                 "init", "stop_signal", "stop_grace_period", "node", "line")

    def __init__(self, name: str, image: Optional[str], build_context: Optional[str], dockerfile: Optional[str],
                 build_target: Optional[str], build_args: Dict[str, str], command: Optional[List[str]],
                 command_raw: Any, command_from_string: bool, entrypoint: Optional[List[str]], entrypoint_raw: Any,
                 entrypoint_from_string: bool, init: Optional[bool], stop_signal: Optional[str],
                 stop_grace_period: Optional[float], node: Any, line: int) -> None:
        self.name = name
        self.image = image
        self.build_context = build_context  # None when the service has no `build`; "." for a mapping without context
        self.dockerfile = dockerfile  # build.dockerfile as written; None means the default `Dockerfile`
        self.build_target = build_target  # build.target: the stage compose builds (None: the last one)
        self.build_args = build_args  # build.args with a value (an arg without one comes from the environment)
        self.command = command  # argv; None when `command` is absent or null
        self.command_raw = command_raw  # the YAML value as written (string or list)
        self.command_from_string = command_from_string  # written as a string, split like a POSIX shell splits words
        self.entrypoint = entrypoint
        self.entrypoint_raw = entrypoint_raw
        self.entrypoint_from_string = entrypoint_from_string
        self.init = init
        self.stop_signal = stop_signal
        self.stop_grace_period = stop_grace_period  # seconds
        self.node = node  # the service CommentedMap, for later edits
        self.line = line  # line of the service's name key under `services:`

    def line_of(self, key: str) -> int:
        """Line of `key` in the service (or in a `<<:` merged mapping), else the service's line."""
        return key_line(self.node, key, self.line)


class ComposeFile(Record):
    __slots__ = ("path", "text", "documents", "services", "style")

    def __init__(self, path: str, text: str, documents: List[Any], services: List[ComposeService],
                 style: Optional[YamlStyle] = None) -> None:
        self.path = path
        self.text = text  # decoded text, BOM removed
        self.documents = documents  # every loaded document, for in-place edits and dump_documents
        self.services = services
        self.style: YamlStyle = YamlStyle() if style is None else style

    @property
    def document(self) -> Any:
        """The first document (compose files normally have exactly one)."""
        return self.documents[0] if self.documents else None


def split_words(path: str, text: str, line: int) -> List[str]:
    """Split a string `command`/`entrypoint` into argv the way compose does: POSIX shell word
    rules (quotes, backslashes), no shell is run, `#` is not a comment."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as error:
        raise InputError(path, f"cannot split command line {text!r}: {error}", line) from None


def _argv(path: str, service: Any, key: str, line: int) -> Tuple[Optional[List[str]], bool]:
    """(argv, from_string) for `command` or `entrypoint`."""
    value = service.get(key)
    if isinstance(value, str):
        return split_words(path, value, value_line(service, key, line)), True
    if is_sequence(value):
        return string_list(value), False
    text = scalar_text(value)  # a bare number or boolean: one word
    return ([text] if text is not None else None), False


def _build(service: Any) -> Tuple[Optional[str], Optional[str], Optional[str], Dict[str, str]]:
    """(context, dockerfile, target, args) from `build: ctx` or `build: {context, dockerfile, ...}`."""
    build = service.get("build")
    if not is_mapping(build):
        return scalar_text(build), None, None, {}
    context = scalar_text(build.get("context")) or "."
    return context, scalar_text(build.get("dockerfile")), scalar_text(build.get("target")), _build_args(build.get("args"))


def _build_args(value: Any) -> Dict[str, str]:
    """`args: {NAME: value}` or `args: [NAME=value]`; a NAME without a value is left out (compose
    takes it from its own environment, which a linter cannot know)."""
    found: Dict[str, str] = {}
    if is_mapping(value):
        for name, item in value.items():
            text = scalar_text(item)
            if text is not None:
                found[str(name)] = text
    elif is_sequence(value):
        for item in value:
            name, equals, text = str(item).partition("=")
            if equals:
                found[name] = text
    return found


def _grace_period(path: str, service: Any, line: int) -> Optional[float]:
    """stop_grace_period in seconds; a bare number is taken as seconds."""
    value = service.get("stop_grace_period")
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_duration(str(value))
    except ValueError as error:
        where = value_line(service, "stop_grace_period", line)
        raise InputError(path, f"stop_grace_period: {error}", where) from None


def _service(path: str, name: Any, node: Any, line: int) -> ComposeService:
    command, command_from_string = _argv(path, node, "command", line)
    entrypoint, entrypoint_from_string = _argv(path, node, "entrypoint", line)
    context, dockerfile, target, args = _build(node)
    return ComposeService(
        name=str(name),
        image=scalar_text(node.get("image")),
        build_context=context,
        dockerfile=dockerfile,
        build_target=target,
        build_args=args,
        command=command,
        command_raw=node.get("command"),
        command_from_string=command_from_string,
        entrypoint=entrypoint,
        entrypoint_raw=node.get("entrypoint"),
        entrypoint_from_string=entrypoint_from_string,
        init=bool_value(node.get("init")),
        stop_signal=scalar_text(node.get("stop_signal")),
        stop_grace_period=_grace_period(path, node, line),
        node=node,
        line=line,
    )


def find_services(path: str, documents: List[Any]) -> List[ComposeService]:
    """Services of every mapping document, in file order; non-mapping entries are skipped."""
    found: List[ComposeService] = []
    for doc in documents:
        services = doc.get("services") if is_mapping(doc) else None
        if not is_mapping(services):
            continue
        for name, node in services.items():
            if is_mapping(node):
                line = key_line(services, name, node_line(node, 1))
                found.append(_service(path, name, node, line))
    return found


def load_compose(path: str, text: Optional[str] = None, round_trip: bool = True) -> ComposeFile:
    """Load a compose file (read from `path` unless `text` is given). Without `round_trip`, for
    reading only: documents carry no comments (see `parse_documents`) and load much faster."""
    body, bom = read_text(path, text)
    style = detect_style(body, bom)
    documents = parse_documents(path, body, style, round_trip)
    services = find_services(path, documents)
    return ComposeFile(path=path, text=body, documents=documents, services=services, style=style)

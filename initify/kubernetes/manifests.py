"""Read Kubernetes manifests: the pod specs and containers a rule needs, with 1-based line numbers.

Files are loaded with ruamel.yaml in round-trip mode and the loaded `CommentedMap`s are kept, so
`dump_documents` can write them back keeping comments, key order, quoting, flow style and
document markers. Lint and fix only read them (fixes splice text): they ask for
`round_trip=False`, and libyaml (ruamel.yaml's C extension) reads the file into the same objects
without comments, about five times faster (`initify.kubernetes.fast_yaml`). The YAML layer (reading, style detection, dumping)
lives here too and is shared with `initify.compose.files`.

ruamel.yaml is imported inside functions only: importing it costs tens of milliseconds, and a run
over Dockerfiles alone must not pay for it.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, NamedTuple, Optional, Protocol, Tuple

from initify.errors import InputError
from initify.record import Record

if TYPE_CHECKING:
    from ruamel.yaml import YAML


# ---------------------------------------------------------------------------------------------
# YAML layer shared with compose.py
# ---------------------------------------------------------------------------------------------


class YamlStyle(NamedTuple):
    """How a file is laid out, detected from its text so a dump looks like the original.

    ruamel.yaml cannot preserve indentation per node, only one setting per dump, so files that mix
    styles (for example `- item` both flush with and indented under its key) are not reproduced
    byte for byte when re-rendered; nor are trailing spaces after `key:`, `...` markers on some
    documents only, odd indentation inside flow collections (`[ "a" ]`) or whitespace-only lines at
    the end. `dump_documents` returns the original text when nothing changed.
    """

    mapping_indent: int = 2
    sequence_indent: int = 2  # column of a sequence item's content, relative to the parent key
    sequence_dash_offset: int = 0  # column of the `-`, relative to the parent key
    explicit_start: bool = False  # the first document starts with `---`
    explicit_end: bool = False  # documents end with `...` (judged by the last one)
    bom: bool = False
    newline: str = "\n"  # "\r\n" for CRLF files
    final_newline: bool = True  # the text ends with a line break


class YamlFile(Protocol):
    """What `dump_documents` needs: satisfied by ManifestFile and ComposeFile."""

    path: str
    text: str
    documents: List[Any]
    style: YamlStyle


def read_text(path: str, text: Optional[str] = None) -> Tuple[str, bool]:
    """Return (text without BOM, had_bom). Read `path` unless `text` is given.

    Binary and non-UTF-8 files raise InputError: YAML must be Unicode, and guessing an encoding
    would make a later rewrite corrupt the file.
    """
    if text is None:
        from initify.discover import read_bytes

        data = read_bytes(path)
        if b"\x00" in data:
            line = data[: data.index(b"\x00")].count(b"\n") + 1
            raise InputError(path, "binary file (contains NUL bytes)", line)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise InputError(path, "not UTF-8 text", line) from None
    elif "\x00" in text:
        raise InputError(path, "binary file (contains NUL bytes)", text[: text.index("\x00")].count("\n") + 1)
    if text.startswith("\ufeff"):
        return text[1:], True
    return text, False


_BLOCK_SCALAR_START = re.compile(r"(?:^|[:\-]\s)\s*[|>][+\-]?[1-9]?[+\-]?\s*(?:#.*)?$")
_DASH_ITEM = re.compile(r"^( *)-( +)\S")
_KEY_ONLY = re.compile(r"^( *)((?:- +)*)[^\s#'\"{\[][^#]*?:\s*(?:#.*)?$")


def _significant_lines(text: str) -> Iterator[str]:
    """Yield lines that carry structure: no blanks, no comment-only lines, no block-scalar bodies."""
    block_indent: Optional[int] = None
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        yield line
        if _BLOCK_SCALAR_START.search(line):
            block_indent = indent


def _mode(values: List[int], default: int) -> int:
    """Most common value (the smallest on ties), or `default` when there is none."""
    if not values:
        return default
    counts = Counter(values)
    best = max(counts.values())
    return min(value for value, count in counts.items() if count == best)


def detect_style(text: str, bom: bool = False) -> YamlStyle:
    """Guess indentation, sequence dash offset, document start marker and line ends from `text`."""
    mapping_steps: List[int] = []
    dash_offsets: List[int] = []
    dash_gaps: List[int] = []
    previous: Optional[str] = None
    lines = list(_significant_lines(text))
    for line in lines:
        if line.startswith("---") or line.startswith("..."):
            previous = None
            continue
        dash = _DASH_ITEM.match(line)
        if dash:
            dash_gaps.append(1 + len(dash.group(2)))
        indent = len(line) - len(line.lstrip(" "))
        key_only = _KEY_ONLY.match(previous) if previous is not None else None
        if key_only:
            key_column = len(key_only.group(1)) + len(key_only.group(2))
            if indent > key_column:
                if dash:
                    dash_offsets.append(indent - key_column)
                else:
                    mapping_steps.append(indent - key_column)
            elif indent == key_column and dash:
                dash_offsets.append(0)
        previous = line
    offset = _mode(dash_offsets, 0)
    first, last = (lines[0], lines[-1]) if lines else ("", "")
    return YamlStyle(
        mapping_indent=_mode(mapping_steps, 2),
        sequence_indent=offset + _mode(dash_gaps, 2),
        sequence_dash_offset=offset,
        explicit_start=first.startswith("---"),
        explicit_end=last.startswith("..."),
        bom=bom,
        newline="\r\n" if "\r\n" in text else "\n",
        final_newline=text.endswith("\n") or text == "",
    )


_constructor_class: Any = None


def _lenient_constructor() -> Any:
    """The round-trip constructor, except that a plain scalar shaped like a timestamp but not a
    real date (`2024-13-45`) stays a string instead of failing the whole file.

    YAML 1.2's core schema has no timestamps, and kubectl and compose read such values as strings.
    """
    global _constructor_class
    if _constructor_class is None:
        from ruamel.yaml.constructor import RoundTripConstructor

        class LenientConstructor(RoundTripConstructor):
            def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
                try:
                    return super().construct_yaml_timestamp(node, values)
                except ValueError:
                    return self.construct_scalar(node)

        LenientConstructor.add_constructor(
            "tag:yaml.org,2002:timestamp", LenientConstructor.construct_yaml_timestamp
        )
        _constructor_class = LenientConstructor
    return _constructor_class


def new_yaml(style: YamlStyle) -> "YAML":
    """A round-trip YAML instance configured to load and dump in `style`."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Constructor = _lenient_constructor()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    yaml.indent(
        mapping=style.mapping_indent,
        sequence=style.sequence_indent,
        offset=style.sequence_dash_offset,
    )
    yaml.explicit_start = style.explicit_start
    yaml.explicit_end = style.explicit_end
    return yaml


def _one_line(message: object, limit: int = 160) -> str:
    """An error on one line, cut short, with no value from the file: a duplicate key names its
    key only (the value may be a secret)."""
    text = " ".join(str(message).split())
    if text.startswith("found duplicate key"):
        key = re.match(r'found duplicate key "([^"]{1,40})"', text)
        text = f'duplicate key "{key.group(1)}"' if key is not None else "duplicate key"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# How many values a file may hold once its aliases are expanded. Every walk over a document
# (finding pods, comparing a fix's result) sees an alias as a copy, so nine levels of nine
# aliases (387 million values from a few lines) would take minutes and gigabytes.
MAX_NODES = 1_000_000


def expanded_size(documents: List[Any], limit: int = MAX_NODES) -> int:
    """The number of values in `documents` with every alias expanded, counted once per distinct
    node (memoised, no recursion); stops counting past `limit`."""
    sizes: Dict[int, int] = {}
    visiting = set()  # a recursive alias (`&a [*a]`) counts once
    total = 0
    for document in documents:
        stack: List[Tuple[Any, bool]] = [(document, False)]
        while stack:
            node, done = stack.pop()
            if id(node) in sizes or (not done and id(node) in visiting):
                continue
            if isinstance(node, dict):
                children = [value for pair in node.items() for value in pair]
            elif isinstance(node, list):
                children = list(node)
            else:
                sizes[id(node)] = 1
                continue
            if done:
                sizes[id(node)] = min(limit + 1, 1 + sum(sizes.get(id(child), 1) for child in children))
                continue
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if isinstance(child, (dict, list)) and id(child) not in sizes)
        total += sizes.get(id(document), 1)
        if total > limit:
            break
    return total


def _fast_documents(text: str, style: YamlStyle) -> Optional[List[Any]]:
    """The documents as `initify.kubernetes.fast_yaml` loads them (no comments attached), or
    None when that reader leaves this text to ruamel.yaml's own (or fails on it in any way)."""
    from initify.kubernetes import fast_yaml

    try:
        return fast_yaml.load_all(text, new_yaml(style).constructor)
    except Exception:  # noqa: BLE001 - ruamel.yaml reads it again and words any error
        return None


def parse_documents(path: str, text: str, style: YamlStyle, round_trip: bool = True) -> List[Any]:
    """Load every document of `text`; a syntax error becomes InputError with its 1-based line.

    Duplicate keys are an error too: YAML forbids them, kubectl and compose reject them, and
    ruamel.yaml could not write such a mapping back. Without `round_trip` the documents are
    read by `fast_yaml` when it can (the same objects, lines and errors, but no comments: for
    reading, not for `render_documents`).
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        # CRLF is restored by render_documents; parsed as-is, comments would keep a stray "\r"
        lf_text = text.replace("\r\n", "\n")
        documents = None if round_trip else _fast_documents(lf_text, style)
        if documents is None:
            documents = list(new_yaml(style).load_all(lf_text))
        size = expanded_size(documents)
        if size > MAX_NODES:
            raise InputError(path, f"YAML aliases expand to more than {MAX_NODES:,} values (an alias bomb?); not read")
        return documents
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = error.problem or error.context or "syntax error"
        line = mark.line + 1 if mark else None
        raise InputError(path, f"invalid YAML: {_one_line(reason)}", line) from None
    except ReaderError as error:
        line = text[: error.position].count("\n") + 1
        character = chr(error.character) if isinstance(error.character, int) else str(error.character)
        raise InputError(path, f"invalid YAML: character {character!r} is not allowed", line) from None
    except YAMLError as error:
        raise InputError(path, f"invalid YAML: {_one_line(error)}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        # e.g. a plain scalar that looks like a timestamp but is no date: `2024-13-45`
        raise InputError(path, f"invalid YAML: {_one_line(error)}") from None


def render_documents(documents: List[Any], style: YamlStyle) -> str:
    """Serialise `documents` with ruamel.yaml in `style` (line ends, BOM, final newline restored)."""
    buffer = io.StringIO()
    new_yaml(style).dump_all(documents, buffer)
    out = buffer.getvalue()
    if not style.final_newline and out.endswith("\n"):
        out = out[:-1]
    if style.newline != "\n":
        out = out.replace("\n", style.newline)
    return ("\ufeff" if style.bom else "") + out


def dump_documents(loaded: YamlFile) -> str:
    """The file's text after any edits made to `loaded.documents`.

    When the documents still render exactly as the original text does after a fresh load, nothing
    was changed and the original text is returned byte for byte, so untouched files never pick up
    ruamel.yaml's normalisation (re-indented mixed styles, trailing spaces after `key:`). Otherwise
    the whole file is re-rendered with the detected style.
    """
    original = ("\ufeff" if loaded.style.bom else "") + loaded.text
    if getattr(loaded, "helm", False):
        return original
    current = render_documents(loaded.documents, loaded.style)
    if current == original:
        return original
    baseline = render_documents(parse_documents(loaded.path, loaded.text, loaded.style), loaded.style)
    return original if current == baseline else current


# ---------------------------------------------------------------------------------------------
# Node helpers
# ---------------------------------------------------------------------------------------------


def is_mapping(value: Any) -> bool:
    return isinstance(value, dict)


def is_sequence(value: Any) -> bool:
    return isinstance(value, list)


def node_line(node: Any, default: int = 0) -> int:
    """1-based line where a loaded mapping or sequence starts, or `default` for plain scalars."""
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return default
    return int(lc.line) + 1


def _merged_mappings(node: Any) -> List[Any]:
    """Mappings pulled into `node` by `<<:`, nearest first.

    ruamel.yaml 0.18 stores (position, mapping) pairs, 0.19 the mappings themselves.
    """
    merged = getattr(node, "merge", None) or []
    return [item[1] if isinstance(item, tuple) else item for item in merged]


def key_line(node: Any, key: Any, default: int) -> int:
    """1-based line of `key` in mapping `node`, looking into `<<:` merged mappings; else `default`."""
    lc = getattr(node, "lc", None)
    if lc is not None and key in getattr(lc, "data", {}):
        return int(lc.key(key)[0]) + 1
    for merged in _merged_mappings(node):
        found = key_line(merged, key, 0)
        if found:
            return found
    return default


def value_line(node: Any, key: Any, default: int) -> int:
    """1-based line where the value of `key` starts (differs from the key for `key:\\n  - a`)."""
    lc = getattr(node, "lc", None)
    if lc is not None and key in getattr(lc, "data", {}):
        return int(lc.value(key)[0]) + 1
    for merged in _merged_mappings(node):
        found = value_line(merged, key, 0)
        if found:
            return found
    return default


def scalar_text(value: Any) -> Optional[str]:
    """A scalar as the string a Kubernetes or compose field would hold; None for null/collections."""
    if value is None or is_mapping(value) or is_sequence(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def string_list(value: Any) -> Optional[List[str]]:
    """A list field as strings, one per item so indexes match the node's items.

    A scalar where a list belongs (invalid in Kubernetes, but seen in real files) becomes a
    one-item list; null and mappings give None. Null items become "".
    """
    if is_sequence(value):
        return [scalar_text(item) or "" for item in value]
    text = scalar_text(value)
    return None if text is None else [text]


def int_value(value: Any) -> Optional[int]:
    """An integer field, accepting a digit string (seen in hand-written files); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def bool_value(value: Any) -> Optional[bool]:
    """A boolean field, accepting the strings "true"/"false"; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _child(node: Any, key: str) -> Any:
    return node.get(key) if is_mapping(node) else None


# ---------------------------------------------------------------------------------------------
# Kubernetes model
# ---------------------------------------------------------------------------------------------


class Hook(Record):
    """A lifecycle handler (`preStop` or `postStart`)."""

    __slots__ = ("action", "node", "line", "command", "sleep_seconds", "http_get")

    def __init__(self, action: str, node: Any, line: int, command: Optional[List[str]] = None,
                 sleep_seconds: Optional[int] = None, http_get: Any = None) -> None:
        self.action = action  # "exec" | "sleep" | "httpGet" | "tcpSocket" | "unknown"
        self.node = node  # the handler mapping
        self.line = line  # line of the `preStop:` / `postStart:` key
        self.command = command  # exec.command
        self.sleep_seconds = sleep_seconds  # sleep.seconds
        self.http_get = http_get  # the httpGet mapping


class Container(Record):
    """One entry of `containers` or `initContainers`."""

    __slots__ = ("name", "image", "role", "index", "command", "args", "node", "line", "pre_stop", "post_start",
                 "stop_signal", "tty", "stdin", "restart_policy")

    def __init__(self, name: str, image: Optional[str], role: str, index: int, command: Optional[List[str]],
                 args: Optional[List[str]], node: Any, line: int, pre_stop: Optional[Hook] = None,
                 post_start: Optional[Hook] = None, stop_signal: Optional[str] = None, tty: bool = False,
                 stdin: bool = False, restart_policy: Optional[str] = None) -> None:
        self.name = name
        self.image = image
        self.role = role  # "container" | "init" | "sidecar" (init container with restartPolicy: Always)
        self.index = index  # position in its list (`containers` or `initContainers`)
        self.command = command
        self.args = args
        self.node = node  # the container CommentedMap, for later edits
        self.line = line  # line of the item's first key (`- name: x`)
        self.pre_stop = pre_stop
        self.post_start = post_start
        self.stop_signal = stop_signal  # lifecycle.stopSignal (Kubernetes >= 1.33)
        self.tty = tty
        self.stdin = stdin
        self.restart_policy = restart_policy  # only meaningful for init containers

    @property
    def list_key(self) -> str:
        """The pod spec key holding this container: "containers" or "initContainers"."""
        return "containers" if self.role == "container" else "initContainers"

    def line_of(self, key: str) -> int:
        """Line of `key` in the container mapping, or the container's own line if absent."""
        return key_line(self.node, key, self.line)


class PodSpec(Record):
    """A pod spec found in a workload (`kind` is the workload kind, e.g. Deployment)."""

    __slots__ = ("kind", "api_version", "name", "namespace", "resource", "node", "line", "doc_index",
                 "item_index", "termination_grace_period", "share_process_namespace", "os_name", "restart_policy",
                 "containers")

    def __init__(self, kind: str, api_version: str, name: Optional[str], namespace: Optional[str], resource: Any,
                 node: Any, line: int, doc_index: int, item_index: Optional[int],
                 termination_grace_period: Optional[int], share_process_namespace: bool, os_name: Optional[str],
                 restart_policy: Optional[str], containers: Optional[List[Container]] = None) -> None:
        self.kind = kind
        self.api_version = api_version
        self.name = name
        self.namespace = namespace
        self.resource = resource  # the top-level object (Deployment, Pod...) mapping
        self.node = node  # the pod spec mapping
        self.line = line  # line of the pod spec's first key
        self.doc_index = doc_index  # which YAML document of the file
        self.item_index = item_index  # position in `items` when the document is a `kind: List`
        self.termination_grace_period = termination_grace_period  # None = not set (Kubernetes default 30)
        self.share_process_namespace = share_process_namespace
        self.os_name = os_name  # spec.os.name: "linux" | "windows"
        self.restart_policy = restart_policy
        self.containers: List[Container] = [] if containers is None else containers  # initContainers first, then containers

    def line_of(self, key: str) -> int:
        """Line of `key` in the pod spec mapping, or the spec's own line if absent."""
        return key_line(self.node, key, self.line)


class ManifestFile(Record):
    __slots__ = ("path", "text", "documents", "pods", "helm", "style")

    def __init__(self, path: str, text: str, documents: List[Any], pods: List[PodSpec], helm: bool,
                 style: Optional[YamlStyle] = None) -> None:
        self.path = path
        self.text = text  # decoded text, BOM removed
        self.documents = documents  # every loaded document (None for empty ones), for in-place edits
        self.pods = pods
        self.helm = helm  # a Helm template: not parsed, documents and pods are empty
        self.style: YamlStyle = YamlStyle() if style is None else style


_CORE, _APPS, _BATCH = ("",), ("apps", "extensions"), ("batch",)

# kind -> (API groups it belongs to, path from the object to its pod spec)
POD_SPEC_PATHS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "Pod": (_CORE, ("spec",)),
    "PodTemplate": (_CORE, ("template", "spec")),
    "ReplicationController": (_CORE, ("spec", "template", "spec")),
    "Deployment": (_APPS, ("spec", "template", "spec")),
    "StatefulSet": (_APPS, ("spec", "template", "spec")),
    "DaemonSet": (_APPS, ("spec", "template", "spec")),
    "ReplicaSet": (_APPS, ("spec", "template", "spec")),
    "Job": (_BATCH, ("spec", "template", "spec")),
    "CronJob": (_BATCH, ("spec", "jobTemplate", "spec", "template", "spec")),
}


def looks_like_kubernetes(doc: Any) -> bool:
    """A mapping with string `apiVersion` and `kind`: the least every Kubernetes object has."""
    return (
        is_mapping(doc)
        and isinstance(doc.get("apiVersion"), str)
        and isinstance(doc.get("kind"), str)
    )


_HELM_ACTION = re.compile(r"^\s*(?:-\s+)?\{\{|:\s+\{\{")


def is_helm_template(text: str) -> bool:
    """True when `text` is a Go/Helm template rather than YAML: a `{{` where YAML structure goes.

    Only `{{` at the start of a line (after any `- `) or right after `key: ` counts, outside
    block scalars, so a ConfigMap holding a quoted or `|` template (`"{{ $labels.pod }}"`) is
    still read as YAML.
    """
    if "{{" not in text:
        return False
    return any(_HELM_ACTION.search(line) for line in _significant_lines(text))


def _api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _hook(lifecycle: Any, key: str) -> Optional[Hook]:
    handler = _child(lifecycle, key)
    if not is_mapping(handler):
        return None
    line = key_line(lifecycle, key, node_line(lifecycle))
    if is_mapping(handler.get("exec")):
        return Hook("exec", handler, line, command=string_list(handler["exec"].get("command")))
    if is_mapping(handler.get("sleep")):
        return Hook("sleep", handler, line, sleep_seconds=int_value(handler["sleep"].get("seconds")))
    if is_mapping(handler.get("httpGet")):
        return Hook("httpGet", handler, line, http_get=handler["httpGet"])
    if is_mapping(handler.get("tcpSocket")):
        return Hook("tcpSocket", handler, line)
    return Hook("unknown", handler, line)


def _container(node: Any, role: str, index: int, line: int) -> Container:
    lifecycle = _child(node, "lifecycle")
    restart_policy = scalar_text(node.get("restartPolicy"))
    if role == "init" and restart_policy == "Always":
        role = "sidecar"
    return Container(
        name=scalar_text(node.get("name")) or "",
        image=scalar_text(node.get("image")),
        role=role,
        index=index,
        command=string_list(node.get("command")),
        args=string_list(node.get("args")),
        node=node,
        line=line,
        pre_stop=_hook(lifecycle, "preStop"),
        post_start=_hook(lifecycle, "postStart"),
        stop_signal=scalar_text(_child(lifecycle, "stopSignal")),
        tty=bool_value(node.get("tty")) is True,
        stdin=bool_value(node.get("stdin")) is True,
        restart_policy=restart_policy,
    )


def _containers(spec: Any) -> List[Container]:
    """Init containers (and sidecars) then app containers; ephemeral containers are not included."""
    found: List[Container] = []
    for key, role in (("initContainers", "init"), ("containers", "container")):
        items = spec.get(key)
        if not is_sequence(items):
            continue
        for index, item in enumerate(items):
            if is_mapping(item):
                line = node_line(item, int(items.lc.item(index)[0]) + 1)
                found.append(_container(item, role, index, line))
    return found


def pod_spec_of(resource: Any, doc_index: int, item_index: Optional[int] = None) -> Optional[PodSpec]:
    """The pod spec of a workload object, or None for other kinds and malformed objects."""
    if not looks_like_kubernetes(resource):
        return None
    kind, api_version = resource["kind"], resource["apiVersion"]
    groups, path = POD_SPEC_PATHS.get(kind, ((), ()))
    if _api_group(api_version) not in groups:
        return None
    spec = resource
    for key in path:
        spec = _child(spec, key)
    if not is_mapping(spec):
        return None
    metadata = _child(resource, "metadata")
    return PodSpec(
        kind=kind,
        api_version=api_version,
        name=scalar_text(_child(metadata, "name")),
        namespace=scalar_text(_child(metadata, "namespace")),
        resource=resource,
        node=spec,
        line=node_line(spec, node_line(resource, 1)),
        doc_index=doc_index,
        item_index=item_index,
        termination_grace_period=int_value(spec.get("terminationGracePeriodSeconds")),
        share_process_namespace=bool_value(spec.get("shareProcessNamespace")) is True,
        os_name=scalar_text(_child(spec.get("os"), "name")),
        restart_policy=scalar_text(spec.get("restartPolicy")),
        containers=_containers(spec),
    )


def _is_list(doc: Any) -> bool:
    """`kind: List` (or `PodList`, `DeploymentList`...) with an `items` sequence, as kubectl accepts."""
    return looks_like_kubernetes(doc) and doc["kind"].endswith("List") and is_sequence(doc.get("items"))


def find_pods(documents: List[Any]) -> List[PodSpec]:
    """Pod specs of all documents in order, looking inside `kind: List` items."""
    pods: List[PodSpec] = []
    for doc_index, doc in enumerate(documents):
        if _is_list(doc):
            for item_index, item in enumerate(doc["items"]):
                pod = pod_spec_of(item, doc_index, item_index)
                if pod is not None:
                    pods.append(pod)
            continue
        pod = pod_spec_of(doc, doc_index)
        if pod is not None:
            pods.append(pod)
    return pods


def load_manifest(path: str, text: Optional[str] = None, round_trip: bool = True) -> ManifestFile:
    """Load a Kubernetes YAML file (read from `path` unless `text` is given).

    Helm templates are not parsed: the result has `helm=True` and no documents, for the caller to
    skip with a note. Documents that are not workloads (Service, ConfigMap, non-Kubernetes YAML)
    are kept in `documents` but contribute no pods. Without `round_trip`, for lint and fix that
    only read the documents (fixes splice text): no comments are attached, and a large file
    loads many times faster (see `parse_documents`).
    """
    body, bom = read_text(path, text)
    style = detect_style(body, bom)
    if is_helm_template(body):
        return ManifestFile(path=path, text=body, documents=[], pods=[], helm=True, style=style)
    documents = parse_documents(path, body, style, round_trip)
    pods = find_pods(documents)
    return ManifestFile(path=path, text=body, documents=documents, pods=pods, helm=False, style=style)

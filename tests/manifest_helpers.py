"""Helpers for the manifest and compose tests: write real files, validate them, lint them.

Every Kubernetes manifest a test writes goes through `kubernetes-validate` (strict, schema 1.33)
first, so no test lints a manifest Kubernetes itself would reject at the schema level.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import kubernetes_validate
from ruamel.yaml import YAML

from initify.commands import lint
from initify.kubernetes.manifests import POD_SPEC_PATHS

SCHEMA_VERSION = "1.33"

API_VERSIONS = {
    "Pod": "v1",
    "PodTemplate": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
WORKLOADS = ("Pod", "Deployment", "StatefulSet", "CronJob")


def validate_k8s(text: str) -> None:
    """Raise kubernetes_validate.ValidationError unless every document (and List item) is valid."""
    for doc in YAML(typ="safe").load_all(io.StringIO(text)):
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if doc.get("kind") == "List" else [doc]
        for item in items:
            kubernetes_validate.validate(item, SCHEMA_VERSION, strict=True)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def workload(kind: str, spec: str, name: str = "app") -> str:
    """A `kind` object whose pod spec is `spec` (YAML of a pod spec, any indentation)."""
    spec = textwrap.dedent(spec).strip("\n") + "\n"
    head = f"apiVersion: {API_VERSIONS[kind]}\nkind: {kind}\nmetadata:\n  name: {name}\n"
    labels = "    metadata:\n      labels:\n        app: " + name + "\n"
    if kind == "Pod":
        return head + "spec:\n" + _indent(spec, 2)
    if kind == "PodTemplate":
        return head + f"template:\n  metadata:\n    labels:\n      app: {name}\n  spec:\n" + _indent(spec, 4)
    if kind == "CronJob":
        return (
            head + "spec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
            + _indent(spec, 10)
        )
    selector = f"  selector:\n    matchLabels:\n      app: {name}\n"
    if kind == "Job":
        selector = ""
    elif kind == "ReplicationController":
        selector = f"  selector:\n    app: {name}\n"
    service = f"  serviceName: {name}\n" if kind == "StatefulSet" else ""
    return head + "spec:\n" + selector + service + "  template:\n" + labels + "    spec:\n" + _indent(spec, 6)


def write(folder: Path, files: Dict[str, str]) -> Dict[str, str]:
    """Write dedented files under `folder`, validating `.yaml` manifests; return name -> path."""
    paths = {}
    for name, text in files.items():
        text = textwrap.dedent(text).lstrip("\n")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith((".yaml", ".yml")) and "compose" not in name and "apiVersion" in text:
            validate_k8s(text)
        path.write_text(text)
        paths[name] = str(path)
    return paths


def run(paths: Sequence[str], images: Optional[Dict[str, str]] = None, k8s_version: Optional[str] = None,
        select: Optional[List[str]] = None) -> lint.Result:
    options = lint.Options(select=select, images=dict(images or {}), k8s_version=k8s_version)
    return lint.run(list(paths), options)


def found(result: lint.Result, prefix: str = "IN") -> List[Tuple[str, int]]:
    """(code, line) of the findings whose code starts with `prefix`."""
    return [(f.code, f.line) for f in result.findings if f.code.startswith(prefix)]


def lint_files(folder: Path, files: Dict[str, str], lint_names: Optional[Sequence[str]] = None,
               prefix: str = "IN2", **options) -> List[Tuple[str, int]]:
    """Write `files`, lint `lint_names` (default: all), return (code, line) for codes with `prefix`."""
    paths = write(folder, files)
    names = list(lint_names) if lint_names is not None else list(paths)
    return found(run([paths[name] for name in names], **options), prefix)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle` in `text` (dedented as `write` does)."""
    text = textwrap.dedent(text).lstrip("\n")
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            count += 1
            if count == nth:
                return number
    raise AssertionError(f"{needle!r} not found")


assert set(API_VERSIONS) == set(POD_SPEC_PATHS)

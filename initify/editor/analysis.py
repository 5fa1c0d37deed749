"""Lint one editor buffer with the CLI's pipeline: same discovery of kinds, configuration,
selection, suppressions and pairing (a manifest or compose file with the Dockerfile beside it,
or the `images` of the configuration and the settings), but on the text in the editor, not the
file on disk. Open buffers of the Dockerfiles beside a manifest are used in place of their files.

Positions: findings are 1-based with an exclusive end column; LSP ranges are 0-based, so a
finding maps to ((line-1, column-1), (end_line-1, end_column-1)). Columns count characters,
which is what LSP clients count for the ASCII text of Dockerfiles and manifests.
"""

from __future__ import annotations

import os
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

from initify import config as config_module
from initify import discover, engine
from initify.errors import InputError
from initify.options import Options, selection_for
from initify.record import Record

KINDS = (discover.DOCKERFILE, discover.MANIFEST, discover.COMPOSE)


class Settings(Record):
    """The server's settings (initializationOptions or `initify` of workspace/didChangeConfiguration):
    `select`, `ignore`, `target`, `buildArgs`, `images` (REF -> Dockerfile, pairing) and
    `k8sVersion`, with the meaning of the CLI options of the same names."""

    __slots__ = ("select", "ignore", "target", "build_args", "images", "k8s_version")

    def __init__(self, select: Optional[List[str]] = None, ignore: Optional[List[str]] = None,
                 target: Optional[str] = None, build_args: Optional[Dict[str, str]] = None,
                 images: Optional[Dict[str, str]] = None, k8s_version: Optional[str] = None) -> None:
        self.select = select
        self.ignore = ignore or []
        self.target = target
        self.build_args = build_args or {}
        self.images = images or {}
        self.k8s_version = k8s_version

    @classmethod
    def from_json(cls, value: object) -> "Settings":
        """Settings from the client's JSON; unknown keys are ignored, wrong types are an InputError."""
        data = value if isinstance(value, dict) else {}
        if isinstance(data.get("initify"), dict):
            data = data["initify"]

        def strings(key: str) -> Optional[List[str]]:
            item = data.get(key)
            if item is None:
                return None
            if isinstance(item, str):
                return [part.strip() for part in item.split(",") if part.strip()]
            if isinstance(item, list) and all(isinstance(part, str) for part in item):
                return list(item)
            raise InputError("settings", f"`{key}` must be a list of rule codes")

        def table(key: str) -> Dict[str, str]:
            item = data.get(key) or {}
            if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
                raise InputError("settings", f"`{key}` must map names to strings")
            return dict(item)

        target = data.get("target")
        version = data.get("k8sVersion")
        return cls(select=strings("select"), ignore=strings("ignore"),
                   target=target if isinstance(target, str) else None, build_args=table("buildArgs"),
                   images=table("images"), k8s_version=version if isinstance(version, str) else None)

    def options(self) -> Options:
        return Options(select=self.select or None, ignore=list(self.ignore), target=self.target,
                       build_args=dict(self.build_args), images=dict(self.images), k8s_version=self.k8s_version)


class Problem(NamedTuple):
    """Input initify cannot parse, shown as one error diagnostic instead of findings."""

    line: int  # 1-based; 1 when unknown
    message: str


def kind_of(path: str) -> Optional[str]:
    kind = discover.kind_of(path)
    return kind if kind in KINDS else None


def _dockerfile_facts(path: str, text: str, options: Options, selection: engine.Selection):
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile.findings import image_findings

    return image_findings(dockerfile_module.parse(text, path), options, selection, options.context)


def _beside(path: str, open_texts: Mapping[str, str]) -> Dict[str, str]:
    """The Dockerfiles in a manifest's folder, as the editor has them (open buffer, else disk)."""
    folder = os.path.dirname(os.path.abspath(path))
    found: Dict[str, str] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return found
    for entry in entries:
        if entry.path in open_texts and discover.kind_of(entry.path) == discover.DOCKERFILE:
            found[entry.path] = open_texts[entry.path]
        elif (discover.kind_by_name(entry.path) == discover.DOCKERFILE and discover.is_regular(entry.path)
              and discover.inside(entry.path, folder)):  # as lint: regular files, nothing outside the folder
            try:
                found[entry.path] = discover.read_bytes(entry.path).decode("utf-8-sig")
            except (InputError, UnicodeDecodeError):
                continue
    return found


def analyse(path: str, text: str, settings: Settings, open_texts: Optional[Mapping[str, str]] = None
            ) -> Tuple[List[engine.Finding], Optional[Problem]]:
    """Findings of the buffer `text` of file `path` (absolute), or the problem that stops it."""
    kind = kind_of(path)
    if kind is None:
        return [], None
    options = settings.options()
    config_module.use_config_file(None)
    try:
        selection = selection_for(path, options, config_module.find_config(path))
        if kind == discover.DOCKERFILE:
            facts, found = _dockerfile_facts(path, text, options, selection)
            return engine.sort_findings(found), None
        return engine.sort_findings(_yaml_findings(path, kind, text, options, selection, open_texts or {})), None
    except InputError as error:
        return [], Problem(error.line or 1, error.reason if error.path in (path, "settings") else str(error))
    except RecursionError:
        return [], Problem(1, "nested too deeply to read")


def _yaml_findings(path: str, kind: str, text: str, options: Options, selection: engine.Selection,
                   open_texts: Mapping[str, str]) -> List[engine.Finding]:
    from initify.compose.files import load_compose
    from initify.kubernetes import findings as yaml_findings
    from initify.kubernetes.manifests import ManifestFile, load_manifest

    # libyaml's reader (nothing here renders YAML): an editor re-reads the file on every change
    if kind == discover.COMPOSE:
        item = load_compose(path, text, round_trip=False)
    else:
        item = load_manifest(path, text, round_trip=False)
    if isinstance(item, ManifestFile) and (item.helm or not item.pods):
        return []
    if not isinstance(item, ManifestFile) and not item.services:
        return []
    images = {}
    for dockerfile, dockerfile_text in _beside(path, open_texts).items():
        dockerfile_selection = selection_for(dockerfile, options, config_module.find_config(dockerfile))
        try:
            images[dockerfile] = _dockerfile_facts(dockerfile, dockerfile_text, options, dockerfile_selection)[0]
        except InputError:
            images[dockerfile] = None  # a broken Dockerfile beside: its own buffer shows the error
    loaded = [(item, selection)]
    paired = yaml_findings.pair_images(loaded, images, options)
    return yaml_findings.findings_for(item, selection, paired, yaml_findings.k8s_version(options))


def lsp_range(finding: engine.Finding) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The finding's span as 0-based LSP (line, character) start and end."""
    return (finding.line - 1, finding.column - 1), (finding.end_line - 1, max(finding.end_column - 1, 0))


class TextEdit(NamedTuple):
    """One LSP text edit: replace [start, end) (0-based line, character) with `text`."""

    path: str
    start: Tuple[int, int]
    end: Tuple[int, int]
    text: str


def text_edits(fix: engine.Fix) -> Optional[List[TextEdit]]:
    """A fix's line edits as LSP text edits on whole lines; None when it creates or replaces a
    whole file (the editor cannot show that as an edit of an open document)."""
    edits = []
    for edit in fix.edits:
        if edit.whole_file:
            return None
        start = (edit.start_line - 1, 0)
        end = (edit.end_line, 0) if edit.end_line >= edit.start_line else start
        edits.append(TextEdit(edit.path, start, end, edit.text))
    return edits


def action_title(finding: engine.Finding) -> str:
    fix = finding.fix
    assert fix is not None
    note = f": {fix.note}" if fix.note else ""
    return f"initify: fix {finding.code} {finding.name}{note}" + ("" if fix.safe else " (unsafe)")


def rule_doc(code: str) -> Optional[str]:
    """The rule's documentation (rules/<CODE>.md, Markdown), for hover."""
    from initify.resources import data_dir

    try:
        with open(os.path.join(data_dir("rules"), f"{code}.md"), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None

"""`initify fix`: plan every file's fixes in memory, then show a diff, check, or write atomically.

Pipeline: parse -> facts -> rules -> findings with `Fix`es -> apply non-overlapping edits ->
repeat (a later pass picks up fixes that overlapped, or that the first fixes made possible) ->
write. Nothing is written unless every file of the invocation parsed. A target kind other than
Dockerfiles (manifests) plugs in by adding a planner to `_PLANNERS`.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

from initify import config as config_module
from initify import discover, engine
from initify.dockerfile.facts import inside_folder
from initify.engine import apply_line_edits
from initify.errors import InputError
from initify.options import FixOptions, selection_for

if TYPE_CHECKING:
    from initify.compose.files import ComposeFile
    from initify.dockerfile.model import Dockerfile
    from initify.kubernetes import pairing
    from initify.kubernetes.manifests import ManifestFile

    Loaded = Union[ManifestFile, ComposeFile]

# A pass applies every fix whose edits do not overlap, then lints again. Fixes in one flow-style
# YAML document (JSON, say) each re-render the whole document, so they take a pass each; the cap
# only stops fixes that would undo each other for ever.
MAX_PASSES = 50


@dataclass
class FileState:
    """One file as found on disk and as the fixes leave it (text, BOM char included)."""

    path: str  # absolute
    display: str  # as the user named it
    original: Optional[str]  # None: the fix creates the file
    text: str
    root: str  # writes must stay inside this folder (symlinks resolved)
    mode: Optional[int] = None  # for a new file


@dataclass
class Applied:
    finding: engine.Finding
    fix: engine.Fix


@dataclass
class Plan:
    files: Dict[str, FileState] = field(default_factory=dict)
    applied: List[Applied] = field(default_factory=list)
    remaining: List[engine.Finding] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    checked: int = 0
    fail_level: str = "warning"

    def changed(self) -> List[FileState]:
        return [state for state in self.files.values() if state.text != state.original]

    def planned_files(self) -> Dict[str, str]:
        """Every changed file as planned so far (absolute path -> text), for analyse_image: a
        later pass sees an entrypoint script that an earlier pass rewrote in memory."""
        return {state.path: state.text for state in self.changed()}


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


def _read_text(path: str) -> Optional[str]:
    if not os.path.lexists(path):
        return None
    data = discover.read_bytes(path)
    from initify.dockerfile.parser import _decode

    return _decode(data, path)  # a UTF-8 BOM stays as U+FEFF and is written back


def _state(plan: Plan, path: str, display: str, root: str) -> FileState:
    absolute = os.path.abspath(path)
    if absolute not in plan.files:
        original = _read_text(absolute)
        plan.files[absolute] = FileState(absolute, display, original, original or "", root)
    return plan.files[absolute]


def _dockerfile_findings(plan: Plan, state: FileState, options: FixOptions, selection: engine.Selection) -> Optional[List[engine.Finding]]:
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile.findings import image_findings

    parsed = dockerfile_module.parse(state.text, state.display)
    facts, found = image_findings(parsed, options, selection, options.context or state.root, options.init, options.base,
                                  plan.planned_files())
    return None if facts is None else found


def _already_applied(plan: Plan, fix_: engine.Fix) -> bool:
    """A fix made only of whole-file edits that the plan already holds (a script rewritten in an
    earlier pass, still reported because facts are re-read)."""
    for edit in fix_.edits:
        state = plan.files.get(os.path.abspath(edit.path))
        if not edit.whole_file or state is None or state.text != edit.text:
            return False
    return True


def _apply_fixes(plan: Plan, state: FileState, findings: List[engine.Finding], options: FixOptions) -> Tuple[bool, List[engine.Finding]]:
    """Apply what can be applied in one pass; return (changed, findings not fixed)."""
    line_edits: List[engine.Edit] = []
    owners: Dict[int, Tuple[engine.Finding, engine.Fix]] = {}
    remaining: List[engine.Finding] = []
    file_edits: List[Tuple[engine.Finding, engine.Fix]] = []
    usable = [f for f in findings if f.fix is not None and (f.fix.safe or options.unsafe_fixes)]
    others_pending = any(not f.fix.after_others and not _already_applied(plan, f.fix) for f in usable if f.fix is not None)
    for finding in engine.sort_findings(findings):
        fix = finding.fix
        if fix is None or not (fix.safe or options.unsafe_fixes) or (fix.after_others and others_pending):
            remaining.append(finding)
            continue
        if any(edit.whole_file for edit in fix.edits):
            file_edits.append((finding, fix))
        for edit in fix.edits:
            if not edit.whole_file:
                owners[id(edit)] = (finding, fix)
                line_edits.append(edit)
    changed = False
    # Whole-file edits (the init, an entrypoint script) go first: they never overlap line edits.
    for finding, fix in file_edits:
        target_states = []
        ok = True
        for edit in fix.edits:
            if not edit.whole_file:
                continue
            display = os.path.join(os.path.dirname(state.display), os.path.relpath(edit.path, os.path.dirname(state.path)))
            target = _state(plan, edit.path, display, state.root)
            modified = target.text != (target.original if target.original is not None else "")
            if modified and target.text != edit.text:
                ok = False  # another fix already rewrote it differently
            target_states.append((target, edit))
        if not ok:
            remaining.append(finding)
            continue
        for target, edit in target_states:
            if target.text != edit.text:
                changed = True
                target.text = edit.text
                if target.original is None:
                    target.mode = edit.mode
                if not any(not e.whole_file for e in fix.edits):
                    plan.applied.append(Applied(finding, fix))
    new_text, skipped = apply_line_edits(state.text.lstrip("\ufeff"), line_edits)
    bom = "\ufeff" if state.text.startswith("\ufeff") else ""
    if bom + new_text != state.text:
        changed = True
        state.text = bom + new_text
    skipped_ids = {id(edit) for edit in skipped}
    seen: Set[int] = set()
    for edit in line_edits:
        finding, fix = owners[id(edit)]
        if id(fix) in seen:
            continue
        seen.add(id(fix))
        if any(id(other) in skipped_ids for other in fix.edits):
            remaining.append(finding)  # overlapped: the next pass sees it again
        else:
            plan.applied.append(Applied(finding, fix))
    return changed, remaining


def _plan_dockerfile(plan: Plan, path: str, options: FixOptions, selection: engine.Selection) -> None:
    from initify.dockerfile.parser import TEMPLATE_SUFFIXES, template_text

    if path.endswith(TEMPLATE_SUFFIXES) and template_text(path):
        plan.notes.append(f"{path}: skipped, a template rather than a Dockerfile")
        return
    root = os.path.abspath(options.context) if options.context else os.path.dirname(os.path.abspath(path))
    state = _state(plan, path, path, root)
    if state.original is None:
        raise InputError(path, "cannot read: no such file")
    plan.checked += 1
    remaining: List[engine.Finding] = []
    for _ in range(MAX_PASSES):
        findings = _dockerfile_findings(plan, state, options, selection)
        if findings is None:
            return
        changed, remaining = _apply_fixes(plan, state, findings, options)
        if not changed:
            break
    else:
        remaining = _dockerfile_findings(plan, state, options, selection) or []
        remaining = [f for f in remaining if f.fix is None or not (f.fix.safe or options.unsafe_fixes)]
    # Findings whose (already planned) fix changes nothing any more are fixed, not remaining.
    plan.remaining.extend(f for f in remaining if f.fix is None or not (f.fix.safe or options.unsafe_fixes))


Entry = Tuple[str, str, engine.Selection]


def _yaml_analyser(plan: Plan, options: FixOptions) -> "pairing.Analyse":
    """Facts of a Dockerfile as the planned fixes leave it (its text and context scripts)."""
    from initify.dockerfile import parser as dockerfile_module
    from initify.kubernetes import pairing

    def read(path: str) -> "Dockerfile":
        state = plan.files.get(os.path.abspath(path))
        return dockerfile_module.parse(state.text, path) if state is not None else dockerfile_module.read(path)

    return pairing.analyser(options, read, plan.planned_files)


def _load_yaml(path: str, kind: str, text: str) -> "Loaded":
    from initify.compose.files import load_compose
    from initify.kubernetes.manifests import load_manifest

    if kind == discover.COMPOSE:
        return load_compose(path, text)
    return load_manifest(path, text)


def _plan_yaml(plan: Plan, entries: List[Entry], dockerfiles: List[str], options: FixOptions) -> None:
    """Plan the fixes of every manifest and compose file in `entries`.

    Runs after every Dockerfile of the invocation was planned, so pairing sees the Dockerfiles as
    their fixes leave them (a STOPSIGNAL the IN107 fix adds is the image's STOPSIGNAL here). Each
    rule computes its own fix as text splices (`initify.kubernetes.yaml_edit`); this only loads,
    lints and applies, pass after pass, like the Dockerfile planner."""
    from initify.compose.files import ComposeFile
    from initify.kubernetes.findings import findings_for, k8s_version, pair_images
    from initify.kubernetes.manifests import ManifestFile

    version = k8s_version(options)
    analyse = _yaml_analyser(plan, options)
    images = {os.path.abspath(path): analyse(path) for path in dockerfiles}
    states = []
    loaded: List[Tuple["Loaded", engine.Selection]] = []
    for path, kind, selection in entries:
        state = _state(plan, path, path, os.path.dirname(os.path.abspath(path)))
        if state.original is None:
            raise InputError(path, "cannot read: no such file")
        item = _load_yaml(path, kind, state.text)  # every file parses before anything is planned
        if isinstance(item, ManifestFile) and item.helm:
            plan.notes.append(f"{path}: skipped, a Helm template rather than plain YAML")
            continue
        if (isinstance(item, ManifestFile) and item.pods) or (isinstance(item, ComposeFile) and item.services):
            states.append((state, kind, selection))
            loaded.append((item, selection))
    paired = pair_images(loaded, images, options)
    paired.analyse = analyse
    for (state, kind, selection), (item, _) in zip(states, loaded):
        plan.checked += 1
        remaining: List[engine.Finding] = []
        current: Optional["Loaded"] = item
        for _ in range(MAX_PASSES):
            if current is None:
                current = _load_yaml(state.path, kind, state.text)
            findings = findings_for(current, selection, paired, version, options.stopsignal_field)
            changed, remaining = _apply_fixes(plan, state, findings, options)
            current = None
            if not changed:
                break
        else:
            remaining = findings_for(_load_yaml(state.path, kind, state.text), selection, paired, version, options.stopsignal_field)
        plan.remaining.extend(f for f in remaining if f.fix is None or not (f.fix.safe or options.unsafe_fixes))
    plan.notes.extend(note for note in paired.notes if note not in plan.notes)


Planner = Callable[[Plan, str, FixOptions, engine.Selection], None]
_PLANNERS: Dict[str, Planner] = {discover.DOCKERFILE: _plan_dockerfile}


def plan(paths: Sequence[str], options: FixOptions) -> Plan:
    """Plan every fix for every file under `paths`; raises InputError before anything is written."""
    result = Plan()
    levels = []

    yaml_kinds = [discover.MANIFEST, discover.COMPOSE]
    files = list(discover.discover(list(paths) or ["."], list(_PLANNERS) + yaml_kinds))
    yaml_entries: List[Tuple[str, str, engine.Selection]] = []
    for path in files:
        config = config_module.find_config(path)
        if config.fail_level:
            levels.append(config.fail_level)
        kind = discover.kind_of(path)
        if kind in yaml_kinds:  # planned after every Dockerfile, for pairing (_plan_yaml)
            yaml_entries.append((path, kind, selection_for(path, options, config)))
            continue
        planner = _PLANNERS.get(kind)
        if planner is not None:
            planner(result, path, options, selection_for(path, options, config))
    if yaml_entries:
        dockerfiles = [path for path in files if discover.kind_of(path) == discover.DOCKERFILE]
        _plan_yaml(result, yaml_entries, dockerfiles, options)
    result.fail_level = options.fail_level or (levels[0] if levels else None) or config_module.find_config(os.getcwd()).fail_level or "warning"
    result.remaining = engine.sort_findings(result.remaining)
    return result


# --------------------------------------------------------------------------------------------
# Output and writing
# --------------------------------------------------------------------------------------------


def _diff_lines(lines: List[str]) -> List[str]:
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return out


def diff(plan_: Plan) -> str:
    chunks: List[str] = []
    for state in plan_.changed():
        old = _split_lf(state.original or "")
        new = _split_lf(state.text)
        display = os.path.normpath(state.display)
        name = display if os.path.isabs(display) else "{}/" + display
        before = "/dev/null" if state.original is None else name.format("a")
        chunks.extend(_diff_lines(list(difflib.unified_diff(old, new, before, name.format("b")))))
    return "".join(chunks)


def _split_lf(text: str) -> List[str]:
    """Lines ending at "\\n" only (a CR stays part of its line, as BuildKit reads it)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def write(plan_: Plan) -> None:
    """Write every changed file atomically (temp file in the same folder, then rename).

    An existing file keeps its mode; a symlink is written through only when its target stays
    inside the project folder. Every target is checked before the first write."""
    changed = plan_.changed()
    for state in changed:
        if not inside_folder(state.path, state.root):
            raise InputError(state.display, "refusing to write through a symlink that leaves the project")
    for state in changed:
        target = os.path.realpath(state.path)
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        if state.original is not None:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        else:
            mode = state.mode if state.mode is not None else 0o644
        data = state.text.encode("utf-8")
        handle, temporary = tempfile.mkstemp(prefix=".initify-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

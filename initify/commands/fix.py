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
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from initify import config as config_module
from initify import knowledge
from initify import discover, engine
from initify.facts import inside_folder
from initify.errors import InputError
from initify.lint import TEMPLATE_SUFFIXES, Options, _template_text, image_findings, selection_for

# A pass applies every fix whose edits do not overlap, then lints again. Fixes in one flow-style
# YAML document (JSON, say) each re-render the whole document, so they take a pass each; the cap
# only stops fixes that would undo each other for ever.
MAX_PASSES = 50


class FixOptions(Options):
    """`initify lint`'s options plus what only `initify fix` takes."""

    __slots__ = ("unsafe_fixes", "init", "base", "stopsignal_field")

    def __init__(self, unsafe_fixes: bool = False, init: str = "auto", base: Optional[knowledge.Base] = None,
                 stopsignal_field: bool = False, **lint_options: Any) -> None:
        super().__init__(**lint_options)
        self.unsafe_fixes = unsafe_fixes
        self.init = init  # auto | python | tini | dumb-init | none
        self.base = base  # the real base image's python3/package manager, when probed
        self.stopsignal_field = stopsignal_field  # IN201 fixes with lifecycle.stopSignal (Kubernetes >= 1.33)


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
# Applying edits to text
# --------------------------------------------------------------------------------------------


def _line_offsets(text: str) -> List[int]:
    """offsets[n-1] is where physical line n starts; one extra entry for the end of the text."""
    offsets = [0]
    for index, char in enumerate(text):
        if char == "\n":
            offsets.append(index + 1)
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets


def apply_line_edits(text: str, edits: Sequence[engine.Edit]) -> Tuple[str, List[engine.Edit]]:
    """Apply line edits that do not overlap; return the new text and the edits left out.

    `text` is without BOM; lines end at "\\n" (so CRLF stays inside the line). Edits are taken
    in the given order; one that overlaps an earlier accepted edit is left for the next pass.
    """
    offsets = _line_offsets(text)
    accepted: List[Tuple[int, int, engine.Edit]] = []
    skipped: List[engine.Edit] = []
    for edit in edits:
        if edit.start_line < 1 or edit.start_line > len(offsets) or edit.end_line > len(offsets) - 1:
            skipped.append(edit)
            continue
        start = offsets[edit.start_line - 1]
        end = offsets[edit.end_line] if edit.end_line >= edit.start_line else start
        clash = any(
            (start < other_end and other_start < end) or (start == end == other_start == other_end)
            for other_start, other_end, _ in accepted
        )
        if clash:
            skipped.append(edit)
            continue
        accepted.append((start, end, edit))
    for start, end, edit in sorted(accepted, key=lambda item: (item[0], item[1]), reverse=True):
        text = text[:start] + edit.text + text[end:]
    return text, skipped


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    from initify.dockerfile import _decode

    return _decode(data, path)  # a UTF-8 BOM stays as U+FEFF and is written back


def _state(plan: Plan, path: str, display: str, root: str) -> FileState:
    absolute = os.path.abspath(path)
    if absolute not in plan.files:
        original = _read_text(absolute)
        plan.files[absolute] = FileState(absolute, display, original, original or "", root)
    return plan.files[absolute]


def _dockerfile_findings(plan: Plan, state: FileState, options: FixOptions, selection: engine.Selection) -> Optional[List[engine.Finding]]:
    from initify import dockerfile as dockerfile_module

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
    if path.endswith(TEMPLATE_SUFFIXES) and _template_text(path):
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
        if kind in yaml_kinds:  # planned after every Dockerfile, for pairing (manifest_fix.py)
            yaml_entries.append((path, kind, selection_for(path, options, config)))
            continue
        planner = _PLANNERS.get(kind)
        if planner is not None:
            planner(result, path, options, selection_for(path, options, config))
    if yaml_entries:
        from initify import manifest_fix

        dockerfiles = [path for path in files if discover.kind_of(path) == discover.DOCKERFILE]
        manifest_fix.plan_yaml(result, yaml_entries, dockerfiles, options)
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

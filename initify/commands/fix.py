"""`initify fix`: plan every file's fixes in memory, then show a diff, check, or write atomically.

Pipeline: parse -> facts -> rules -> findings with `Fix`es -> apply non-overlapping edits ->
repeat (a later pass picks up fixes that overlapped, or that the first fixes made possible) ->
write. A file that cannot be read or parsed is an IN001 finding and is never written; neither is
what its planning touched (a Dockerfile's init and scripts, the Dockerfiles a manifest is paired
with): a Dockerfile and the manifests paired with it are written together or not at all. Every
other file is planned and written. A target kind other than Dockerfiles (manifests) plugs in by
adding a planner to `_PLANNERS`.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from initify import config as config_module
from initify import discover, engine
from initify.dockerfile.facts import inside_folder
from initify.engine import apply_line_edits
from initify.errors import InputError
from initify.options import FixOptions, selection_for

if TYPE_CHECKING:
    from initify.compose.files import ComposeFile
    from initify.dockerfile.facts import ImageFacts
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
    stdin_path: Optional[str] = None  # `fix -`: the one file fixes may change (absolute pseudo path)
    errors: List[engine.Finding] = field(default_factory=list)  # IN001: files not read or not planned
    # Dockerfile (absolute path) -> the files its planning changed (itself, its init, its scripts)
    owned: Dict[str, Set[str]] = field(default_factory=dict)
    # (path, text before) for every change of a file's planned text, oldest first, so that one
    # file's planning can be undone (and found) without copying the whole plan per file.
    journal: List[Tuple[str, Optional[str]]] = field(default_factory=list)

    def set_text(self, state: FileState, text: str) -> None:
        self.journal.append((state.path, state.text))
        state.text = text

    def add_state(self, state: FileState) -> None:
        self.journal.append((state.path, None))  # None: the state did not exist
        self.files[state.path] = state

    def add_error(self, error: InputError) -> None:
        finding = engine.parse_error(error)
        if not any((f.path, f.line) == (finding.path, finding.line) for f in self.errors):
            self.errors.append(finding)

    def changed(self) -> List[FileState]:
        return [state for state in self.files.values() if state.text != state.original]

    def planned_files(self) -> "Mapping[str, str]":
        """Every changed file as planned so far (absolute path -> text), for analyse_image: a
        later pass sees an entrypoint script that an earlier pass rewrote in memory. A live
        view, not a copy: copying it for every Dockerfile made fixing 10k of them quadratic."""
        return _Planned(self.files)


class _Planned(Mapping):  # type: ignore[type-arg]
    """The changed files of a plan, by absolute path (see Plan.planned_files)."""

    def __init__(self, files: Dict[str, FileState]) -> None:
        self.files = files

    def __getitem__(self, path: str) -> str:
        state = self.files[path]
        if state.text == state.original:
            raise KeyError(path)
        return state.text

    def __iter__(self) -> Iterator[str]:
        return (path for path, state in self.files.items() if state.text != state.original)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Snapshot:
    """The plan as it was before one file was planned, to undo that file's planning when it
    fails half-way (a parse error in a later pass, a paired Dockerfile that does not parse).
    It keeps a position in the plan's journal, so taking one costs nothing."""

    def __init__(self, plan: Plan) -> None:
        self.journal = len(plan.journal)
        self.applied = len(plan.applied)
        self.remaining = len(plan.remaining)
        self.checked = plan.checked

    def changed_since(self, plan: Plan) -> Set[str]:
        return {path for path, _ in plan.journal[self.journal:] if path in plan.files}

    def restore(self, plan: Plan) -> None:
        for path, before in reversed(plan.journal[self.journal:]):
            if before is None:
                plan.files.pop(path, None)
            elif path in plan.files:
                plan.files[path].text = before
        del plan.journal[self.journal:]
        del plan.applied[self.applied:]
        del plan.remaining[self.remaining:]
        plan.checked = self.checked


def _undo_dockerfile(plan: Plan, dockerfile: str, why: str) -> None:
    """Take back every change the planning of `dockerfile` made (a manifest paired with it could
    not be planned: they are written together or not at all)."""
    owned = plan.owned.pop(dockerfile, set())
    changed = [path for path in owned if path in plan.files and plan.files[path].text != plan.files[path].original]
    if not changed:
        return
    for path in owned:
        state = plan.files.get(path)
        if state is None:
            continue
        if state.original is None:
            del plan.files[path]
        else:
            plan.set_text(state, state.original)
    undone = [a for a in plan.applied if os.path.abspath(a.finding.path) == dockerfile]
    plan.applied[:] = [a for a in plan.applied if os.path.abspath(a.finding.path) != dockerfile]
    plan.remaining.extend(a.finding for a in undone)
    plan.notes.append(f"{os.path.relpath(dockerfile)}: not rewritten, {why}")


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
        plan.add_state(FileState(absolute, display, original, original or "", root))
    return plan.files[absolute]


def _dockerfile_findings(plan: Plan, state: FileState, options: FixOptions, selection: engine.Selection) -> Optional[List[engine.Finding]]:
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile.findings import image_findings

    parsed = dockerfile_module.parse(state.text, state.display)
    facts, found = image_findings(parsed, options, selection, options.context or state.root, options.init, options.base,
                                  plan.planned_files())
    plan.notes.extend(note for note in (facts.notes if facts is not None else []) if note not in plan.notes)
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
    if plan.stdin_path is not None:  # `fix -` prints one text: a fix that needs other files is left
        findings = [f if f.fix is None or all(os.path.abspath(e.path) == plan.stdin_path for e in f.fix.edits)
                    else engine.Finding(**{**f.as_dict(), "fixable": False, "fix": None}) for f in findings]
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
            # As lint prints paths: relative to the working directory (absolute if the user named it so).
            display = edit.path if os.path.isabs(state.display) else os.path.relpath(edit.path)
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
                plan.set_text(target, edit.text)
                if target.original is None:
                    target.mode = edit.mode
                if not any(not e.whole_file for e in fix.edits):
                    plan.applied.append(Applied(finding, fix))
    new_text, skipped = apply_line_edits(state.text.lstrip("\ufeff"), line_edits)
    bom = "\ufeff" if state.text.startswith("\ufeff") else ""
    if bom + new_text != state.text:
        changed = True
        plan.set_text(state, bom + new_text)
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
    """Plan one Dockerfile; when it cannot be read or parsed (in any pass), undo what its
    planning did and report it as IN001."""
    from initify.dockerfile.parser import TEMPLATE_SUFFIXES, template_text

    if path.endswith(TEMPLATE_SUFFIXES) and template_text(path):
        plan.notes.append(f"{path}: skipped, a template rather than a Dockerfile")
        return
    snapshot = _Snapshot(plan)
    try:
        _plan_dockerfile_passes(plan, path, options, selection)
    except InputError as error:
        snapshot.restore(plan)
        if template_text(path):
            plan.notes.append(f"{path}: skipped, a template rather than a Dockerfile")
            return
        plan.add_error(error)
    except RecursionError:
        snapshot.restore(plan)
        plan.add_error(InputError(path, "nested too deeply to read"))
    else:
        plan.owned[os.path.abspath(path)] = snapshot.changed_since(plan) | {os.path.abspath(path)}


def _plan_dockerfile_passes(plan: Plan, path: str, options: FixOptions, selection: engine.Selection) -> None:
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

    # read only: every fix is a text splice (yaml_edit re-renders from its own round-trip load)
    if kind == discover.COMPOSE:
        return load_compose(path, text, round_trip=False)
    return load_manifest(path, text, round_trip=False)


def _plan_yaml(plan: Plan, entries: List[Entry], dockerfiles: List[str], options: FixOptions, root: Optional[str] = None) -> None:
    """Plan the fixes of every manifest and compose file in `entries`.

    Runs after every Dockerfile of the invocation was planned, so pairing sees the Dockerfiles as
    their fixes leave them (a STOPSIGNAL the IN107 fix adds is the image's STOPSIGNAL here). Each
    rule computes its own fix as text splices (`initify.kubernetes.yaml_edit`); this only loads,
    lints and applies, pass after pass, like the Dockerfile planner."""
    from initify.compose.files import ComposeFile
    from initify.kubernetes.findings import findings_for, k8s_version, pair_images
    from initify.kubernetes.manifests import ManifestFile

    version = k8s_version(options)
    used: Set[str] = set()  # the Dockerfiles the file being planned is paired with
    plain = _yaml_analyser(plan, options)

    def analyse(path: str, build: Optional["pairing.Build"] = None) -> Optional["ImageFacts"]:
        used.add(os.path.abspath(path))
        return plain(path, build)

    images = {}
    for path in dockerfiles:
        try:
            images[os.path.abspath(path)] = analyse(path)
        except InputError as error:  # pragma: no cover - planned already, so it parsed
            plan.add_error(error)
    states = []
    loaded: List[Tuple["Loaded", engine.Selection]] = []
    for path, kind, selection in entries:
        try:
            state = _state(plan, path, path, os.path.dirname(os.path.abspath(path)))
            if state.original is None:
                raise InputError(path, "cannot read: no such file")
            item = _load_yaml(path, kind, state.text)
        except InputError as error:
            plan.files.pop(os.path.abspath(path), None)
            plan.add_error(error)
            continue
        if isinstance(item, ManifestFile) and item.helm:
            plan.notes.append(f"{path}: skipped, a Helm template rather than plain YAML")
            continue
        if (isinstance(item, ManifestFile) and item.pods) or (isinstance(item, ComposeFile) and item.services):
            states.append((state, kind, selection))
            loaded.append((item, selection))
    paired = pair_images(loaded, images, options, root)
    paired.analyse = analyse
    for (state, kind, selection), (item, _) in zip(states, loaded):
        plan.checked += 1
        used.clear()
        snapshot = _Snapshot(plan)
        try:
            _plan_yaml_passes(plan, state, kind, selection, item, paired, version, options)
        except (InputError, RecursionError) as error:
            # Not planned: neither this file nor the Dockerfiles it pairs with are written.
            snapshot.restore(plan)
            plan.add_error(error if isinstance(error, InputError) else InputError(state.display, "nested too deeply to read"))
            for dockerfile in sorted(used):
                _undo_dockerfile(plan, dockerfile, f"{state.display}, paired with it, could not be planned")
    plan.notes.extend(note for note in paired.notes + [paired.unpaired_note() or ""] if note and note not in plan.notes)


def _plan_yaml_passes(plan: Plan, state: FileState, kind: str, selection: engine.Selection, item: "Loaded",
                      paired: "pairing.Pairing", version: Tuple[int, int], options: FixOptions) -> None:
    from initify.kubernetes.findings import findings_for

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


Planner = Callable[[Plan, str, FixOptions, engine.Selection], None]
_PLANNERS: Dict[str, Planner] = {discover.DOCKERFILE: _plan_dockerfile}


def plan(paths: Sequence[str], options: FixOptions, stdin_text: Optional[str] = None,
         stdin_filename: Optional[str] = None) -> Plan:
    """Plan every fix for every file under `paths` (`-`: `stdin_text`, named `stdin_filename`,
    whose fixes may change only that text); raises InputError before anything is written."""
    result = Plan()
    levels = []

    yaml_kinds = [discover.MANIFEST, discover.COMPOSE]
    skipped: List[InputError] = []
    on_disk = [path for path in paths if path != discover.STDIN]
    charts: List[str] = []
    files = list(discover.discover(on_disk or ([] if paths else ["."]), list(_PLANNERS) + yaml_kinds, charts, skipped))
    result.notes.extend(discover.chart_note(chart, "fix") for chart in charts)
    for error in skipped:
        result.add_error(error)
    yaml_entries: List[Tuple[str, str, engine.Selection]] = []
    if discover.STDIN in paths:
        name = stdin_filename or discover.STDIN
        key = os.path.abspath(name)
        text = stdin_text or ""
        result.add_state(FileState(key, name, text, text, os.path.dirname(key)))
        result.stdin_path = key
        selection = selection_for(name, options, config_module.find_config(name if stdin_filename else os.getcwd()))
        kind = discover.stdin_kind(text, stdin_filename)
        if kind in yaml_kinds:
            yaml_entries.append((name, kind, selection))
        else:
            _plan_dockerfile(result, name, options, selection)
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
        # Only the Dockerfiles that were planned: not a template, nor one that does not parse.
        dockerfiles = [path for path in files if os.path.abspath(path) in result.owned]
        _plan_yaml(result, yaml_entries, dockerfiles, options, discover.project_root(list(paths) or ["."]))
    result.fail_level = options.fail_level or (levels[0] if levels else None) or config_module.find_config(os.getcwd()).fail_level or "warning"
    result.remaining = engine.sort_findings(result.remaining)
    return result


# --------------------------------------------------------------------------------------------
# Output and writing
# --------------------------------------------------------------------------------------------


def check_summary(plan_: Plan, unsafe: List[engine.Finding]) -> str:
    """The last line of `fix --check`/`--diff`: what would change, and which fixes only
    `--unsafe-fixes` applies (so "nothing to rewrite" never reads as "nothing to fix")."""
    changed = plan_.changed()
    line = f"{len(changed)} file(s) would be rewritten, {len(plan_.applied)} fix(es) would be applied"
    if unsafe:
        where = ", ".join(f"{f.path}:{f.line} {f.code}" for f in unsafe)
        only = "only " if not changed else ""
        line += f"; {only}{len(unsafe)} unsafe fix(es) left, applied with --unsafe-fixes: {where}"
    return line


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
        before = "/dev/null" if state.original is None else _header_name(name.format("a"))
        chunks.extend(_diff_lines(list(difflib.unified_diff(old, new, before, _header_name(name.format("b"))))))
    return "".join(chunks)


def _header_name(name: str) -> str:
    """A file name for a `---`/`+++` line, quoted as git quotes it when it holds a tab, a
    newline, a quote, a backslash or another unprintable character (else the header breaks)."""
    if all(char.isprintable() and char not in '"\\' for char in name):
        return name
    escapes = {"\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
    out = []
    for char in name:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.extend(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def _split_lf(text: str) -> List[str]:
    """Lines ending at "\\n" only (a CR stays part of its line, as BuildKit reads it)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


class Interrupted(Exception):
    """SIGTERM arrived while `fix` ran (raised from the signal handler, like KeyboardInterrupt)."""


def _refuse_target(state: FileState) -> Optional[str]:
    """Why `state` must not be written, or None."""
    if not inside_folder(state.path, state.root):
        return "refusing to write through a symlink that leaves the project"
    if state.original is not None and not discover.is_regular(state.path):
        return "refusing to write: no longer a regular file"
    return None


def _unchanged_on_disk(state: FileState) -> bool:
    """Whether the file still holds what the plan was made from (lost-update check: a user
    saving the file while fix ran must not lose that edit)."""
    if state.original is None:
        return not os.path.lexists(state.path)
    try:
        current = _read_text(state.path)
    except InputError:
        return False
    return current == state.original


def write(plan_: Plan) -> List[str]:
    """Write every changed file, all or nothing: a temporary file beside each target first,
    then, once every one was written, rename them into place. On any failure (a read-only
    folder, a full disk, a signal) the temporaries are removed and every target is left as it
    was; the error names the target. A file changed on disk since it was read is not written
    (nor the other files of its group); its message is returned. An existing file keeps its mode;
    a symlink is written through only when its target stays inside the project folder."""
    changed = plan_.changed()
    for state in changed:
        reason = _refuse_target(state)
        if reason is not None:
            raise InputError(state.display, reason)
    refused: List[str] = []
    temporaries: List[Tuple[FileState, str, str]] = []  # (state, temporary, target)
    done: List[Tuple[FileState, str]] = []
    created: List[str] = []
    try:
        for state in changed:
            target = os.path.realpath(state.path)
            folder = os.path.dirname(target)
            try:
                if not os.path.isdir(folder):  # `.initify/` for the init: removed again on failure
                    _make_folders(folder, created)
                if state.original is not None:
                    mode = stat.S_IMODE(os.stat(target).st_mode)
                else:
                    mode = state.mode if state.mode is not None else 0o644
                # named and recorded before it exists, so a signal at any moment leaves no stray file
                temporary = os.path.join(folder, f".initify-{os.getpid()}-{len(temporaries)}-{os.urandom(4).hex()}")
                temporaries.append((state, temporary, target))
                handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(handle, "wb") as stream:
                    stream.write(state.text.encode("utf-8", "surrogateescape"))
                os.chmod(temporary, mode)
            except OSError as error:
                raise InputError(state.display, f"cannot write: {error.strerror or error}; nothing was written") from None
        dropped = _stale_groups(plan_, changed, refused)  # re-checked last, just before the renames
        for state, temporary, target in temporaries:
            if state.path in dropped:
                os.unlink(temporary)
                continue
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise InputError(state.display, f"cannot write: {error.strerror or error}; nothing was written") from None
            done.append((state, target))
    except BaseException:
        for _, temporary, _ in temporaries:
            if os.path.lexists(temporary):
                os.unlink(temporary)
        _roll_back(done)
        for folder in reversed(created):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        raise
    return refused


def _make_folders(folder: str, created: List[str]) -> None:
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        os.mkdir(path)
        created.append(path)


def _stale_groups(plan_: Plan, changed: List[FileState], refused: List[str]) -> Set[str]:
    """Paths not to write because one file of their group changed on disk since it was read."""
    stale = {state.path for state in changed if not _unchanged_on_disk(state)}
    if not stale:
        return set()
    groups = _groups(plan_)
    dropped: Set[str] = set()
    for path in stale:
        dropped |= groups.get(path, {path})
    for state in changed:
        if state.path in stale:
            refused.append(f"{state.display}: changed on disk while initify fix ran; not written (run fix again)")
        elif state.path in dropped:
            refused.append(f"{state.display}: not written, a file fixed with it changed on disk")
    return dropped


def _roll_back(done: List[Tuple[FileState, str]]) -> None:
    """Put back the files already renamed into place when a later one failed (best effort:
    an original that cannot be restored is left as fixed, which is still a whole file)."""
    for state, target in reversed(done):
        try:
            if state.original is None:
                os.unlink(target)
                continue
            handle, temporary = tempfile.mkstemp(prefix=".initify-", dir=os.path.dirname(target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(state.original.encode("utf-8", "surrogateescape"))
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
            os.replace(temporary, target)
        except OSError:  # pragma: no cover - the disk failed twice
            continue


def _groups(plan_: Plan) -> Dict[str, Set[str]]:
    """Files that are written together: a Dockerfile with what its fixes create or rewrite."""
    groups: Dict[str, Set[str]] = {}
    for owned in plan_.owned.values():
        for path in owned:
            groups.setdefault(path, set()).update(owned)
    return groups

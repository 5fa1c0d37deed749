"""`initify fix` for Kubernetes manifests and compose files.

Called by `initify.fix.plan` after every Dockerfile of the invocation was planned, so pairing
sees the Dockerfiles as their fixes leave them (a STOPSIGNAL the IN107 fix adds is the image's
STOPSIGNAL here). Each rule computes its own fix as text splices (`initify.yaml_edit`); this
module only loads, lints and applies, pass after pass, like the Dockerfile planner.
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple, Union

from initify import discover, engine, pairing
from initify.compose import ComposeFile, load_compose
from initify.errors import InputError
from initify.manifest_lint import _k8s_version, _pairing, findings_for
from initify.manifests import ManifestFile, load_manifest

Loaded = Union[ManifestFile, ComposeFile]
Entry = Tuple[str, str, engine.Selection]


def _analyser(plan: object, options: object) -> pairing.Analyse:
    """Facts of a Dockerfile as the planned fixes leave it (its text and context scripts)."""
    from initify import dockerfile as dockerfile_module

    def read(path: str):  # type: ignore[no-untyped-def]
        state = plan.files.get(os.path.abspath(path))  # type: ignore[attr-defined]
        return dockerfile_module.parse(state.text, path) if state is not None else dockerfile_module.read(path)

    return pairing.analyser(options, read, plan.planned_files)  # type: ignore[arg-type, attr-defined]


def _load(path: str, kind: str, text: str) -> Loaded:
    if kind == discover.COMPOSE:
        return load_compose(path, text)
    return load_manifest(path, text)


def plan_yaml(plan: object, entries: List[Entry], dockerfiles: List[str], options: object) -> None:
    """Plan the fixes of every manifest and compose file in `entries` into `plan` (a fix.Plan)."""
    from initify import fix as fix_module

    version = _k8s_version(options)  # type: ignore[arg-type]
    stop_signal_field = bool(getattr(options, "stopsignal_field", False))
    analyse = _analyser(plan, options)
    images = {os.path.abspath(path): analyse(path) for path in dockerfiles}
    states = []
    loaded: List[Tuple[Loaded, engine.Selection]] = []
    for path, kind, selection in entries:
        state = fix_module._state(plan, path, path, os.path.dirname(os.path.abspath(path)))  # type: ignore[arg-type]
        if state.original is None:
            raise InputError(path, "cannot read: no such file")
        item = _load(path, kind, state.text)  # every file parses before anything is planned
        if isinstance(item, ManifestFile) and item.helm:
            plan.notes.append(f"{path}: skipped, a Helm template rather than plain YAML")  # type: ignore[attr-defined]
            continue
        if (isinstance(item, ManifestFile) and item.pods) or (isinstance(item, ComposeFile) and item.services):
            states.append((state, kind, selection))
            loaded.append((item, selection))
    paired = _pairing(loaded, images, options)  # type: ignore[arg-type]
    paired.analyse = analyse
    for (state, kind, selection), (item, _) in zip(states, loaded):
        plan.checked += 1  # type: ignore[attr-defined]
        remaining: List[engine.Finding] = []
        current: Optional[Loaded] = item
        for _ in range(fix_module.MAX_PASSES):
            if current is None:
                current = _load(state.path, kind, state.text)
            findings = findings_for(current, selection, paired, version, stop_signal_field)
            changed, remaining = fix_module._apply_fixes(plan, state, findings, options)  # type: ignore[arg-type]
            current = None
            if not changed:
                break
        else:
            remaining = findings_for(_load(state.path, kind, state.text), selection, paired, version, stop_signal_field)
        unsafe_ok = bool(getattr(options, "unsafe_fixes", False))
        plan.remaining.extend(f for f in remaining if f.fix is None or not (f.fix.safe or unsafe_ok))  # type: ignore[attr-defined]
    plan.notes.extend(note for note in paired.notes if note not in plan.notes)  # type: ignore[attr-defined]

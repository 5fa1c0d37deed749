"""Findings of one Dockerfile: its image facts, the Dockerfile rules run on them, suppressions applied.

Shared by `initify lint`, `initify fix` (pass after pass, on the text as planned) and the pairing
of manifests with the Dockerfiles that build their images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from initify import engine
from initify.errors import InputError
from initify.options import Options

if TYPE_CHECKING:
    from initify.dockerfile.facts import ImageFacts
    from initify.dockerfile.model import Dockerfile
    from initify.knowledge.loader import Base


def image_findings(
    parsed: "Dockerfile",
    options: Options,
    selection: engine.Selection,
    context_dir: Optional[str],
    fix_init: str = "auto",
    fix_base: Optional["Base"] = None,
    planned_files: Optional[Dict[str, str]] = None,
) -> Tuple[Optional["ImageFacts"], List[engine.Finding]]:
    """Facts of a parsed Dockerfile and its findings, suppressions applied (for lint and fix).

    `fix_init`/`fix_base` tell the IN106 fix which init to inject (`initify fix --init`, and what
    `initify build` found in the real base image); `planned_files` are the files as `initify fix`
    plans them so far."""
    from initify.dockerfile import facts as facts_module

    facts = facts_module.analyse_image(parsed, target=options.target, context_dir=context_dir,
                                       build_args=options.build_args, planned_files=planned_files)
    if facts is None:
        if options.target is not None and any(i.keyword == "FROM" for i in parsed.instructions):
            raise InputError(parsed.path, f"no build stage named {options.target!r}")
        return None, []
    facts.fix_init = fix_init
    facts.fix_base = fix_base
    found = engine.run_rules("dockerfile", facts, parsed.path, selection)
    suppressions = engine.read_suppressions(parsed.text, [i.start_line for i in parsed.instructions])
    kept = [f for f in found if not suppressions.suppressed(f)]
    return facts, kept + engine.check_suppressions(suppressions, ("dockerfile",), selection, parsed.path)

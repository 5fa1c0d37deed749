"""Where the shared corpus of real files is (test data only: read in place, never copied).

`INITIFY_CORPUS` names it; otherwise `../shared/corpus` beside the checkout (or beside its
parent, for a git worktree one level deeper), else `/work/shared/corpus`. The corpus tests skip
when none exists."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _find() -> Path:
    candidates = [Path(os.environ["INITIFY_CORPUS"])] if os.environ.get("INITIFY_CORPUS") else []
    candidates += [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus",
                   Path("/work/shared/corpus")]
    return next((path for path in candidates if path.is_dir()), candidates[-1])


CORPUS = _find()

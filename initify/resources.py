"""Where the shipped data lives: `rules/` (docs, knowledge base), `templates/`, and the init's source.

A wheel carries them inside the package as `initify/_data/...` (see pyproject's force-include);
a source checkout or an editable install has them at the repository top level.
"""

from __future__ import annotations

import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def data_dir(name: str) -> str:
    """Absolute path of the shipped folder `name` ("rules" or "templates")."""
    installed = os.path.join(_PACKAGE_DIR, "_data", name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(_PACKAGE_DIR), name)


def init_source() -> str:
    """Path of the bundled init (`initify/init.py`), which `initify fix` copies into a build context."""
    return os.path.join(_PACKAGE_DIR, "init.py")

"""Configuration: `[tool.initify]` in pyproject.toml or a `.initify.toml`, nearest one wins.

Keys (all optional):
    select = ["IN1"]                 # codes, prefixes, names or "ALL"
    ignore = ["IN110"]
    fail-level = "warning"          # error | warning | info | never
    severity = { IN106 = "error" }  # per-rule severity overrides
    per-path-ignores = { "legacy/*" = ["IN101"] }   # globs relative to the config file
    images = { "ghcr.io/acme/app" = "app/Dockerfile" }  # pairing (manifests)
"""

from __future__ import annotations

import fnmatch
import os
import sys
from typing import Dict, List, Optional

from initify.errors import InputError
from initify.record import Record

FAIL_LEVELS = ("error", "warning", "info", "never")
_KEYS = {"select", "ignore", "fail-level", "severity", "per-path-ignores", "images", "extend-select"}


class Config(Record):
    """One configuration file's settings (all empty when there is no file)."""

    __slots__ = ("path", "select", "ignore", "fail_level", "severity", "per_path_ignores", "images")

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path  # the file it came from
        self.select: Optional[List[str]] = None
        self.ignore: List[str] = []
        self.fail_level: Optional[str] = None
        self.severity: Dict[str, str] = {}
        self.per_path_ignores: Dict[str, List[str]] = {}
        self.images: Dict[str, str] = {}

    @property
    def root(self) -> str:
        return os.path.dirname(self.path) if self.path else os.getcwd()

    def ignores_for(self, path: str) -> List[str]:
        """Codes ignored for `path` by per-path-ignores (globs relative to the config's folder)."""
        relative = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        codes: List[str] = []
        for pattern, values in self.per_path_ignores.items():
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                codes.extend(values)
        return codes


def _table(path: str) -> Optional[dict]:
    from initify.discover import read_bytes

    raw = read_bytes(path, 1_000_000)
    pyproject = os.path.basename(path) == "pyproject.toml"
    if pyproject and b"initify" not in raw:
        return None  # no [tool.initify] table: skip loading the TOML parser (a hook runs often)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "invalid TOML: not UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(path, f"invalid TOML: {error}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise InputError(path, "`tool` must be a table")
    table = tool.get("initify") if pyproject else tool.get("initify", data)
    if table is not None and not isinstance(table, dict):
        raise InputError(path, "`tool.initify` must be a table")
    return table


def _strings(path: str, key: str, value: object) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InputError(path, f"`{key}` must be a list of strings")


def _mapping(path: str, key: str, value: object) -> dict:
    if not isinstance(value, dict):
        raise InputError(path, f"`{key}` must be a table")
    return value


def _check_codes(path: str, key: str, codes: List[str]) -> None:
    """Unknown rule codes are bad input, as on the command line (loads the rules: only a
    configuration that selects or ignores codes pays for it)."""
    from initify import engine

    known = engine.all_rules()
    for code in codes:
        wanted = code.strip()
        if wanted.upper() == "ALL" or engine.find_rule(wanted) is not None or any(c.startswith(wanted.upper()) for c in known):
            continue
        raise InputError(path, f"`{key}`: unknown rule code or prefix {wanted[:20]!r}")


def _from_table(path: str, table: dict) -> Config:
    unknown = set(table) - _KEYS
    if unknown:
        raise InputError(path, f"unknown key(s) in initify configuration: {', '.join(sorted(unknown))}")
    config = Config(path=path)
    if "select" in table:
        config.select = _strings(path, "select", table["select"])
    if "extend-select" in table:
        config.select = (config.select or ["ALL"]) + _strings(path, "extend-select", table["extend-select"])
    config.ignore = _strings(path, "ignore", table.get("ignore", []))
    if config.select or config.ignore:
        _check_codes(path, "select/ignore", list(config.select or []) + config.ignore)
    level = table.get("fail-level")
    if level is not None and level not in FAIL_LEVELS:
        raise InputError(path, f"fail-level must be one of {', '.join(FAIL_LEVELS)}, not {level!r}")
    config.fail_level = level
    for code, severity in _mapping(path, "severity", table.get("severity", {})).items():
        if severity not in ("error", "warning", "info"):
            raise InputError(path, f"severity of {code} must be error, warning or info, not {severity!r}")
        config.severity[code] = severity
    for pattern, codes in _mapping(path, "per-path-ignores", table.get("per-path-ignores", {})).items():
        config.per_path_ignores[pattern] = _strings(path, f"per-path-ignores.{pattern}", codes)
    for image, dockerfile in _mapping(path, "images", table.get("images", {})).items():
        if not isinstance(dockerfile, str):
            raise InputError(path, f"images.{image} must be a path to a Dockerfile")
        config.images[image] = dockerfile
    return config


_CACHE: Dict[str, Config] = {}
_OVERRIDE: List[Config] = []  # `--config FILE`: the one configuration of this run


def use_config_file(path: Optional[str]) -> None:
    """Make `path` (`--config FILE`) the configuration of every linted file, instead of the nearest
    one; None goes back to the search. A pyproject.toml without `[tool.initify]` is an error:
    the user named it, so silently using nothing would hide a typo."""
    _OVERRIDE.clear()
    if path is None:
        return
    if not os.path.isfile(path):
        raise InputError(path, "configuration file not found")
    table = _table(path)
    if table is None:
        raise InputError(path, "no [tool.initify] table")
    _OVERRIDE.append(_from_table(os.path.abspath(path), table))


def find_config(start: str) -> Config:
    """The nearest configuration walking up from `start` (a file or a folder); empty if none
    (or the `--config FILE` configuration, when one was given)."""
    if _OVERRIDE:
        return _OVERRIDE[0]
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(os.path.abspath(start)))
    visited = []
    config: Optional[Config] = None
    while True:
        if folder in _CACHE:
            config = _CACHE[folder]
            break
        visited.append(folder)
        for name in (".initify.toml", "pyproject.toml"):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                table = _table(candidate)
                if table is not None or name == ".initify.toml":
                    config = _from_table(candidate, table or {})
                    break
        if config is not None:
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            config = Config()
            break
        folder = parent
    for path in visited:
        _CACHE[path] = config
    return config

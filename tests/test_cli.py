"""The `initify` command line, through click's runner and through a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.clirun import invoke

SHELL_FORM = "FROM python:3.12-slim\nCMD python3 app.py\n"
CLEAN = 'FROM python:3.12-slim\nRUN pip install tini\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "app.py"]\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_lint_reports_shell_form_with_location_and_exit_1(tmp_path):
    path = write(tmp_path, "Dockerfile", SHELL_FORM)
    result = invoke(["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2:1: IN101" in result.output
    assert "IN106" not in result.stdout  # IN101's fix makes the program PID 1: one finding per cause
    assert result.stdout.rstrip().splitlines()[-1].startswith("Found 1 finding in 1 file")


def test_clean_file_exits_0(tmp_path):
    path = write(tmp_path, "Dockerfile", CLEAN)
    result = invoke(["lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "All checks passed (1 file)." in result.output


def test_json_format_fields(tmp_path):
    path = write(tmp_path, "Dockerfile", SHELL_FORM)
    result = invoke(["lint", "--format", "json", str(path)])
    data = json.loads(result.stdout)
    assert {f["code"] for f in data} == {"IN101"}
    first = data[0]
    assert set(first) == {"code", "name", "severity", "path", "line", "column", "end_line", "end_column", "message", "fixable"}
    assert first["line"] == 2 and first["end_line"] == 2 and first["column"] == 1
    assert first["end_column"] == len("CMD python3 app.py") + 1


def test_github_format_is_workflow_commands(tmp_path):
    # IN101 (error) and, for the python it leaves as PID 1 with no SIGTERM handler, IN111 (warning)
    write(tmp_path, "app.py", "import time\nwhile True:\n    time.sleep(1)\n")
    path = write(tmp_path, "Dockerfile", "FROM python:3.12-slim\nCMD python3 app.py\nCOPY app.py /\n")
    result = invoke(["lint", "--format", "github", str(path)])
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"::error file={path},line=2,col=1,endLine=2,title=IN101 shell-form-cmd::IN101 ")
    assert lines[1].startswith("::warning ")


def test_select_ignore_and_fail_level(tmp_path):
    path = write(tmp_path, "Dockerfile", SHELL_FORM)
    assert "IN106" not in invoke(["lint", "--select", "IN101", str(path)]).output
    result = invoke(["lint", "--ignore", "IN101,IN106", str(path)])
    assert result.exit_code == 0
    assert invoke(["lint", "--ignore", "IN101", "--fail-level", "error", str(path)]).exit_code == 0
    assert invoke(["lint", "--fail-level", "never", str(path)]).exit_code == 0
    assert invoke(["lint", "--select", "IN9", str(path)]).exit_code == 2


def test_folder_discovery_skips_vendored_folders(tmp_path):
    write(tmp_path, "app/Dockerfile", SHELL_FORM)
    write(tmp_path, "app/Containerfile", SHELL_FORM)
    write(tmp_path, "app/web.Dockerfile", SHELL_FORM)
    write(tmp_path, "app/Dockerfile.prod", SHELL_FORM)
    write(tmp_path, "node_modules/x/Dockerfile", SHELL_FORM)
    write(tmp_path, ".git/Dockerfile", SHELL_FORM)
    write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "env/Dockerfile", SHELL_FORM)
    data = json.loads(invoke(["lint", "--format", "json", str(tmp_path)]).stdout)
    paths = sorted({os.path.relpath(f["path"], tmp_path) for f in data})
    assert paths == ["app/Containerfile", "app/Dockerfile", "app/Dockerfile.prod", "app/web.Dockerfile"]


def test_empty_folder_is_fine(tmp_path):
    result = invoke(["lint", str(tmp_path)])
    assert result.exit_code == 0
    assert "All checks passed (0 files)." in result.output


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"FROM alpine\n\x00\x01binary", "binary"),
        (b"FROM alpine\nCMD echo \xff\xfe\n", "UTF-8"),
    ],
)
def test_bad_input_is_an_in001_finding_exit_2(tmp_path, content, reason):
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "initify", "lint", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:") and " IN001 " in lines[0] and reason in lines[0]


def test_missing_path_is_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "initify", "lint", str(tmp_path / "nope")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"initify: error: {tmp_path / 'nope'}: no such file or directory"


def test_suppression_comments(tmp_path):
    text = textwrap.dedent(
        """\
        FROM node:22-slim
        # initify: ignore=IN110
        CMD ["node", "server.js"]
        CMD ["npm", "start"]
        """
    )
    path = write(tmp_path, "Dockerfile", text)
    codes = {f["code"] for f in json.loads(invoke(["lint", "--format", "json", str(path)]).stdout)}
    assert codes == {"IN106"}
    write(tmp_path, "Dockerfile", "# initify: ignore-file=IN106\n" + text)
    assert json.loads(invoke(["lint", "--format", "json", str(path)]).stdout) == []


def test_config_in_pyproject_found_walking_up(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.initify]\nignore = ["IN106"]\nfail-level = "never"\n[tool.initify.severity]\nIN101 = "info"\n')
    path = write(tmp_path, "deep/er/Dockerfile", SHELL_FORM)
    result = invoke(["lint", "--format", "json", str(path)])
    data = json.loads(result.stdout)
    assert [(f["code"], f["severity"]) for f in data] == [("IN101", "info")]
    assert result.exit_code == 0


def test_initify_toml_per_path_ignores(tmp_path):
    write(tmp_path, ".initify.toml", '[per-path-ignores]\n"legacy/*" = ["IN1"]\n')
    write(tmp_path, "legacy/Dockerfile", SHELL_FORM)
    write(tmp_path, "new/Dockerfile", SHELL_FORM)
    data = json.loads(invoke(["lint", "--format", "json", str(tmp_path)]).stdout)
    assert {os.path.relpath(f["path"], tmp_path) for f in data} == {"new/Dockerfile"}


def test_bad_config_is_exit_2(tmp_path):
    write(tmp_path, ".initify.toml", 'fail-level = "sometimes"\n')
    path = write(tmp_path, "Dockerfile", SHELL_FORM)
    result = subprocess.run([sys.executable, "-m", "initify", "lint", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "fail-level must be one of" in result.stderr


@pytest.mark.parametrize(
    "name, text",
    [
        (".initify.toml", "ignore = [\"IN106\"\n"),
        ("pyproject.toml", "[tool.initify]\nignore = IN106\n"),
        (".initify.toml", "ignore = [\"IN106\"]\n# \xe9\n"),
    ],
)
def test_unparsable_config_is_one_line_exit_2(tmp_path, name, text):
    (tmp_path / name).write_bytes(text.encode("latin-1"))
    path = write(tmp_path, "Dockerfile", SHELL_FORM)
    result = subprocess.run([sys.executable, "-m", "initify", "lint", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"initify: error: {tmp_path / name}") and "invalid TOML" in line


def test_pyproject_without_initify_table_is_not_configuration(tmp_path):
    """A pyproject.toml that never mentions initify is skipped unparsed, even when it is broken
    (it is another tool's file), and the search walks on to the configuration above it."""
    write(tmp_path, ".initify.toml", 'ignore = ["IN106"]\n')
    write(tmp_path, "app/pyproject.toml", "[project\nname = 'broken'\n")
    path = write(tmp_path, "app/Dockerfile", SHELL_FORM)
    data = json.loads(invoke(["lint", "--format", "json", str(path)]).stdout)
    assert [f["code"] for f in data] == ["IN101"]


def test_rules_listing_and_doc():
    listing = invoke(["rules"])
    assert listing.exit_code == 0
    codes = [line.split()[0] for line in listing.output.splitlines() if line.startswith("IN")]
    assert codes[:2] == ["IN001", "IN002"]  # parse error (hardening), unused suppression (dist)
    assert [code for code in codes if code.startswith("IN1")] == [f"IN1{n:02d}" for n in range(1, 12)]
    doc = invoke(["rules", "IN107"])
    assert doc.exit_code == 0 and "SIGRTMIN+3" in doc.output
    assert invoke(["rules", "IN999"]).exit_code == 2


def test_version_and_init_path():
    from initify import __version__

    assert invoke(["--version"]).output.strip() == f"initify, version {__version__}"
    path = invoke(["init-path"]).output.strip()
    assert os.path.isabs(path) and path.endswith(os.path.join("initify", "init.py")) and os.path.isfile(path)


def test_installed_console_script_works_outside_the_source_tree(tmp_path):
    """`pip install .` must ship the rule docs and knowledge base, not only the code."""
    script = shutil.which("initify", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("initify is not installed into this interpreter's environment")
    write(tmp_path, "Dockerfile", "FROM fedora:40\nCMD [\"/sbin/init\"]\n")
    result = subprocess.run([script, "lint", "Dockerfile"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "Dockerfile:2:1: IN107" in result.stdout
    doc = subprocess.run([script, "rules", "IN101"], cwd=tmp_path, capture_output=True, text=True)
    assert doc.returncode == 0 and doc.stdout.startswith("# IN101")


def test_image_facts_summary_line_on_stderr(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM alpine:3.20\nCMD [\"/app\"]\n")
    (tmp_path / "b" / "Dockerfile").write_text("FROM example.invalid/own/base:1\nCMD [\"/app\"]\n")
    result = invoke(["lint", "--image-facts", "off", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "initify: image facts (off): 2 images: 1 from the knowledge table, 1 unknown" in result.stderr
    assert "image facts" not in result.stdout


def test_image_facts_rejects_an_unknown_source(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    result = invoke(["lint", "--image-facts", "cloud", str(tmp_path)])
    assert result.exit_code == 2 and "--image-facts" in result.output

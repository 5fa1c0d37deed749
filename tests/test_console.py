"""The console entry point: read-only commands skip interpreter tear-down, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initify.cli import main as cli_main
from initify.console import command_name, exit_status

SHELL_FORM = "FROM python:3.12-slim\nCMD python3 app.py\n"
CLEAN = 'FROM python:3.12-slim\nRUN pip install tini\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "app.py"]\n'

# Runs the console entry point with an atexit hook: the hook reports whether the interpreter
# tore itself down the normal way.
WITH_TEARDOWN_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("TEARDOWN\\n"))
sys.argv = ["initify"] + sys.argv[1:]
from initify.console import main
main()
"""


def probe(args, cwd=None):
    return subprocess.run([sys.executable, "-c", WITH_TEARDOWN_PROBE, *args], capture_output=True, text=True, cwd=cwd)


def dockerfiles(folder: Path, count: int, text: str):
    """`count` projects with one Dockerfile each: a report larger than any pipe buffer."""
    paths = []
    for index in range(count):
        path = folder / f"app{index}" / "Dockerfile"
        path.parent.mkdir()
        path.write_text(text)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize(
    "argv, name",
    [(["lint", "x"], "lint"), (["--version"], None), (["-h"], None), (["--help", "rules"], "rules"), ([], None)],
)
def test_command_name(argv, name):
    assert command_name(argv) == name


def test_exit_status_follows_sys_exit(capsys):
    assert [exit_status(code) for code in (None, 0, 1, 2, 256 + 3)] == [0, 0, 1, 2, 3]
    assert exit_status("boom") == 1 and capsys.readouterr().err == "boom\n"


@pytest.mark.parametrize("text, status", [(SHELL_FORM, 1), (CLEAN, 0)])
def test_lint_ends_without_teardown_and_loses_no_output(tmp_path, text, status):
    paths = dockerfiles(tmp_path, 300, text)  # all of the report must be flushed before the exit
    result = probe(["lint", "--format", "json", *paths])
    assert result.returncode == status
    assert "TEARDOWN" not in result.stderr
    expected = CliRunner().invoke(cli_main, ["lint", "--format", "json", *paths])
    assert result.stdout == expected.stdout and expected.exit_code == status


def test_bad_input_still_exits_2_with_its_message(tmp_path):
    result = probe(["lint", str(tmp_path / "missing")])
    assert result.returncode == 2
    assert result.stderr.startswith("initify: error: ") and "TEARDOWN" not in result.stderr


def test_commands_that_write_end_the_normal_way(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(SHELL_FORM)
    result = probe(["fix", "--check", str(path)])
    assert result.returncode == 1, result.stderr
    assert result.stderr.rstrip().endswith("TEARDOWN")


def test_closed_pipe_is_quiet(tmp_path):
    paths = dockerfiles(tmp_path, 200, SHELL_FORM)
    command = [sys.executable, "-m", "initify", "lint", *paths]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        first = process.stdout.readline()
        process.stdout.close()  # like `initify lint | head -1`
        stderr = process.stderr.read().decode()
        status = process.wait()
    assert first.startswith(str(Path(paths[0])).encode())
    assert status == 1 and "Traceback" not in stderr and "Exception ignored" not in stderr

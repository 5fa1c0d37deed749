"""IN001 parse-error: a file that cannot be read or parsed is a finding of its own, at the line
where reading stopped, whatever the selection; the other files are still linted."""

import os

import pytest
from click.testing import CliRunner

from initify.cli import main
from initify.commands import lint
from initify.options import Options

CASES = {
    "unknown instruction": ("Dockerfile", b"FROM alpine:3.20\nFROBNICATE x\n", 2, "unknown instruction: FROBNICATE"),
    "unterminated heredoc": ("Dockerfile", b"FROM alpine:3.20\nRUN <<EOF\necho\n", 2, "unterminated heredoc"),
    "binary": ("Dockerfile", b"FROM alpine\n\0\1", 1, "binary file"),
    "not UTF-8": ("Containerfile", b"FROM alpine\nCMD \xff\n", 1, "not UTF-8"),
    "YAML syntax": ("pod.yaml", b"apiVersion: v1\nkind: Pod\nspec: [\n", 4, "invalid YAML"),
    "duplicate key": ("pod.yaml", b"kind: Pod\nkind: Service\n", 2, 'invalid YAML: duplicate key "kind"'),
    "compose syntax": ("compose.yaml", b"services:\n  web: [\n", 3, "invalid YAML"),
}


@pytest.mark.parametrize("name, data, line, reason", CASES.values(), ids=list(CASES))
def test_bad_file_is_in001_and_the_others_are_linted(tmp_path, name, data, line, reason):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / name).write_bytes(data)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python app.py\n")
    result = lint.run([str(tmp_path)], Options(select=["IN101"]))
    errors = result.parse_errors()
    assert [(f.code, f.name, f.severity, f.path, f.line) for f in errors] == [
        ("IN001", "parse-error", "error", str(tmp_path / "bad" / name), line)]
    assert errors[0].message.startswith(reason) and not errors[0].fixable
    assert ("IN101", str(tmp_path / "good" / "Dockerfile")) in [(f.code, f.path) for f in result.findings]


def test_a_fifo_found_in_a_folder_is_in001(tmp_path):
    os.mkfifo(tmp_path / "Dockerfile")
    errors = lint.run([str(tmp_path)], Options()).parse_errors()
    assert [(f.line, f.message) for f in errors] == [(1, "not a regular file (a FIFO); not read")]


def test_in001_is_listed_and_documented():
    runner = CliRunner()
    listing = runner.invoke(main, ["rules"])
    rows = [line.split() for line in listing.output.splitlines() if line.startswith("IN")]  # after the header row
    assert rows[0][:3] == ["IN001", "parse-error", "error"]
    doc = runner.invoke(main, ["rules", "IN001"])
    assert doc.exit_code == 0
    for section in ("## What it does", "## Why it matters", "## Example", "## Fix", "## Fix safety"):
        assert section in doc.output

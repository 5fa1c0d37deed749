"""Where issue 15 (standard input, pairing from the disk, new report formats) meets issue 16
(IN001, only regular files read with a size cap, nothing read outside the project). Real
command lines in subprocesses, real folders, FIFOs and symlinks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from initify.discover import MAX_BYTES
from manifest_helpers import run as lint_run, workload, write
from tests.clirun import initify

ROOT = Path(__file__).resolve().parent.parent
BROKEN_POD = "apiVersion: v1\nkind: Pod\nspec: [unclosed\n"
SHELL_FORM = "FROM python:3.12-slim\nCMD python app.py\n"
TINI = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n'
COMMAND_DROPS_TINI = """\
    containers:
      - name: api
        image: ghcr.io/acme/api:1.0
        command: ["python", "app.py"]
"""


@pytest.mark.parametrize("output_format", ["json-lines", "junit", "gitlab"])
def test_in001_in_every_new_format(tmp_path, output_format):
    (tmp_path / "pod.yaml").write_text(BROKEN_POD)
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    result = initify("lint", ".", "--output-format", output_format, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    if output_format == "json-lines":
        codes = {(json.loads(line)["code"], os.path.basename(json.loads(line)["path"])) for line in result.stdout.splitlines()}
        assert ("IN001", "pod.yaml") in codes and ("IN101", "Dockerfile") in codes
    elif output_format == "junit":
        import xml.etree.ElementTree as ET

        tree = ET.fromstring(result.stdout)
        failures = [f.get("message", "") + (f.text or "") for f in tree.iter("failure")]
        assert any("IN001" in text for text in failures) and any("IN101" in text for text in failures)
    else:
        issues = json.loads(result.stdout)
        assert {issue["check_name"] for issue in issues} >= {"IN001", "IN101"}


def test_exit_zero_does_not_hide_in001(tmp_path):
    (tmp_path / "pod.yaml").write_text(BROKEN_POD)
    assert initify("lint", ".", "--exit-zero", cwd=tmp_path).returncode == 2


def test_stdin_that_does_not_parse_is_in001(tmp_path):
    result = initify("lint", "-", "--stdin-filename", "pod.yaml", cwd=tmp_path, stdin=BROKEN_POD)
    assert result.returncode == 2 and "pod.yaml:" in result.stdout and "IN001" in result.stdout, result.stdout + result.stderr
    fixed = initify("fix", "-", "--stdin-filename", "pod.yaml", cwd=tmp_path, stdin=BROKEN_POD)
    assert fixed.returncode == 2 and "IN001" in fixed.stderr and "Traceback" not in fixed.stderr, fixed.stderr
    assert fixed.stdout == BROKEN_POD  # the text passes through unchanged
    assert list(tmp_path.iterdir()) == []  # fix - writes nothing


def test_stdin_has_the_size_cap_of_a_file(tmp_path):
    big = SHELL_FORM + "# " + "x" * MAX_BYTES + "\n"
    result = initify("lint", "-", cwd=tmp_path, stdin=big)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("initify: error: -:"), result.stderr
    assert "larger than" in lines[0]


def test_dev_stdin_is_read_but_a_fifo_in_the_tree_is_refused(tmp_path):
    piped = initify("lint", "/dev/stdin", cwd=tmp_path, stdin=SHELL_FORM)
    assert piped.returncode == 1 and "IN101" in piped.stdout, piped.stderr
    (tmp_path / "rendered").write_text(SHELL_FORM)
    with open(tmp_path / "rendered", "rb") as redirected:  # `initify lint /dev/stdin < rendered`
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-m", "initify", "lint", "/dev/stdin"], cwd=tmp_path, stdin=redirected,
                              capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "IN101" in done.stdout, done.stderr
    os.mkfifo(tmp_path / "Dockerfile")
    named = initify("lint", "Dockerfile", cwd=tmp_path, timeout=60)
    assert named.returncode == 2 and "FIFO" in named.stderr and len(named.stderr.strip().splitlines()) == 1


def test_process_substitution_is_read_once(tmp_path):
    (tmp_path / "src").write_text(SHELL_FORM)
    script = f'{sys.executable} -m initify lint <(cat src)'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and "IN101" in result.stdout, result.stderr


def test_pairing_from_the_disk_does_not_follow_a_symlink_out_of_the_folder(tmp_path):
    """A manifest linted alone pairs with the Dockerfile beside it on disk, unless that Dockerfile
    is a symlink leaving the folder (nothing outside the project is read): then the image is
    judged without a Dockerfile and the note says so."""
    project = tmp_path / "project"
    paths = write(project, {"Dockerfile": TINI, "pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    paired = lint_run([paths["pod.yaml"]], select=["IN206"])
    assert [f.code for f in paired.findings] == ["IN206"] and paired.notes == []
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(TINI)
    os.unlink(paths["Dockerfile"])
    os.symlink(outside / "Dockerfile", paths["Dockerfile"])
    cwd = os.getcwd()
    os.chdir(project)
    try:
        alone = lint_run(["pod.yaml"], select=["IN206"])
    finally:
        os.chdir(cwd)
    assert [f.code for f in alone.findings if f.code != "IN001"] == []
    assert any("judged without a Dockerfile" in note for note in alone.notes), alone.notes


def test_a_fifo_beside_a_manifest_linted_alone_is_not_read(tmp_path):
    paths = write(tmp_path, {"pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    os.mkfifo(tmp_path / "Dockerfile")
    result = initify("lint", "pod.yaml", "--select", "IN206", cwd=tmp_path, timeout=60)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert "judged without a Dockerfile" in result.stderr
    assert paths["pod.yaml"]

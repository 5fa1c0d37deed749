"""Facts and words: what initify says must be true (issue 15, "Get the facts and the words right").

Each test reads what a user reads (documentation, messages, command output) from the real files
and the real command line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dockerfile as buildkit
import pytest

from initify.commands import lint

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "initify", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def messages(path: Path, *codes: str):
    return [f.message for f in lint.run([str(path)], lint.Options(select=list(codes) or None)).findings]


# --------------------------------------------------------------------------------------------
# systemd: SIGTERM = daemon-reexec (systemd(1)); SIGRTMIN+1 isolates rescue.target
# --------------------------------------------------------------------------------------------

USER_TEXTS = ["README.md", "rules/IN201.md", "rules/IN303.md", "rules/IN107.md", "samples/systemd-nginx/README.md",
              "samples/systemd-nginx/Dockerfile", "samples/systemd-nginx/systemd-standin/standin.py",
              "initify/commands/manifest.py", "initify/checks/compose/in303_compose_systemd_stop_signal.py",
              "initify/checks/dockerfile/in107_systemd_without_stopsignal.py"]


@pytest.mark.parametrize("name", USER_TEXTS)
def test_no_text_says_sigterm_isolates_rescue_target(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "rescue.target" not in text, f"{name}: SIGTERM makes systemd re-execute itself; SIGRTMIN+1 isolates rescue.target"


def test_in303_message_says_systemd_reexecutes(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM fedora:40\nCMD [\"/sbin/init\"]\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: .\n")
    found = messages(tmp_path / "compose.yaml", "IN303")
    assert len(found) == 1 and "re-executes itself" in found[0] and "rescue" not in found[0]


def test_generated_manifest_comment_says_systemd_reexecutes(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM fedora:40\nCMD [\"/sbin/init\"]\n")
    out = run_cli("manifest", "Dockerfile", "--image", "x:1", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "re-executes itself" in out.stdout and "rescue" not in out.stdout


# --------------------------------------------------------------------------------------------
# npm forwards SIGTERM to its `sh -c`; dash does not forward it to node
# --------------------------------------------------------------------------------------------


def test_npm_message_says_where_the_signal_stops(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM node:22-slim\nCMD ["npm", "start"]\n')
    (found,) = messages(tmp_path / "Dockerfile", "IN106")
    assert "npm forwards SIGTERM to the `sh -c`" in found and "does not forward it to node" in found
    assert "`node server.js` directly" in found
    assert "does not forward signals" not in found and "drops SIGTERM" not in found


def test_npm_in_a_manifest_says_the_same(tmp_path):
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n"
        "    image: node:22\n    command: [\"npm\", \"start\"]\n")
    (found,) = messages(tmp_path / "pod.yaml", "IN206")
    assert "npm forwards SIGTERM to the `sh -c`" in found and "ignores SIGTERM" not in found


# --------------------------------------------------------------------------------------------
# SHELL ["/bin/bash", "-c"] + shell-form CMD: bash execs a lone command
# --------------------------------------------------------------------------------------------


def test_bash_shell_lone_command_is_not_called_a_shell_pid1(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM python:3.12\nSHELL ["/bin/bash", "-c"]\nCMD python app.py\n')
    found = lint.run([str(tmp_path / "Dockerfile")], lint.Options()).findings
    assert [f.code for f in found] == ["IN101"]  # no IN106: python is PID 1
    assert "/bin/sh" not in found[0].message and "execs the last command" in found[0].message
    assert found[0].severity == "info" and "`python app.py` runs as PID 1" in found[0].message
    # The fact itself, with the real bash: `bash -c 'CMD'` leaves no bash behind.
    run = subprocess.run(["bash", "-c", "cat /proc/$$/comm"], capture_output=True, text=True)
    assert run.stdout.strip() == "cat"


def test_bash_shell_with_a_list_names_bash_not_sh(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM python:3.12\nSHELL ["/bin/bash", "-c"]\nCMD python app.py; echo done\n')
    found = {f.code: f.message for f in lint.run([str(tmp_path / "Dockerfile")], lint.Options()).findings}
    assert set(found) == {"IN101", "IN106"}
    assert "/bin/bash -c runs as PID 1" in found["IN101"] and "/bin/sh" not in found["IN101"]


# --------------------------------------------------------------------------------------------
# Paths in fix output, the README's suppression example, build --help
# --------------------------------------------------------------------------------------------


def test_fix_output_paths_are_relative_to_the_working_directory(tmp_path):
    app = tmp_path / "app"
    (app / "k8s").mkdir(parents=True)
    (tmp_path / "ctx").mkdir()
    (app / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n')
    (tmp_path / "ctx" / "run.sh").write_text('#!/bin/sh\necho hi\n"$@"\n')
    out = run_cli("fix", "--check", "../Dockerfile", "--context", "../../ctx", cwd=app / "k8s")
    assert "../Dockerfile:3: IN105 would fix (added `exec` in ../../ctx/run.sh)" in out.stdout
    assert "would rewrite ../../ctx/run.sh" in out.stdout.splitlines()
    lint_out = run_cli("lint", "../Dockerfile", "--context", "../../ctx", cwd=app / "k8s")
    assert lint_out.stdout.startswith("../Dockerfile:3:")


def test_readme_suppression_example_has_no_comment_after_an_instruction():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```dockerfile\n(.*?)```", readme, re.DOTALL)
    assert blocks
    for block in blocks:
        for command in buildkit.parse_string(block):
            assert not any("#" in value for value in command.value), f"{command.original!r}: a comment there is part of the command"


def test_build_help_prints_usage_once(tmp_path):
    out = run_cli("build", "--help", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.count("Usage:") == 1
    assert "Usage: initify build [OPTIONS] [CONTEXT] [-- ENGINE ARGS...]" in out.stdout


def test_bash_shell_lone_entrypoint_is_not_called_a_shell_pid1(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM python:3.12\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT python app.py\n')
    found = lint.run([str(tmp_path / "Dockerfile")], lint.Options()).findings
    assert [f.code for f in found] == ["IN102"]
    assert "execs a lone command, so python becomes PID 1" in found[0].message and "/bin/sh" not in found[0].message

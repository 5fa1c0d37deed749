"""IN302 compose-stop-grace-too-short."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import line_of, lint_files  # noqa: E402


def test_systemd_from_build_with_default_grace(tmp_path):
    text = "services:\n  app:\n    build: .\n    stop_signal: SIGRTMIN+3\n"
    files = {"Dockerfile": 'FROM fedora:40\nCMD ["/sbin/init"]\n', "compose.yaml": text}
    assert lint_files(tmp_path, files, lint_names=["compose.yaml"], prefix="IN302") == [("IN302", line_of(text, "app:"))]


@pytest.mark.parametrize("grace, expected", [("20s", True), ("1m30s", True), ("100s", False), ("2m", False), (120, False)])
def test_systemd_from_command(tmp_path, grace, expected):
    text = f'services:\n  app:\n    image: x:1\n    command: ["/sbin/init"]\n    stop_grace_period: {grace}\n'
    found = lint_files(tmp_path, {"compose.yaml": text}, prefix="IN302")
    assert found == ([("IN302", line_of(text, "stop_grace_period"))] if expected else [])


def test_supervisord_entrypoint(tmp_path):
    text = 'services:\n  app:\n    image: x:1\n    entrypoint: ["supervisord", "-n"]\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN302") == [("IN302", line_of(text, "app:"))]


def test_plain_program(tmp_path):
    text = 'services:\n  app:\n    image: x:1\n    entrypoint: ["/app"]\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN302") == []


def test_busybox_init_stops_promptly(tmp_path):
    """Alpine's /sbin/init is BusyBox init (knowledge table): it signals every process at once
    and is done in a second, so the default grace period is enough."""
    text = 'services:\n  app:\n    image: alpine:3.20\n    command: ["/sbin/init"]\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN302") == []


def test_unknown_sbin_init_says_systemd_is_assumed(tmp_path):
    from manifest_helpers import run, write

    text = 'services:\n  app:\n    image: x:1\n    command: ["/sbin/init"]\n'
    (found,) = [f for f in run([write(tmp_path, {"compose.yaml": text})["compose.yaml"]]).findings if f.code == "IN302"]
    assert "PID 1 is systemd (taking /sbin/init to be systemd: what it is in x:1 is not known)" in found.message
    text = text.replace("x:1", "fedora:41")
    (found,) = [f for f in run([write(tmp_path, {"compose.yaml": text})["compose.yaml"]]).findings if f.code == "IN302"]
    assert "not known" not in found.message

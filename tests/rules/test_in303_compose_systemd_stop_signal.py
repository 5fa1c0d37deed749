"""IN303 compose-systemd-stop-signal."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import line_of, lint_files, run, write  # noqa: E402

SYSTEMD = 'services:\n  app:\n    image: x:1\n    command: ["/sbin/init"]\n'


def test_unknown_image_stop_signal(tmp_path):
    assert lint_files(tmp_path, {"compose.yaml": SYSTEMD}, prefix="IN303") == [("IN303", line_of(SYSTEMD, "app:"))]


@pytest.mark.parametrize("signal", ["SIGRTMIN+3", "RTMIN+3", "37"])
def test_stop_signal_set(tmp_path, signal):
    text = SYSTEMD + f"    stop_signal: {signal}\n"
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN303") == []


def test_wrong_stop_signal(tmp_path):
    text = SYSTEMD + "    stop_signal: SIGTERM\n"
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN303") == [("IN303", line_of(text, "stop_signal"))]


@pytest.mark.parametrize("stopsignal, expected", [("STOPSIGNAL SIGRTMIN+3\n", False), ("", True), ("STOPSIGNAL SIGTERM\n", True)])
def test_image_stopsignal_from_build(tmp_path, stopsignal, expected):
    text = "services:\n  app:\n    build:\n      context: sd\n      dockerfile: Containerfile\n"
    files = {"sd/Containerfile": f'FROM fedora:40\n{stopsignal}CMD ["/sbin/init"]\n', "compose.yaml": text}
    found = lint_files(tmp_path, files, lint_names=["compose.yaml"], prefix="IN303")
    assert found == ([("IN303", line_of(text, "app:"))] if expected else [])


def test_not_systemd(tmp_path):
    text = 'services:\n  app:\n    image: x:1\n    command: ["nginx"]\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN303") == []


def _findings(tmp_path, text):
    return [f for f in run([write(tmp_path, {"compose.yaml": text})["compose.yaml"]]).findings if f.code == "IN303"]


def test_unknown_init_is_said_and_fixed_only_when_asked(tmp_path):
    (found,) = _findings(tmp_path, SYSTEMD)
    assert "(taking /sbin/init to be systemd: what it is in x:1 is not known)" in found.message
    assert found.fix is not None and not found.fix.safe


def test_systemd_from_the_table_keeps_the_finding(tmp_path):
    (found,) = _findings(tmp_path, SYSTEMD.replace("x:1", "fedora:41"))
    assert "not known" not in found.message and found.fix.safe
    assert "the image sets no STOPSIGNAL" in found.message  # fedora's config sets none (knowledge table)


def test_busybox_init_from_the_table_is_not_systemd(tmp_path):
    assert _findings(tmp_path, SYSTEMD.replace("x:1", "alpine:3.20")) == []


def test_image_without_command_runs_its_config(tmp_path):
    """No `command:`: the image's own CMD is PID 1 (ubi-init: /sbin/init with STOPSIGNAL SIGRTMIN+3)."""
    assert _findings(tmp_path, "services:\n  app:\n    image: registry.access.redhat.com/ubi9/ubi-init:latest\n") == []
    assert _findings(tmp_path, "services:\n  app:\n    image: fedora:41\n") == []  # CMD bash

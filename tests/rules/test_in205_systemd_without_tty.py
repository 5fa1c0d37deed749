"""IN205 systemd-without-tty."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, lint_files, workload  # noqa: E402

SPEC = 'containers:\n- name: app\n  image: registry.example.com/app:1\n  command: ["/lib/systemd/systemd"]\n'


@pytest.mark.parametrize("kind", WORKLOADS)
def test_systemd_without_tty(tmp_path, kind):
    text = workload(kind, SPEC)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN205"]) == [("IN205", line_of(text, "- name: app"))]


def test_systemd_with_tty(tmp_path):
    text = workload("Pod", SPEC + "  tty: true\n  stdin: true\n")
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN205"]) == []


def test_systemd_from_paired_image(tmp_path):
    text = workload("Pod", "containers:\n- name: app\n  image: registry.example.com/app:1\n")
    files = {"Dockerfile": 'FROM fedora:40\nSTOPSIGNAL SIGRTMIN+3\nCMD ["/usr/sbin/init"]\n', "a.yaml": text}
    assert lint_files(tmp_path, files, select=["IN205"]) == [("IN205", line_of(text, "- name: app"))]


def test_not_systemd(tmp_path):
    text = workload("Pod", 'containers:\n- name: app\n  image: nginx:1.27\n  command: ["nginx"]\n')
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN205"]) == []


def test_unknown_sbin_init_is_left_to_in201(tmp_path):
    """/sbin/init of an image whose init is not known: IN201 says systemd is assumed; IN205 says
    nothing (one finding per cause)."""
    text = workload("Pod", 'containers:\n- name: app\n  image: registry.example.com/app:1\n  command: ["/sbin/init"]\n')
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN205"]) == []
    assert [code for code, _ in lint_files(tmp_path, {"a.yaml": text}, select=["IN201"])] == ["IN201"]


@pytest.mark.parametrize("image, expected", [("fedora:41", True), ("alpine:3.20", False)])
def test_sbin_init_known_from_the_table(tmp_path, image, expected):
    text = workload("Pod", f'containers:\n- name: app\n  image: {image}\n  command: ["/sbin/init"]\n')
    found = lint_files(tmp_path, {"a.yaml": text}, select=["IN205"])
    assert found == ([("IN205", line_of(text, "- name: app"))] if expected else [])

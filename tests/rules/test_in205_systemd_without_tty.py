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

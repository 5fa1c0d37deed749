"""IN207 stopsignal-needs-os."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, lint_files, workload  # noqa: E402

CONTAINERS = """
containers:
- name: one
  image: registry.example.com/app:1
  lifecycle:
    stopSignal: SIGRTMIN+3
- name: two
  image: registry.example.com/app:1
  lifecycle:
    stopSignal: SIGQUIT
"""


@pytest.mark.parametrize("kind", WORKLOADS)
def test_stop_signal_without_os_once_per_pod(tmp_path, kind):
    text = workload(kind, CONTAINERS)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN207"]) == [("IN207", line_of(text, "stopSignal:"))]


def test_stop_signal_with_os(tmp_path):
    text = workload("Pod", "os:\n  name: linux\n" + CONTAINERS)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN207"]) == []


def test_no_stop_signal(tmp_path):
    text = workload("Pod", "containers:\n- name: one\n  image: registry.example.com/app:1\n")
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN207"]) == []

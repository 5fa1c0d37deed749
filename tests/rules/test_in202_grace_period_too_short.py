"""IN202 grace-period-too-short: terminationGracePeriodSeconds below what the containers need."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, lint_files, workload  # noqa: E402

SYSTEMD = """
containers:
- name: app
  image: registry.example.com/app:1
  command: ["/sbin/init"]
"""


@pytest.mark.parametrize("kind", WORKLOADS)
def test_systemd_with_default_grace_reported_at_container(tmp_path, kind):
    text = workload(kind, SYSTEMD)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN202"]) == [("IN202", line_of(text, "- name: app"))]


def test_systemd_with_short_grace_reported_at_the_key(tmp_path):
    text = workload("Pod", "terminationGracePeriodSeconds: 60\n" + SYSTEMD)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN202"]) == [("IN202", line_of(text, "terminationGrace"))]


def test_systemd_with_enough_grace(tmp_path):
    text = workload("Pod", "terminationGracePeriodSeconds: 100\n" + SYSTEMD)
    assert lint_files(tmp_path, {"a.yaml": text}, select=["IN202"]) == []


def test_supervisord_from_paired_image(tmp_path):
    text = workload("Deployment", "containers:\n- name: app\n  image: registry.example.com/app:1\n")
    files = {"Dockerfile": 'FROM debian:12\nCMD ["supervisord", "-n"]\n', "d.yaml": text}
    assert lint_files(tmp_path, files, select=["IN202"]) == [("IN202", line_of(text, "- name: app"))]


@pytest.mark.parametrize("hook, grace, expected", [
    ("sleep:\n          seconds: 25", None, True),
    ("sleep:\n          seconds: 20", None, False),
    ('exec:\n          command: ["sleep", "15"]', 20, True),
    ('exec:\n          command: ["sh", "-c", "sleep 5; nginx -s quit; sleep 5"]', 20, False),
    ("sleep:\n          seconds: 40", None, False),  # IN203's error, not reported twice
])
def test_prestop_sleep_plus_ten(tmp_path, hook, grace, expected):
    spec = ("" if grace is None else f"terminationGracePeriodSeconds: {grace}\n") + f"""
containers:
- name: web
  image: nginx:1.27
  lifecycle:
    preStop:
      {hook}
"""
    spec = spec.replace("\n          ", "\n        ")
    text = workload("Pod", spec)
    found = lint_files(tmp_path, {"a.yaml": text}, select=["IN202"])
    assert [code for code, _ in found] == (["IN202"] if expected else [])


def test_reported_once_per_pod(tmp_path):
    text = workload("Pod", SYSTEMD + '- name: two\n  image: registry.example.com/app:1\n  command: ["/sbin/init"]\n')
    assert len(lint_files(tmp_path, {"a.yaml": text}, select=["IN202"])) == 1


def test_busybox_init_stops_promptly(tmp_path):
    """Alpine's /sbin/init is BusyBox init (knowledge table): no long grace period; /sbin/init of
    an unknown image is taken for systemd, and the message says so."""
    spec = 'containers:\n- name: app\n  image: {}\n  command: ["/sbin/init"]\n'
    assert lint_files(tmp_path, {"a.yaml": workload("Pod", spec.format("alpine:3.20"))}, select=["IN202"]) == []
    from manifest_helpers import run, write

    text = workload("Pod", spec.format("registry.example.com/app:1"))
    (found,) = [f for f in run([write(tmp_path, {"a.yaml": text})["a.yaml"]]).findings if f.code == "IN202"]
    assert "(taking /sbin/init to be systemd: what it is in registry.example.com/app:1 is not known)" in found.message

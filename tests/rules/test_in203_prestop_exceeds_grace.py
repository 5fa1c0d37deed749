"""IN203 prestop-exceeds-grace: a preStop sleep as long as the grace period."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, run, workload, write  # noqa: E402


def spec(grace, hook):
    head = "" if grace is None else f"terminationGracePeriodSeconds: {grace}\n"
    return head + "containers:\n- name: web\n  image: registry.example.com/web:1\n  lifecycle:\n    preStop:\n" + hook


SH_SLEEP = '      exec:\n        command: ["sh", "-c", "sleep 30"]\n'


@pytest.mark.parametrize("kind", WORKLOADS)
def test_exec_sleep_longer_than_grace(tmp_path, kind):
    """lint-cases J.51."""
    text = workload(kind, spec(5, SH_SLEEP))
    result = run([write(tmp_path, {"a.yaml": text})["a.yaml"]], select=["IN203"])
    assert [(f.code, f.line, f.severity) for f in result.findings] == [("IN203", line_of(text, "preStop:"), "error")]
    assert "`sleep: {seconds: N}`" in result.findings[0].message


def test_sleep_action_equal_to_default_grace(tmp_path):
    text = workload("Pod", spec(None, "      sleep:\n        seconds: 30\n"))
    result = run([write(tmp_path, {"a.yaml": text})["a.yaml"]], select=["IN203"])
    assert [f.line for f in result.findings] == [line_of(text, "preStop:")]
    assert "2 s before SIGKILL" in result.findings[0].message


def test_shorter_sleep_is_clean(tmp_path):
    text = workload("Pod", spec(45, SH_SLEEP))
    assert run([write(tmp_path, {"a.yaml": text})["a.yaml"]], select=["IN203"]).findings == []


def test_sleep_action_not_suggested_before_130(tmp_path):
    text = workload("Pod", spec(5, SH_SLEEP))
    result = run([write(tmp_path, {"a.yaml": text})["a.yaml"]], select=["IN203"], k8s_version="1.29")
    assert len(result.findings) == 1 and "sleep: {seconds" not in result.findings[0].message


def test_minute_suffix_and_distroless_note(tmp_path):
    text = workload("Pod", spec(None, '      exec:\n        command: ["sleep", "1m"]\n'))
    files = write(tmp_path, {"Dockerfile": 'FROM gcr.io/distroless/base\nCMD ["/app"]\n', "a.yaml": text})
    result = run(list(files.values()), select=["IN203"])
    assert len(result.findings) == 1
    assert "60 s" in result.findings[0].message and "distroless" in result.findings[0].message

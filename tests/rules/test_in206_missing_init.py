"""IN206 missing-init: what a container's command/args make PID 1 has no init in front."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, lint_files, workload  # noqa: E402

TINI_IMAGE = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n'


@pytest.mark.parametrize("kind", WORKLOADS)
@pytest.mark.parametrize("command", ['["npm", "start"]', '["sh", "-c", "a & b; wait"]', '["bash"]'])
def test_shell_or_launcher_as_pid1(tmp_path, kind, command):
    text = workload(kind, f"""
        containers:
        - name: app
          image: registry.example.com/app:1
          command: {command}
        """)
    assert lint_files(tmp_path, {"app.yaml": text}, select=["IN206"]) == [("IN206", line_of(text, "command:"))]


@pytest.mark.parametrize("command, codes", [
    ('["sh", "-c", "a; b"]', ["IN204"]),  # IN204's fix (`a; exec b`) makes b PID 1: not repeated
    ('["sh", "-c", "migrate && gunicorn app:app"]', ["IN204"]),
    ('["sh", "-c", "trap \'kill -TERM $pid\' TERM; worker & pid=$!; wait $pid"]', []),  # a deliberate handler
])
def test_one_finding_per_cause(tmp_path, command, codes):
    text = workload("Pod", f"""
        containers:
        - name: app
          image: registry.example.com/app:1
          command: {command}
        """)
    assert [code for code, _ in lint_files(tmp_path, {"app.yaml": text}, select=["IN204", "IN206"])] == codes


def test_init_in_command_is_clean(tmp_path):
    text = workload("Pod", """
        containers:
        - name: app
          image: registry.example.com/app:1
          command: ["tini", "--", "npm", "start"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == []


def test_share_process_namespace_lets_pause_reap(tmp_path):
    text = workload("Pod", """
        shareProcessNamespace: true
        containers:
        - name: app
          image: registry.example.com/app:1
          command: ["npm", "start"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == []


def test_command_drops_the_images_init(tmp_path):
    """lint-cases J.49: `command` replaces ENTRYPOINT ["tini", "--"]."""
    text = workload("Deployment", """
        containers:
        - name: app
          image: registry.example.com/app:1
          command: ["python", "app.py"]
        """)
    files = {"Dockerfile": TINI_IMAGE, "deploy.yaml": text}
    assert lint_files(tmp_path, files, select=["IN206"]) == [("IN206", line_of(text, "command:"))]


def test_args_keep_the_images_init(tmp_path):
    text = workload("Deployment", """
        containers:
        - name: app
          image: registry.example.com/app:1
          args: ["npm", "start"]
        """)
    assert lint_files(tmp_path, {"Dockerfile": TINI_IMAGE, "deploy.yaml": text}, select=["IN206"]) == []


def test_args_through_an_exec_script_make_the_launcher_pid1(tmp_path):
    text = workload("StatefulSet", """
        containers:
        - name: app
          image: registry.example.com/app:1
          args: ["npm", "start"]
        """)
    files = {
        "Dockerfile": 'FROM node:22\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\nCMD ["node", "server.js"]\n',
        "entry.sh": '#!/bin/sh\nset -e\nexec "$@"\n',
        "sts.yaml": text,
    }
    found = lint_files(tmp_path, files, lint_names=["Dockerfile", "sts.yaml"], select=["IN206"])
    assert found == [("IN206", line_of(text, "args:"))]


def test_init_containers_are_not_judged(tmp_path):
    text = workload("Pod", """
        initContainers:
        - name: wait
          image: busybox:1.36
          command: ["sh", "-c", "until nslookup db; do sleep 1; done"]
        containers:
        - name: app
          image: registry.example.com/app:1
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == []


def test_sidecars_are_judged(tmp_path):
    text = workload("Pod", """
        initContainers:
        - name: logs
          image: debian:bookworm-slim
          restartPolicy: Always
          command: ["sh", "-c", "tail -F /var/log/app.log & tail -F /var/log/err.log; wait"]
        containers:
        - name: app
          image: registry.example.com/app:1
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == [("IN206", line_of(text, "command:"))]


def test_busybox_sh_execs_the_command_so_no_shell_is_pid_1(tmp_path):
    text = workload("Pod", """
        containers:
        - name: logs
          image: busybox:1.36
          command: ["sh", "-c", "tail -F /var/log/app.log"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == []


def test_windows_pods_are_not_judged(tmp_path):
    text = workload("Pod", """
        os:
          name: windows
        containers:
        - name: app
          image: mcr.microsoft.com/windows/servercore:ltsc2022
          command: ["cmd", "/c", "app.exe"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN206"]) == []

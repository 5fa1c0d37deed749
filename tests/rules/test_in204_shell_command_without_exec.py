"""IN204 shell-command-without-exec: `sh -c` in a container's command/args without exec."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, lint_files, workload  # noqa: E402

NOT_EXECED = """
containers:
- name: web
  image: registry.example.com/web:1
  command: ["sh", "-c", "python manage.py migrate && gunicorn app:app"]
"""


@pytest.mark.parametrize("kind", WORKLOADS)
def test_sh_c_without_exec_is_reported_at_command(tmp_path, kind):
    text = workload(kind, NOT_EXECED)
    assert lint_files(tmp_path, {"app.yaml": text}, select=["IN204"]) == [("IN204", line_of(text, "command:"))]


@pytest.mark.parametrize("kind", WORKLOADS)
def test_exec_last_command_is_clean(tmp_path, kind):
    text = workload(kind, NOT_EXECED.replace("&& gunicorn", "&& exec gunicorn"))
    assert lint_files(tmp_path, {"app.yaml": text}, select=["IN204"]) == []


def test_script_in_args_with_shell_in_command_is_reported_at_command(tmp_path):
    text = workload("Pod", """
        containers:
        - name: web
          image: busybox:1.36
          command: ["/bin/sh", "-c"]
          args:
          - |
            echo starting
            while true; do date; sleep 5; done
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN204"]) == [("IN204", line_of(text, "command:"))]


def test_args_only_with_unknown_image_still_judges_the_shell(tmp_path):
    text = workload("Pod", """
        containers:
        - name: web
          image: registry.example.com/web:1
          args: ["bash", "-c", "sleep 1; /app"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN204"]) == []  # ENTRYPOINT unknown: PID 1 unknown


def test_args_only_behind_paired_tini(tmp_path):
    text = workload("Pod", """
        containers:
        - name: web
          image: registry.example.com/web:1
          args: ["bash", "-c", "sleep 1; /app"]
        """)
    files = {"Dockerfile": 'FROM debian:12\nENTRYPOINT ["tini", "--"]\nCMD ["/app"]\n', "pod.yaml": text}
    assert lint_files(tmp_path, files, select=["IN204"]) == [("IN204", line_of(text, "args:"))]


def test_wrapper_inherited_unchanged_from_image_is_left_to_in104(tmp_path):
    text = workload("Pod", """
        containers:
        - name: web
          image: registry.example.com/web:1
          args: ["--port", "80"]
        """)
    files = {"Dockerfile": 'FROM debian:12\nENTRYPOINT ["sh", "-c", "/app; echo done"]\n', "pod.yaml": text}
    assert lint_files(tmp_path, files, select=["IN104", "IN204"], prefix="IN") == [("IN104", 2)]


def test_multi_document_file_reports_each_container(tmp_path):
    first = workload("Deployment", NOT_EXECED, name="one")
    second = workload("Pod", NOT_EXECED, name="two")
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
    text = first + "---\n" + service + "---\n" + second
    assert lint_files(tmp_path, {"all.yaml": text}, select=["IN204"]) == [
        ("IN204", line_of(text, "command:", 1)),
        ("IN204", line_of(text, "command:", 2)),
    ]


def test_list_items_are_linted(tmp_path):
    text = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Pod
          metadata:
            name: web
          spec:
            containers:
            - name: web
              image: busybox:1.36
              command: ["sh", "-c", "httpd -f; echo stopped"]
        """
    assert lint_files(tmp_path, {"list.yaml": text}, select=["IN204"]) == [("IN204", line_of(text, "command:"))]


def test_suppression_comment_on_the_line_before(tmp_path):
    text = workload("Pod", """
        containers:
        - name: web
          image: registry.example.com/web:1
          # initify: ignore=IN204
          command: ["sh", "-c", "a; b"]
        """)
    assert lint_files(tmp_path, {"pod.yaml": text}, select=["IN204"]) == []

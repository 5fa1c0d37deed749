"""IN301 compose-shell-command-without-exec."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import line_of, lint_files  # noqa: E402


@pytest.mark.parametrize("command", [
    'sh -c "python manage.py migrate && gunicorn app:app"',
    '["bash", "-c", "sleep 1; /app"]',
])
def test_shell_wrapper_in_command(tmp_path, command):
    text = f"services:\n  web:\n    image: registry.example.com/web:1\n    command: {command}\n"
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN3") == [("IN301", line_of(text, "command:"))]


def test_string_command_is_not_shell_form(tmp_path):
    text = 'services:\n  web:\n    image: registry.example.com/web:1\n    command: gunicorn -b 0.0.0.0:8000 "app:create_app()"\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN3") == []


def test_exec_and_trap_are_clean(tmp_path):
    text = """
        services:
          a:
            image: registry.example.com/web:1
            command: sh -c "python manage.py migrate && exec gunicorn app:app"
          b:
            image: alpine:3.20
            command: sh -c "trap 'exit 0' TERM; sleep infinity & wait"
        """
    assert lint_files(tmp_path, {"docker-compose.yml": text}, prefix="IN3") == []


def test_entrypoint_shell_reported_at_entrypoint(tmp_path):
    text = """
        services:
          web:
            image: registry.example.com/web:1
            entrypoint: ["/bin/sh", "-c"]
            command: ["echo start; /app"]
        """
    assert lint_files(tmp_path, {"compose.yml": text}, prefix="IN3") == [("IN301", line_of(text, "entrypoint:"))]


def test_wrapper_from_the_built_image_is_left_to_in104(tmp_path):
    text = "services:\n  web:\n    build: .\n    command: [\"--port\", \"80\"]\n"
    files = {"Dockerfile": 'FROM debian:12\nENTRYPOINT ["sh", "-c", "/app \\"$@\\"; echo done"]\n', "compose.yaml": text}
    assert lint_files(tmp_path, files, lint_names=["compose.yaml"], prefix="IN3") == []


def test_suppression(tmp_path):
    text = 'services:\n  web:\n    image: x:1\n    # initify: ignore=IN301\n    command: sh -c "a; b"\n'
    assert lint_files(tmp_path, {"compose.yaml": text}, prefix="IN3") == []

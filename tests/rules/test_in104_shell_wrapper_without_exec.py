"""IN104 shell-wrapper-without-exec: exec form runs `sh -c SCRIPT` and keeps the shell."""

import pytest

POSITIVE = {
    "sh -c with a single command": (
        """
        FROM python:3.12-slim
        ENTRYPOINT ["/bin/sh", "-c", "python app.py"]
        """,
        [("IN104", 2)],
    ),
    "bash -c with an and-list": (
        """
        FROM python:3.12-slim
        CMD ["bash", "-c", "python manage.py migrate && gunicorn app:app"]
        """,
        [("IN104", 2)],
    ),
    "combined options -ec": (
        """
        FROM python:3.12-slim
        CMD ["sh", "-ec", "python app.py"]
        """,
        [("IN104", 2)],
    ),
    "ash with two commands": (
        """
        FROM alpine:3.20
        CMD ["/bin/ash", "-c", "echo start; /app"]
        """,
        [("IN104", 2)],
    ),
    "dash, lower-case keyword": (
        """
        from debian:12-slim
        entrypoint ["dash", "-c", "/app"]
        """,
        [("IN104", 2)],
    ),
    "behind tini": (
        """
        FROM alpine:3.20
        ENTRYPOINT ["tini", "--", "sh", "-c", "/app --serve"]
        """,
        [("IN104", 2)],
    ),
    "shell in ENTRYPOINT, script text in CMD (reported on the ENTRYPOINT)": (
        """
        FROM alpine:3.20
        ENTRYPOINT ["/bin/sh", "-c"]
        CMD ["/app --serve"]
        """,
        [("IN104", 2)],
    ),
    "a shell that execs into a second wrapper that does not exec": (
        """
        FROM alpine:3.20
        CMD ["sh", "-c", "exec sh -c '/app; echo done'"]
        """,
        [("IN104", 2)],
    ),
    "inherited from the parent stage": (
        """
        FROM alpine:3.20 AS base
        CMD ["sh", "-c", "/app"]
        FROM base
        RUN true
        """,
        [("IN104", 2)],
    ),
}

NEGATIVE = {
    "sh -c ending in exec": """
        FROM python:3.12-slim
        ENTRYPOINT ["/bin/sh", "-c", "exec python app.py"]
        """,
    "multi-line JSON string ending in exec": """
        FROM alpine:3.20
        CMD ["/bin/sh", "-c", \\
             "migrate && \\
              exec server"]
        """,
    "semicolon list ending in exec": """
        FROM alpine:3.20
        CMD ["sh", "-c", "echo start; exec /app"]
        """,
    "every branch execs": """
        FROM alpine:3.20
        CMD ["sh", "-c", "if [ -f /cfg ]; then exec /app -c /cfg; else exec /app; fi"]
        """,
    "exec of the positional arguments": """
        FROM alpine:3.20
        ENTRYPOINT ["sh", "-c", "umask 002 && exec \\"$@\\"", "sh"]
        CMD ["/app"]
        """,
    "hand-written signal forwarder": """
        FROM alpine:3.20
        CMD ["sh", "-c", "trap 'kill -TERM $c' TERM; /app & c=$!; wait $c"]
        """,
    "shell form is IN101's job": """
        FROM alpine:3.20
        CMD /app --serve
        """,
    "interactive shell without -c": """
        FROM ubuntu:24.04
        CMD ["/bin/bash"]
        """,
    "not a shell": """
        FROM python:3.12-slim
        CMD ["python", "-c", "import app; app.main()"]
        """,
    "builder stage only": """
        FROM alpine:3.20 AS build
        CMD ["sh", "-c", "make"]
        FROM alpine:3.20
        CMD ["/app"]
        """,
    "shell-form CMD behind an exec-form init is IN101's job": """
        FROM alpine:3.20
        ENTRYPOINT ["tini", "--"]
        CMD python app.py; echo done
        """,
    "malformed CMD behind an exec-form init is IN103's job": """
        FROM alpine:3.20
        ENTRYPOINT ["tini", "--"]
        CMD ['python', 'app.py']
        """,
    "Windows image": """
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        CMD ["cmd", "/S", "/C", "app.exe"]
        """,
}


@pytest.mark.parametrize("text, expected", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_wrapper(lint, text, expected):
    assert lint(text, select=["IN104"]) == expected


# initify/shell.py calls every `a && b` list "compound", but in `a && exec b` the shell either
# execs b or exits with a's failure: it never stays as b's parent (lint-cases.md case 20).


@pytest.mark.parametrize(
    "text",
    [pytest.param(text, id=name, marks=[]) for name, text in NEGATIVE.items()],
)
def test_no_report(lint, text):
    assert lint(text, select=["IN104"]) == []


def test_advice_for_a_simple_last_command(findings):
    (found,) = findings('FROM debian\nCMD ["sh", "-c", "python app.py"]\n', select=["IN104"])
    assert "write `exec python app.py`" in found.message
    assert "is PID 1" in found.message
    assert found.severity == "warning"


@pytest.mark.parametrize("base, shell", [("alpine:3.20", "busybox"), ("fedora:41", "bash"), ("debian", "bash")])
def test_a_shell_that_execs_the_last_command_makes_it_info(findings, base, shell):
    program = "bash" if base == "debian" else "sh"
    (found,) = findings(f'FROM {base}\nCMD ["{program}", "-c", "cd /srv && python app.py"]\n', select=["IN104"])
    assert found.severity == "info"
    says = "bash execs the last command" if program == "bash" else f"this image's sh is {shell} ("
    assert says in found.message and "takes the shell's PID" in found.message
    assert found.fix is not None  # `exec` is still exact


def test_a_compound_tail_keeps_the_warning_on_busybox(findings):
    (found,) = findings('FROM alpine\nCMD ["sh", "-c", "python app.py | tee log"]\n', select=["IN104"])
    assert found.severity == "warning" and "compound" in found.message


def test_an_unknown_shell_says_so(findings):
    (found,) = findings('FROM example.com/own/base:1\nCMD ["sh", "-c", "python app.py"]\n', select=["IN104"])
    assert found.severity == "warning" and "this image's shell is not known" in found.message


def test_advice_for_a_compound_last_command(findings):
    (found,) = findings('FROM alpine\nCMD ["sh", "-c", "/app | tee log"]\n', select=["IN104"])
    assert "compound" in found.message and "init" in found.message


def test_message_behind_an_init(findings):
    (found,) = findings('FROM debian\nENTRYPOINT ["tini", "--", "sh", "-c", "/app"]\n', select=["IN104"])
    assert "between the init and the app" in found.message


def test_shell_form_cmd_behind_an_entrypoint_script_is_reported_once(lint):
    text = """
        FROM alpine:3.20
        COPY entrypoint.sh /
        ENTRYPOINT ["/entrypoint.sh"]
        CMD python app.py
        """
    files = {"entrypoint.sh": '#!/bin/sh\nexec "$@"\n'}
    assert lint(text, files, select=["IN101", "IN104"]) == [("IN101", 4)]


def test_exec_form_wrapper_in_cmd_behind_an_entrypoint_script(lint):
    text = """
        FROM alpine:3.20
        COPY entrypoint.sh /
        ENTRYPOINT ["/entrypoint.sh"]
        CMD ["sh", "-c", "python app.py"]
        """
    files = {"entrypoint.sh": '#!/bin/sh\nexec "$@"\n'}
    assert lint(text, files, select=["IN101", "IN104"]) == [("IN104", 4)]


@pytest.mark.parametrize(
    "entrypoint, reported",
    [
        ('["tini", "--"]', True),
        ('["tini", "-g", "--"]', False),
        ('["dumb-init"]', False),
        ('["initify-init", "--"]', False),
    ],
)
def test_compound_wrapper_behind_an_init_that_signals_the_group(lint, entrypoint, reported):
    text = f'FROM alpine\nENTRYPOINT {entrypoint}\nCMD ["sh", "-c", "migrate; serve"]\n'
    assert lint(text, select=["IN104"]) == ([("IN104", 3)] if reported else [])

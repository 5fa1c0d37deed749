"""IN102 shell-form-entrypoint: the ENTRYPOINT the shipped image runs is shell form."""

import pytest

POSITIVE = {
    "plain": (
        """
        FROM alpine:3.20
        ENTRYPOINT /app/run --serve
        """,
        [("IN102", 2)],
    ),
    "lower-case, with an exec CMD that it drops": (
        """
        from alpine:3.20
        entrypoint /app/run
        cmd ["--debug"]
        """,
        [("IN102", 2)],
    ),
    "tini hidden behind a shell": (
        """
        FROM alpine:3.20
        RUN apk add --no-cache tini
        ENTRYPOINT tini -- python app.py
        """,
        [("IN102", 3)],
    ),
    "continuation lines": (
        """
        FROM alpine:3.20
        ENTRYPOINT /app/run \\
            --serve
        """,
        [("IN102", 2)],
    ),
    "inherited from the parent stage": (
        """
        FROM alpine:3.20 AS base
        ENTRYPOINT /app/run
        FROM base
        CMD ["--debug"]
        """,
        [("IN102", 2)],
    ),
    "ONBUILD ENTRYPOINT": (
        """
        FROM alpine:3.20
        ONBUILD ENTRYPOINT run-me --now
        ENTRYPOINT ["/app"]
        """,
        [("IN102", 2)],
    ),
}

NEGATIVE = {
    "exec form": """
        FROM alpine:3.20
        ENTRYPOINT ["/app/run", "--serve"]
        """,
    "builder stage only": """
        FROM alpine:3.20 AS build
        ENTRYPOINT /usr/bin/make
        FROM alpine:3.20
        ENTRYPOINT ["/app"]
        """,
    "dead shell-form ENTRYPOINT replaced by exec form": """
        FROM alpine:3.20
        ENTRYPOINT /app/run
        ENTRYPOINT ["/app/run"]
        """,
    "malformed JSON is IN103's job": """
        FROM alpine:3.20
        ENTRYPOINT ['/usr/bin/app', '--serve']
        """,
    "Windows image": """
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        ENTRYPOINT C:\\app\\run.exe
        """,
}


@pytest.mark.parametrize("text, expected", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_shell_form_entrypoint(lint, text, expected):
    assert lint(text, select=["IN102"]) == expected


@pytest.mark.parametrize("text", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text):
    assert lint(text, select=["IN102"]) == []


def test_message_names_the_dropped_cmd(findings):
    (found,) = findings('FROM alpine\nENTRYPOINT /app/run\nCMD ["--debug"]\n', select=["IN102"])
    assert "ignores CMD (line 3)" in found.message
    assert found.severity == "error"


def test_message_without_cmd_does_not_mention_it(findings):
    (found,) = findings("FROM alpine\nENTRYPOINT /app/run\n", select=["IN102"])
    assert "CMD" not in found.message


def test_shell_form_entrypoint_and_cmd_only_report_the_entrypoint(lint):
    text = """
        FROM alpine:3.20
        ENTRYPOINT /app/run
        CMD /app/default
        """
    assert lint(text, select=["IN101", "IN102"]) == [("IN102", 2)]


def test_message_when_exec_already_hands_over(findings):
    (found,) = findings('FROM alpine\nENTRYPOINT exec /app/run\nCMD ["--debug"]\n', select=["IN102"])
    assert "`exec` hands PID 1 to the program" in found.message
    assert "does not pass SIGTERM" not in found.message
    assert "ignores CMD (line 3)" in found.message


def test_message_without_exec_says_the_shell_keeps_the_signal(findings):
    # debian's /bin/sh is dash, which forks /app/run and stays PID 1 (BusyBox ash would exec it)
    (found,) = findings("FROM debian:bookworm-slim\nENTRYPOINT /app/run\n", select=["IN102"])
    assert "/bin/sh -c is PID 1" in found.message


def test_message_on_busybox_says_the_lone_command_takes_pid1(findings):
    (found,) = findings("FROM alpine:3.20\nENTRYPOINT /app/run\n", select=["IN102"])
    assert "execs a lone command, so /app/run becomes PID 1" in found.message

"""IN101 shell-form-cmd: the CMD the shipped image runs is shell form."""

import pytest

POSITIVE = {
    "plain": (
        """
        FROM python:3.12-slim
        CMD python app.py
        """,
        [("IN101", 2)],
    ),
    "lower-case instructions": (
        """
        from alpine:3.20
        cmd python app.py
        """,
        [("IN101", 2)],
    ),
    "continuation lines report the first line": (
        """
        FROM alpine:3.20
        CMD /app/server \\
            --port 8080 \\
            --verbose
        """,
        [("IN101", 2)],
    ),
    "and-list that ends in exec": (
        """
        FROM node:22-slim
        CMD npm run migrate && exec node server.js
        """,
        [("IN101", 2)],
    ),
    "shell test is shell form, not malformed JSON": (
        """
        FROM alpine:3.20
        CMD [ -f /ready ] && exec /app
        """,
        [("IN101", 2)],
    ),
    "shell-form CMD behind an exec-form tini": (
        """
        FROM alpine:3.20
        RUN apk add --no-cache tini
        ENTRYPOINT ["/sbin/tini", "--"]
        CMD myserver --port 8080
        """,
        [("IN101", 4)],
    ),
    "nginx started by a shell": (
        """
        FROM nginx:1.27
        STOPSIGNAL SIGQUIT
        CMD nginx -g 'daemon off;'
        """,
        [("IN101", 3)],
    ),
    "final stage inherits the CMD of its parent stage": (
        """
        FROM python:3.12-slim AS base
        CMD python app.py
        FROM base
        COPY . /app
        """,
        [("IN101", 2)],
    ),
    "grandparent stage, named case-insensitively": (
        """
        FROM python:3.12-slim AS Base
        CMD python app.py
        FROM base AS app
        RUN true
        FROM app
        """,
        [("IN101", 2)],
    ),
    "ONBUILD CMD in shell form": (
        """
        FROM alpine:3.20
        ONBUILD CMD run-me --now
        CMD ["sh"]
        """,
        [("IN101", 2)],
    ),
    "second CMD is the shell-form one": (
        """
        FROM alpine:3.20
        CMD ["sleep", "infinity"]
        CMD echo last
        """,
        [("IN101", 3)],
    ),
    "backtick escape on a Linux image": (
        """
        # escape=`
        FROM alpine:3.20
        CMD /app/server `
            --flag
        """,
        [("IN101", 3)],
    ),
}

NEGATIVE = {
    "exec form": """
        FROM python:3.12-slim
        CMD ["python", "app.py"]
        """,
    "exec form with odd spacing": """
        FROM node:22-slim
        CMD [ "node" , "server.js" ]
        """,
    "empty CMD after exec ENTRYPOINT": """
        FROM alpine:3.20
        ENTRYPOINT ["/app"]
        CMD []
        """,
    "multi-line JSON string": """
        FROM alpine:3.20
        CMD ["/bin/sh", "-c", \\
             "migrate && \\
              exec server"]
        """,
    "shell form only in a builder stage": """
        FROM golang:1.22 AS build
        CMD go run .
        FROM gcr.io/distroless/static:nonroot
        COPY --from=build /out/app /app
        ENTRYPOINT ["/app"]
        """,
    "first of two CMDs is shell form": """
        FROM alpine:3.20
        CMD echo first
        CMD ["sleep", "infinity"]
        """,
    "shell-form ENTRYPOINT drops the CMD (IN102's job)": """
        FROM alpine:3.20
        ENTRYPOINT /app/run
        CMD /app/default
        """,
    "ENTRYPOINT in the child stage resets the inherited CMD": """
        FROM python:3.12-slim AS base
        CMD python app.py
        FROM base
        ENTRYPOINT ["/app"]
        """,
    "child stage replaces the inherited CMD": """
        FROM python:3.12-slim AS base
        CMD python app.py
        FROM base
        CMD ["python", "app.py"]
        """,
    "HEALTHCHECK CMD is not PID 1": """
        FROM nginx:1.27
        HEALTHCHECK CMD curl -f http://localhost/ || exit 1
        CMD ["nginx", "-g", "daemon off;"]
        """,
    "Windows PowerShell image": """
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        SHELL ["powershell", "-Command"]
        CMD Start-Process app.exe -Wait
        """,
    "Windows nanoserver with backtick escape": """
        # escape=`
        FROM mcr.microsoft.com/windows/nanoserver:ltsc2022
        CMD C:\\app\\app.exe `
            --flag
        """,
    "no CMD at all": """
        FROM alpine:3.20
        RUN echo hi
        """,
}


@pytest.mark.parametrize("text, expected", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_shell_form_cmd(lint, text, expected):
    assert lint(text, select=["IN101"]) == expected


@pytest.mark.parametrize("text", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text):
    assert lint(text, select=["IN101"]) == []


def test_span_covers_continuation_lines(findings):
    found = findings(
        """
        FROM alpine:3.20
        CMD /app/server \\
            --port 8080 \\
            --verbose
        """,
        select=["IN101"],
    )
    assert [(f.line, f.end_line) for f in found] == [(2, 4)]


def test_message_for_plain_shell_form(findings):
    (found,) = findings("FROM python:3.12-slim\nCMD python app.py\n", select=["IN101"])
    assert "PID 1" in found.message and "JSON array" in found.message
    assert found.severity == "error" and found.fixable


def test_message_when_exec_already_hands_over(findings):
    (found,) = findings("FROM python:3.12-slim\nCMD exec python app.py\n", select=["IN101"])
    assert found.line == 2
    assert "`exec` already" in found.message


def test_message_names_the_entrypoint_that_receives_the_shell(findings):
    (found,) = findings('FROM alpine\nENTRYPOINT ["/sbin/tini", "--"]\nCMD myserver\n', select=["IN101"])
    assert "/sbin/tini" in found.message


def test_message_says_inherited(findings):
    (found,) = findings("FROM alpine AS base\nCMD run\nFROM base\n", select=["IN101"])
    assert "inherited" in found.message


def test_onbuild_message(findings):
    (found,) = findings('FROM alpine\nONBUILD CMD run-me --now\nCMD ["sh"]\n', select=["IN101"])
    assert found.message.startswith("ONBUILD CMD")


TARGETS = """
    FROM python:3.12-slim AS prod
    CMD ["python", "app.py"]
    FROM prod AS debug
    CMD bash -l
    """


@pytest.mark.parametrize("target, expected", [(None, [("IN101", 4)]), ("debug", [("IN101", 4)]), ("prod", [])])
def test_target_picks_the_judged_stage(lint, target, expected):
    assert lint(TARGETS, select=["IN101"], target=target) == expected

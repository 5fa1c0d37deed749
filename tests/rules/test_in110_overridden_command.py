"""IN110 overridden-command: a CMD/ENTRYPOINT of the judged stage replaced by a later one."""

import pytest

POSITIVE = {
    "two CMDs: the first is dead": (
        """
        FROM alpine:3.20
        CMD echo first
        CMD ["sleep", "infinity"]
        """,
        [("IN110", 2)],
    ),
    "three CMDs": (
        """
        FROM alpine:3.20
        CMD ["a"]
        CMD ["b"]
        CMD ["c"]
        """,
        [("IN110", 2), ("IN110", 3)],
    ),
    "two ENTRYPOINTs with a CMD between": (
        """
        FROM alpine:3.20
        ENTRYPOINT ["/a"]
        CMD ["--x"]
        ENTRYPOINT ["/b"]
        """,
        [("IN110", 2)],
    ),
    "lower-case, multi-line first CMD": (
        """
        from alpine:3.20
        cmd /app \\
            --flag
        cmd ["/app"]
        """,
        [("IN110", 2)],
    ),
    "final stage built FROM another stage": (
        """
        FROM alpine:3.20 AS base
        CMD ["/base"]
        FROM base
        CMD ["/one"]
        CMD ["/two"]
        """,
        [("IN110", 4)],
    ),
}

NEGATIVE = {
    "one CMD and one ENTRYPOINT": """
        FROM alpine:3.20
        ENTRYPOINT ["/app"]
        CMD ["--serve"]
        """,
    "child stage replacing the parent's CMD is normal": """
        FROM alpine:3.20 AS base
        CMD ["/base"]
        FROM base
        CMD ["/app"]
        """,
    "duplicates inside the parent stage belong to the parent": """
        FROM alpine:3.20 AS base
        CMD ["/one"]
        CMD ["/two"]
        FROM base
        RUN true
        """,
    "duplicates in a builder stage": """
        FROM alpine:3.20 AS build
        CMD ["/one"]
        CMD ["/two"]
        FROM alpine:3.20
        CMD ["/app"]
        """,
    "ONBUILD CMD does not replace the stage's CMD": """
        FROM alpine:3.20
        ONBUILD CMD ["/child"]
        CMD ["/app"]
        """,
    "HEALTHCHECK CMD is not a CMD": """
        FROM alpine:3.20
        HEALTHCHECK CMD ["/check"]
        CMD ["/app"]
        """,
    "Windows image": """
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        CMD ["a.exe"]
        CMD ["b.exe"]
        """,
}


@pytest.mark.parametrize("text, expected", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_dead_line(lint, text, expected):
    assert lint(text, select=["IN110"]) == expected


@pytest.mark.parametrize("text", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text):
    assert lint(text, select=["IN110"]) == []


def test_message_names_the_replacing_line(findings):
    (found,) = findings('FROM alpine\nCMD echo first\nRUN true\nCMD ["sleep", "1"]\n', select=["IN110"])
    assert "line 4" in found.message
    assert found.severity == "info"
    assert not found.fixable


def test_two_cmds_with_the_first_in_shell_form_only_report_the_dead_line(lint):
    text = 'FROM alpine:3.20\nCMD echo first\nCMD ["sleep", "infinity"]\n'
    assert lint(text) == [("IN110", 2)]


def test_target_stage(lint):
    text = 'FROM alpine AS prod\nCMD ["/a"]\nCMD ["/b"]\nFROM alpine AS debug\nCMD ["sh"]\n'
    assert lint(text, select=["IN110"]) == []
    assert lint(text, select=["IN110"], target="prod") == [("IN110", 2)]

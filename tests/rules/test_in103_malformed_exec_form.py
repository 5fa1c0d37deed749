"""IN103 malformed-exec-form: CMD/ENTRYPOINT meant as a JSON array that is not one."""

import pytest

POSITIVE = {
    "bare words": ("CMD [python, app.py]", "not valid JSON"),
    "single quotes": ("ENTRYPOINT ['/usr/bin/app', '--serve']", "not valid JSON"),
    "mixed quotes": ("""CMD ["a", 'b']""", "not valid JSON"),
    "trailing comma": ("""ENTRYPOINT ["/app", "--serve",]""", "not valid JSON"),
    "comment after the array": ("""CMD ["python", "app.py"] # start the app""", "not valid JSON"),
    "variable outside the quotes": ("""CMD ["daphne", "-p", $PORT]""", "not valid JSON"),
    "unclosed array": ("""CMD ["python", "app.py\"""", "not valid JSON"),
    "number element": ("""CMD ["sleep", 1]""", "only strings"),
    "boolean element": ("""CMD ["app", true]""", "only strings"),
    "NaN is not JSON": ("""CMD ["sleep", NaN]""", "not valid JSON"),
    "lower-case keyword": ("cmd ['python', 'app.py']", "not valid JSON"),
}


@pytest.mark.parametrize("line, reason", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_malformed_exec_form(findings, line, reason):
    found = findings(f"FROM python:3.12-slim\n{line}\n", select=["IN103"])
    assert [(f.code, f.line) for f in found] == [("IN103", 2)]
    assert reason in found[0].message


def test_non_string_array_says_buildkit_refuses_it(findings):
    (found,) = findings('FROM alpine\nCMD ["sleep", 1]\n', select=["IN103"])
    assert "BuildKit refuses the file" in found.message


def test_bracketed_text_says_it_fails_at_start(findings):
    (found,) = findings("FROM alpine\nCMD [python, app.py]\n", select=["IN103"])
    assert "fails at start" in found.message


def test_malformed_is_not_also_reported_as_shell_form(lint):
    text = """
        FROM python:3.12-slim
        CMD ['python', 'app.py']
        """
    assert lint(text, select=["IN101", "IN102", "IN103"]) == [("IN103", 2)]


def test_malformed_cmd_behind_exec_entrypoint(lint):
    text = """
        FROM alpine:3.20
        ENTRYPOINT ["/sbin/tini", "--"]
        CMD ['/app']
        """
    assert lint(text, select=["IN103"]) == [("IN103", 3)]


def test_multi_line_malformed_array(findings):
    text = """
        FROM alpine:3.20
        CMD ['/app', \\
             '--serve']
        """
    found = findings(text, select=["IN103"])
    assert [(f.line, f.end_line) for f in found] == [(2, 3)]


def test_onbuild_malformed(findings):
    (found,) = findings("FROM alpine\nONBUILD CMD ['run-me']\nCMD [\"sh\"]\n", select=["IN103"])
    assert found.line == 2
    assert found.message.startswith("ONBUILD CMD")


def test_inherited_malformed_cmd(lint):
    text = """
        FROM alpine:3.20 AS base
        CMD ['/app']
        FROM base
        RUN true
        """
    assert lint(text, select=["IN103"]) == [("IN103", 2)]


NEGATIVE = {
    "valid exec form": 'CMD ["python", "app.py"]',
    "valid exec form with spaces": 'CMD [ "node" , "server.js" ]',
    "empty array": "CMD []",
    "shell test": "CMD [ -f /ready ] && exec /app",
    "shell test with brackets and a quote later": 'CMD [ -n "$X" ] && exec /app',
    "plain shell form": "CMD python app.py",
    "escaped quote inside a valid string": r'CMD ["sh", "-c", "echo \"hi\""]',
}


@pytest.mark.parametrize("line", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, line):
    assert lint(f"FROM python:3.12-slim\n{line}\n", select=["IN103"]) == []


def test_builder_stage_not_judged(lint):
    text = """
        FROM alpine:3.20 AS build
        CMD ['make']
        FROM alpine:3.20
        CMD ["/app"]
        """
    assert lint(text, select=["IN103"]) == []


def test_windows_not_judged(lint):
    text = """
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        CMD ['app.exe']
        """
    assert lint(text, select=["IN103"]) == []

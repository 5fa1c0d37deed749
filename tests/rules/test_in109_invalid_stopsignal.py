"""IN109 invalid-stopsignal: STOPSIGNAL names no Linux signal, or one that cannot be caught."""

import pytest

NOT_A_SIGNAL = ["SIGFOO", "FOO", "0", "65", "99", "-15", "SIGRTMIN+31", "SIGRTMAX+1", "SIG TERM", "SIGTERM;"]


@pytest.mark.parametrize("value", NOT_A_SIGNAL)
def test_not_a_signal(findings, value):
    found = findings(f'FROM python:3.12-slim\nSTOPSIGNAL {value}\nCMD ["python", "app.py"]\n', select=["IN109"])
    assert [(f.code, f.line) for f in found] == [("IN109", 2)]
    assert "is not a Linux signal" in found[0].message
    assert found[0].severity == "error"


UNCATCHABLE = ["SIGKILL", "KILL", "9", "sigkill", "SIGSTOP", "19"]


@pytest.mark.parametrize("value", UNCATCHABLE)
def test_uncatchable_signal(findings, value):
    found = findings(f'FROM python:3.12-slim\nSTOPSIGNAL {value}\nCMD ["python", "app.py"]\n', select=["IN109"])
    assert [(f.code, f.line) for f in found] == [("IN109", 2)]
    assert "cannot be caught" in found[0].message


VALID = ["SIGTERM", "TERM", "sigterm", "15", "SIGQUIT", "SIGINT", "SIGWINCH", "SIGUSR1", "SIGRTMIN+3", "37",
         "SIGRTMIN", "SIGRTMAX", "64", "SIGRTMAX-2", "SIGPWR", "SIGIOT"]


@pytest.mark.parametrize("value", VALID)
def test_valid_signal(lint, value):
    assert lint(f'FROM python:3.12-slim\nSTOPSIGNAL {value}\nCMD ["python", "app.py"]\n', select=["IN109"]) == []


def test_lower_case_instruction(lint):
    assert lint("from alpine\nstopsignal sigkill\n", select=["IN109"]) == [("IN109", 2)]


def test_only_the_effective_stopsignal_is_judged(lint):
    text = "FROM alpine:3.20\nSTOPSIGNAL SIGFOO\nSTOPSIGNAL SIGTERM\n"
    assert lint(text, select=["IN109"]) == []


def test_inherited_from_the_parent_stage(lint):
    text = "FROM alpine:3.20 AS base\nSTOPSIGNAL SIGKILL\nFROM base\nCMD [\"/app\"]\n"
    assert lint(text, select=["IN109"]) == [("IN109", 2)]


def test_builder_stage_not_judged(lint):
    text = "FROM alpine:3.20 AS build\nSTOPSIGNAL SIGKILL\nFROM alpine:3.20\nCMD [\"/app\"]\n"
    assert lint(text, select=["IN109"]) == []


def test_target_stage(lint):
    text = "FROM alpine:3.20 AS prod\nSTOPSIGNAL SIGTERM\nFROM alpine:3.20 AS debug\nSTOPSIGNAL SIGFOO\n"
    assert lint(text, select=["IN109"], target="prod") == []
    assert lint(text, select=["IN109"], target="debug") == [("IN109", 4)]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("FROM alpine\nARG SIG=SIGKILL\nSTOPSIGNAL $SIG\n", [("IN109", 3)], id="build arg resolves to SIGKILL"),
        pytest.param("FROM alpine\nARG SIG=SIGQUIT\nSTOPSIGNAL ${SIG}\n", [], id="build arg resolves to SIGQUIT"),
        pytest.param("ARG SIG=SIGFOO\nFROM alpine\nARG SIG\nSTOPSIGNAL $SIG\n", [("IN109", 4)], id="global arg redeclared in the stage"),
        pytest.param("FROM alpine\nSTOPSIGNAL $SIG\n", [], id="unresolved variable is not judged"),
    ],
)
def test_build_arguments(lint, text, expected):
    assert lint(text, select=["IN109"]) == expected


def test_windows_not_judged(lint):
    text = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSTOPSIGNAL SIGFOO\n"
    assert lint(text, select=["IN109"]) == []


def test_no_stopsignal(lint):
    assert lint('FROM alpine\nCMD ["/app"]\n', select=["IN109"]) == []

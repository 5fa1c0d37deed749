"""IN107 systemd-without-stopsignal: systemd as PID 1 halts only on SIGRTMIN+3."""

import pytest

SYSTEMD_COMMANDS = [
    '["/sbin/init"]',
    '["/usr/sbin/init"]',
    '["/lib/systemd/systemd"]',
    '["/usr/lib/systemd/systemd", "--system"]',
    '["systemd"]',
]


@pytest.mark.parametrize("command", SYSTEMD_COMMANDS)
def test_no_stopsignal_is_reported_on_the_command(findings, command):
    text = f"FROM fedora:40\nRUN dnf -y install systemd && dnf clean all\nCMD {command}\n"
    found = findings(text, select=["IN107"])
    assert [(f.code, f.line) for f in found] == [("IN107", 3)]
    assert "no STOPSIGNAL" in found[0].message and "SIGRTMIN+3" in found[0].message
    assert found[0].severity == "error"


WRONG = {
    "SIGTERM": "SIGTERM",
    "SIGRTMIN is close but wrong": "SIGRTMIN",
    "RTMIN+4": "RTMIN+4",
    "numeric 15": "15",
    "numeric 34 (SIGRTMIN)": "34",
}


@pytest.mark.parametrize("signal", WRONG.values(), ids=WRONG.keys())
def test_wrong_stopsignal_is_reported_on_the_stopsignal_line(findings, signal):
    text = f'FROM fedora:40\nSTOPSIGNAL {signal}\nENTRYPOINT ["/usr/sbin/init"]\n'
    found = findings(text, select=["IN107"])
    assert [(f.code, f.line) for f in found] == [("IN107", 2)]
    assert f"STOPSIGNAL is {signal}" in found[0].message


RIGHT = {
    "SIGRTMIN+3": "SIGRTMIN+3",
    "numeric 37": "37",
    "without the SIG prefix": "RTMIN+3",
    "lower case": "sigrtmin+3",
    "SIGRTMAX-27 is the same number": "SIGRTMAX-27",
    "unresolved build variable": "$STOP",
}


@pytest.mark.parametrize("signal", RIGHT.values(), ids=RIGHT.keys())
def test_right_stopsignal(lint, signal):
    text = f'FROM fedora:40\nSTOPSIGNAL {signal}\nCMD ["/sbin/init"]\n'
    assert lint(text, select=["IN107"]) == []


def test_build_arg_resolves_to_the_right_signal(lint):
    text = 'FROM fedora:40\nARG STOP=SIGRTMIN+3\nSTOPSIGNAL $STOP\nCMD ["/sbin/init"]\n'
    assert lint(text, select=["IN107"]) == []


def test_build_arg_resolves_to_a_wrong_signal(lint):
    text = 'FROM fedora:40\nARG STOP=SIGTERM\nSTOPSIGNAL ${STOP}\nCMD ["/sbin/init"]\n'
    assert lint(text, select=["IN107"]) == [("IN107", 3)]


def test_stopsignal_inherited_from_the_parent_stage(lint):
    text = """
        FROM fedora:40 AS base
        STOPSIGNAL SIGRTMIN+3
        FROM base
        CMD ["/sbin/init"]
        """
    assert lint(text, select=["IN107"]) == []


def test_lower_case_and_continuation(lint):
    text = """
        from fedora:40
        run dnf -y install systemd \\
            && dnf clean all
        cmd ["/sbin/init"]
        """
    assert lint(text, select=["IN107"]) == [("IN107", 4)]


def test_systemd_exec_ed_by_an_entrypoint_script(lint):
    text = """
        FROM fedora:40
        COPY entrypoint.sh /
        ENTRYPOINT ["/entrypoint.sh"]
        CMD ["/sbin/init"]
        """
    script = '#!/bin/sh\nmkdir -p /run/app\nexec "$@"\n'
    assert lint(text, {"entrypoint.sh": script}, select=["IN107"]) == [("IN107", 3)]


NEGATIVE = {
    "not systemd": 'FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n',
    "systemd only in a builder stage": 'FROM fedora:40 AS t\nCMD ["/sbin/init"]\nFROM alpine\nCMD ["/app"]\n',
    "systemd started by a shell that does not exec: PID 1 is the shell": 'FROM fedora:40\nCMD ["sh", "-c", "/sbin/init; echo"]\n',
    "systemctl replacement is not systemd": 'FROM centos:7\nCMD ["/usr/bin/systemctl.py"]\n',
    "Windows image": 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD ["/sbin/init"]\n',
}


@pytest.mark.parametrize("text", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text):
    assert lint(text, select=["IN107"]) == []

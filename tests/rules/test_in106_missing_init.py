"""IN106 missing-init: PID 1 is a shell, a shell script or a launcher, and no init is present."""

import pytest

NO_EXEC = '#!/bin/sh\necho preparing\n"$@"\n'

POSITIVE = {
    "npm start": (
        """
        FROM node:22-slim
        WORKDIR /app
        COPY . .
        CMD ["npm", "start"]
        """,
        {"package.json": "{}"},
        [("IN106", 4)],
        "a launcher",
    ),
    "yarn by absolute path": (
        """
        FROM node:22-slim
        CMD ["/usr/local/bin/yarn", "start"]
        """,
        {},
        [("IN106", 2)],
        "launcher",
    ),
    "npm exec'd by a wrapper": (
        """
        FROM node:22-slim
        CMD ["sh", "-c", "exec npm start"]
        """,
        {},
        [("IN106", 2)],
        "(npm)",
    ),
    "interactive bash as the default command": (
        """
        FROM ubuntu:24.04
        CMD ["/bin/bash"]
        """,
        {},
        [("IN106", 2)],
        "a shell (/bin/bash)",
    ),
}


@pytest.mark.parametrize("text, files, expected, words", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_missing_init(findings, text, files, expected, words):
    found = findings(text, files, select=["IN106"])
    assert [(f.code, f.line) for f in found] == expected
    assert words in found[0].message
    assert "init" in found[0].message


INITS = {
    "tini --": '["tini", "--"]',
    "/sbin/tini -s --": '["/sbin/tini", "-s", "--"]',
    "tini-static -g --": '["/usr/bin/tini-static", "-g", "--"]',
    "tini -p SIGTERM --": '["tini", "-p", "SIGTERM", "--"]',
    "docker-init": '["/usr/bin/docker-init", "--"]',
    "dumb-init --": '["/usr/bin/dumb-init", "--"]',
    "dumb-init --rewrite 15:3": '["dumb-init", "--rewrite", "15:3"]',
    "catatonit --": '["catatonit", "--"]',
    "s6-overlay /init": '["/init"]',
    "initify-init --grace 20 --": '["initify-init", "--grace", "20", "--"]',
}


@pytest.mark.parametrize("entrypoint", INITS.values(), ids=INITS.keys())
@pytest.mark.parametrize("cmd", ["npm start", '["npm", "start"]', '["sh", "-c", "node a.js; node b.js"]'])
def test_an_init_in_front_satisfies_the_rule(lint, entrypoint, cmd):
    text = f"FROM node:22-slim\nENTRYPOINT {entrypoint}\nCMD {cmd}\n"
    assert lint(text, select=["IN106"]) == []


NEGATIVE = {
    "program as PID 1 (not a shell or launcher)": ("FROM python:3.12-slim\nCMD [\"python\", \"app.py\"]\n", {}),
    "shell form that execs": ("FROM python:3.12-slim\nCMD exec python app.py\n", {}),
    "sh -c that execs": ('FROM node:22-slim\nCMD ["sh", "-c", "exec node server.js"]\n', {}),
    "entrypoint script that execs": (
        'FROM python:3.12-slim\nCOPY e.sh /usr/local/bin/\nENTRYPOINT ["e.sh"]\nCMD ["python", "app.py"]\n',
        {"e.sh": '#!/bin/sh\nset -e\nexec "$@"\n'},
    ),
    "supervisord": ('FROM python:3.12-slim\nCMD ["supervisord", "-n", "-c", "/etc/supervisord.conf"]\n', {}),
    "systemd": ('FROM fedora:40\nSTOPSIGNAL SIGRTMIN+3\nCMD ["/sbin/init"]\n', {}),
    "runit my_init": ('FROM phusion/baseimage:jammy-1.0.4\nCMD ["/sbin/my_init"]\n', {}),
    "no command: decided by the base image": ("FROM node:22-slim\nRUN npm ci\n", {}),
    "builder stage only": ('FROM node:22 AS build\nCMD npm run build\nFROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n', {}),
    "Windows image": ("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"cmd\"]\n", {}),
    "BusyBox sh execs tini": ("FROM alpine:3.20\nRUN apk add --no-cache tini\nENTRYPOINT tini -g -- python3 app.py\n", {}),
    "bash execs the program": ("FROM fedora:41\nCMD cd /srv && python3 app.py\n", {}),
    "BusyBox init is PID 1": ("FROM alpine:3.20\nRUN apk add --no-cache openrc\nCMD [\"/sbin/init\"]\n", {}),
}


@pytest.mark.parametrize("text, files", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text, files):
    assert lint(text, files, select=["IN106"]) == []


def test_target_stage_with_an_init(lint):
    text = """
        FROM node:22-slim AS prod
        ENTRYPOINT ["tini", "--"]
        CMD ["node", "server.js"]
        FROM node:22-slim AS dev
        CMD npm run dev
        """
    assert lint(text, select=["IN106"], target="prod") == []
    assert lint(text.replace("CMD npm run dev", 'CMD ["npm", "run", "dev"]'), select=["IN106"]) == [("IN106", 5)]


# The shell in front is reported by IN101-IN105, whose fix makes the program PID 1: IN106 does
# not repeat that cause (one finding per cause).
ONCE = {
    "shell form makes /bin/sh PID 1": (
        "FROM python:3.12-slim\nCMD python app.py\n", {}, ["IN101"]),
    "sh -c wrapper without exec": (
        'FROM python:3.12-slim\nENTRYPOINT ["/bin/sh", "-c", "python app.py"]\n', {}, ["IN104"]),
    "entrypoint script without exec": (
        'FROM python:3.12-slim\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\n'
        'CMD ["python", "app.py"]\n', {"docker-entrypoint.sh": NO_EXEC}, ["IN105"]),
    "tini hidden behind a shell-form ENTRYPOINT": (
        "FROM alpine:3.20\nRUN apk add --no-cache tini\nENTRYPOINT tini -- python app.py\n", {}, ["IN102"]),
    "inherited shell-form CMD": (
        "FROM python:3.12-slim AS base\nCMD python app.py\nFROM base\nCOPY . /app\n", {}, ["IN101"]),
    "malformed exec form": ("FROM python:3.12-slim\nCMD ['python', 'app.py']\n", {}, ["IN103"]),
    "shell form running a script that does not exec": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ./run.sh\n",
        {"run.sh": "#!/bin/sh\nexport APP_ENV=production\npython -m http.server 8080\n"}, ["IN101", "IN105"]),
}


@pytest.mark.parametrize("text, files, codes", ONCE.values(), ids=ONCE.keys())
def test_not_repeated_when_the_shell_in_front_is_reported(lint, text, files, codes):
    found = [code for code, _ in lint(text, files, select=["IN101", "IN102", "IN103", "IN104", "IN105", "IN106"])]
    assert found == codes


INIT_ALSO = {
    "npm behind a shell-form CMD": ("FROM node:22-slim\nCMD npm start\n", {}, "IN101", "npm does not forward signals"),
    "script that also starts a background job": (
        'FROM python:3.12-slim\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\nCMD ["python", "app.py"]\n',
        {"start.sh": '#!/bin/sh\npython metrics_exporter.py &\n"$@"\n'}, "IN105", "starts background processes"),
}


@pytest.mark.parametrize("text, files, code, words", INIT_ALSO.values(), ids=INIT_ALSO.keys())
def test_the_primary_finding_says_an_init_is_also_advised(findings, text, files, code, words):
    found = findings(text, files, select=["IN101", "IN105", "IN106"])
    assert [f.code for f in found] == [code]
    assert words in found[0].message and "init in front too" in found[0].message


STILL = {
    "script ending in wait: exec cannot remove the shell": (
        'FROM python:3.12-slim\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n',
        {"start.sh": "#!/bin/sh\npython worker.py &\npython app.py &\nwait\n"}),
    "interactive bash": ('FROM ubuntu:24.04\nCMD ["/bin/bash"]\n', {}),
}


@pytest.mark.parametrize("text, files", STILL.values(), ids=STILL.keys())
def test_reported_when_no_fix_removes_the_shell(lint, text, files):
    assert [code for code, _ in lint(text, files, select=["IN106"])] == ["IN106"]


DELIBERATE = {
    "trap forwards TERM to the child and waits": (
        '#!/bin/bash\nterm() {\n  echo "stopping $child"\n  kill -TERM "$child" 2>/dev/null\n}\ntrap term TERM INT\n'
        'python worker.py &\nchild=$!\nwait "$child"\n'),
    "trap stops the daemon gracefully": (
        '#!/bin/sh\nshutdown() {\n  nginx -s quit\n}\ntrap shutdown TERM\nnginx -g "daemon off;" &\nwait $!\n'),
}


@pytest.mark.parametrize("script", DELIBERATE.values(), ids=DELIBERATE.keys())
def test_a_deliberate_signal_handler_is_no_finding(lint, script):
    text = 'FROM python:3.12-slim\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    assert lint(text, {"run.sh": script}, select=["IN105", "IN106"]) == []


def test_a_script_whose_tail_cannot_be_parsed_is_no_finding(lint):
    script = '#!/bin/bash\nif [ -n "$X" ]; then\n  exec app "$@"\nfi\ncase "$1" in\n  *) echo "unterminated\nesac\n'
    text = 'FROM python:3.12-slim\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    assert lint(text, {"run.sh": script}, select=["IN105", "IN106"]) == []

"""IN106 missing-init: PID 1 is a shell, a shell script or a launcher, and no init is present."""

import pytest

NO_EXEC = '#!/bin/sh\necho preparing\n"$@"\n'

POSITIVE = {
    "shell form makes /bin/sh PID 1": (
        """
        FROM python:3.12-slim
        CMD python app.py
        """,
        {},
        [("IN106", 2)],
        "a shell (/bin/sh)",
    ),
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
    "sh -c wrapper without exec": (
        """
        FROM python:3.12-slim
        ENTRYPOINT ["/bin/sh", "-c", "python app.py"]
        """,
        {},
        [("IN106", 2)],
        "a shell",
    ),
    "entrypoint script without exec": (
        """
        FROM python:3.12-slim
        COPY docker-entrypoint.sh /usr/local/bin/
        ENTRYPOINT ["docker-entrypoint.sh"]
        CMD ["python", "app.py"]
        """,
        {"docker-entrypoint.sh": NO_EXEC},
        [("IN106", 3)],
        "a shell script (/usr/local/bin/docker-entrypoint.sh)",
    ),
    "tini hidden behind a shell-form ENTRYPOINT": (
        """
        FROM debian:bookworm
        RUN apt-get update && apt-get install -y tini
        ENTRYPOINT tini -- python app.py
        """,
        {},
        [("IN106", 3)],
        "a shell",
    ),
    "inherited shell-form CMD": (
        """
        FROM python:3.12-slim AS base
        CMD python app.py
        FROM base
        COPY . /app
        """,
        {},
        [("IN106", 2)],
        "a shell",
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
    assert lint(text, select=["IN106"]) == [("IN106", 5)]

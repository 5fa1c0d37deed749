"""IN108 stopsignal-mismatch: a known daemon does not get its graceful stop signal."""

import pytest

NGINX = '["nginx", "-g", "daemon off;"]'

EXEC_ARGS = '#!/bin/sh\nset -e\nexec "$@"\n'

# docker-library/postgres style: the exec of "$@" is in a function called last.
POSTGRES_ENTRYPOINT = """\
#!/usr/bin/env bash
set -Eeo pipefail
_main() {
    if [ "${1:0:1}" = '-' ]; then
        set -- postgres "$@"
    fi
    exec "$@"
}
_main "$@"
"""

POSITIVE = {
    "nginx without STOPSIGNAL: reported on the command": (
        f"FROM debian:12-slim\nCMD {NGINX}\n",
        {},
        [("IN108", 2)],
        ["nginx", "SIGQUIT", "no STOPSIGNAL"],
    ),
    "nginx with STOPSIGNAL SIGTERM: reported on the STOPSIGNAL": (
        f"FROM nginx:1.27\nSTOPSIGNAL SIGTERM\nCMD {NGINX}\n",
        {},
        [("IN108", 2)],
        ["STOPSIGNAL SIGTERM", "SIGQUIT"],
    ),
    "httpd-foreground": (
        'FROM httpd:2.4\nSTOPSIGNAL SIGTERM\nCMD ["httpd-foreground"]\n',
        {},
        [("IN108", 2)],
        ["SIGWINCH"],
    ),
    "php-fpm": ('FROM debian:12-slim\nCMD ["php-fpm8.2", "-F"]\n', {}, [("IN108", 2)], ["SIGQUIT"]),
    "haproxy": ('FROM alpine:3.20\nCMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]\n', {}, [("IN108", 2)], ["SIGUSR1"]),
    "postgres exec'd by docker-entrypoint.sh": (
        """
        FROM debian:12-slim
        COPY docker-entrypoint.sh /usr/local/bin/
        ENTRYPOINT ["docker-entrypoint.sh"]
        CMD ["postgres"]
        """,
        {"docker-entrypoint.sh": POSTGRES_ENTRYPOINT},
        [("IN108", 3)],
        ["postgres", "SIGINT"],
    ),
    "nginx behind tini": (
        f'FROM alpine:3.20\nENTRYPOINT ["tini", "--"]\nCMD {NGINX}\n',
        {},
        [("IN108", 2)],
        ["SIGQUIT"],
    ),
    "nginx exec'd by an sh -c wrapper": (
        """FROM debian:12\nCMD ["sh", "-c", "envsubst < /t > /etc/nginx/conf.d/default.conf && exec nginx -g 'daemon off;'"]\n""",
        {},
        [("IN108", 2)],
        ["SIGQUIT"],
    ),
    "dumb-init rewrites TERM to the wrong signal": (
        f'FROM alpine:3.20\nENTRYPOINT ["dumb-init", "--rewrite", "15:2", "--"]\nCMD {NGINX}\n',
        {},
        [("IN108", 2)],
        ["rewritten to SIGINT"],
    ),
    "base image sets another daemon's signal": (
        f"FROM httpd:2.4\nCMD {NGINX}\n",
        {},
        [("IN108", 2)],
        ["STOPSIGNAL SIGWINCH from its base image httpd:2.4"],
    ),
    "not an official image: its STOPSIGNAL is unknown": (
        f"FROM example/nginx:1.27\nCMD {NGINX}\n",
        {},
        [("IN108", 2)],
        ["no STOPSIGNAL"],
    ),
    "official base whose signal the init rewrites away": (
        f'FROM nginx:1.27\nENTRYPOINT ["dumb-init", "-r", "3:15", "--"]\nCMD {NGINX}\n',
        {},
        [("IN108", 2)],
        ["rewritten to SIGTERM"],
    ),
    "STOPSIGNAL in the parent stage, nginx in the final one": (
        f"FROM debian:12-slim AS base\nSTOPSIGNAL SIGTERM\nFROM base\nCMD {NGINX}\n",
        {},
        [("IN108", 2)],
        ["SIGQUIT"],
    ),
}

# The nginx wrapper above ends in `a && exec nginx`, which initify/shell.py does not yet see as exec.


@pytest.mark.parametrize(
    "text, files, expected, words",
    [pytest.param(*case, id=name, marks=[]) for name, case in POSITIVE.items()],
)
def test_reports_mismatch(findings, text, files, expected, words):
    found = findings(text, files, select=["IN108"])
    assert [(f.code, f.line) for f in found] == expected
    for word in words:
        assert word in found[0].message
    assert found[0].severity == "warning"


def test_nginx_exec_ed_by_a_plain_sh_c_wrapper(lint):
    text = """FROM alpine:3.20\nCMD ["sh", "-c", "echo start; exec nginx -g 'daemon off;'"]\n"""
    assert lint(text, select=["IN108"]) == [("IN108", 2)]


NEGATIVE = {
    "nginx with SIGQUIT": (f"FROM nginx:1.27\nSTOPSIGNAL SIGQUIT\nCMD {NGINX}\n", {}),
    "nginx with QUIT spelled without SIG": (f"FROM nginx:1.27\nSTOPSIGNAL QUIT\nCMD {NGINX}\n", {}),
    "nginx with numeric 3": (f"FROM nginx:1.27\nSTOPSIGNAL 3\nCMD {NGINX}\n", {}),
    "lower-case instructions": (f"from nginx:1.27\nstopsignal sigquit\ncmd {NGINX}\n", {}),
    "httpd with SIGWINCH": ('FROM httpd:2.4\nSTOPSIGNAL SIGWINCH\nCMD ["httpd-foreground"]\n', {}),
    "postgres with SIGINT": (
        'FROM debian:12-slim\nCOPY docker-entrypoint.sh /usr/local/bin/\nSTOPSIGNAL SIGINT\n'
        'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["postgres"]\n',
        {"docker-entrypoint.sh": POSTGRES_ENTRYPOINT},
    ),
    "dumb-init rewrites TERM to QUIT": (f'FROM nginx:1.27\nENTRYPOINT ["dumb-init", "--rewrite", "15:3", "--"]\nCMD {NGINX}\n', {}),
    "initify-init rewrites TERM to QUIT": (
        f'FROM nginx:1.27\nENTRYPOINT ["initify-init", "--rewrite=SIGTERM:SIGQUIT", "--"]\nCMD {NGINX}\n',
        {},
    ),
    "official nginx image already sets SIGQUIT": (f"FROM nginx:1.27\nCOPY site.conf /etc/nginx/conf.d/\nCMD {NGINX}\n", {}),
    "official nginx image through a named stage": (f"FROM docker.io/library/nginx:1.27-alpine AS web\nFROM web\nCMD {NGINX}\n", {}),
    "official php-fpm image already sets SIGQUIT": ('FROM php:8.3-fpm\nCMD ["php-fpm"]\n', {}),
    "official php apache image already sets SIGWINCH": ('FROM php:8.3-apache\nCMD ["apache2-foreground"]\n', {}),
    "official postgres image by digest": (
        'FROM postgres@sha256:0123456789abcdef\nCOPY docker-entrypoint.sh /usr/local/bin/\n'
        'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["postgres"]\n',
        {"docker-entrypoint.sh": POSTGRES_ENTRYPOINT},
    ),
    "official haproxy image behind tini": ('FROM haproxy:3.0\nENTRYPOINT ["tini", "--"]\nCMD ["haproxy", "-f", "/h.cfg"]\n', {}),
    "redis stops on SIGTERM": ('FROM redis:7\nCMD ["redis-server"]\n', {}),
    "unknown program": ('FROM python:3.12-slim\nCMD ["python", "app.py"]\n', {}),
    "systemd is IN107's job": ('FROM fedora:40\nCMD ["/sbin/init"]\n', {}),
    "nginx under a shell that does not exec (IN101/IN106 instead)": ("FROM nginx:1.27\nCMD nginx -g 'daemon off;'\n", {}),
    "nginx under an entrypoint script that does not exec": (
        f'FROM nginx:1.27\nCOPY e.sh /\nENTRYPOINT ["/e.sh"]\nCMD {NGINX}\n',
        {"e.sh": '#!/bin/sh\n"$@"\n'},
    ),
    "unresolved build variable": (f"FROM nginx:1.27\nSTOPSIGNAL $STOP\nCMD {NGINX}\n", {}),
    "nginx only in a builder stage": (f'FROM nginx:1.27 AS t\nCMD {NGINX}\nFROM alpine\nCMD ["/app"]\n', {}),
    "Windows image": ('FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD ["nginx"]\n', {}),
}


@pytest.mark.parametrize("text, files", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text, files):
    assert lint(text, files, select=["IN108"]) == []


# rules/knowledge.toml lists only `-r` as a dumb-init option with a value, so for
# `dumb-init --rewrite 15:2 nginx` the supervised program is taken to be `15:2`.


@pytest.mark.parametrize(
    "entrypoint, expected",
    [
        pytest.param('["dumb-init", "-r", "15:3"]', [], id="-r to SIGQUIT"),
        pytest.param('["dumb-init", "-r", "15:2"]', [("IN108", 2)], id="-r to SIGINT"),
        pytest.param('["dumb-init", "--rewrite=15:2"]', [("IN108", 2)], id="--rewrite= to SIGINT"),
        pytest.param('["dumb-init", "--rewrite", "15:3"]', [], id="--rewrite to SIGQUIT"),
        pytest.param('["dumb-init", "--rewrite", "15:2"]', [("IN108", 2)], id="--rewrite to SIGINT"),
    ],
)
def test_dumb_init_rewrite_without_double_dash(lint, entrypoint, expected):
    text = f"FROM alpine:3.20\nENTRYPOINT {entrypoint}\nCMD {NGINX}\n"
    assert lint(text, select=["IN108"]) == expected

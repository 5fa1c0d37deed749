"""IN105 entrypoint-script-without-exec: a context script on the launch path does not exec."""

import os

import pytest

NO_EXEC = """\
#!/bin/sh
set -e
echo "preparing"
"$@"
"""

WITH_EXEC = """\
#!/bin/sh
set -e
echo "preparing"
exec "$@"
"""

# The docker-library/postgres layout: the exec is in a function that is called last.
POSTGRES_STYLE = """\
#!/usr/bin/env bash
set -Eeo pipefail

docker_setup_env() {
    export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
}

_is_sourced() {
    [ "${#FUNCNAME[@]}" -ge 2 ] && [ "${FUNCNAME[0]}" = '_is_sourced' ] && [ "${FUNCNAME[1]}" = 'source' ]
}

_main() {
    if [ "${1:0:1}" = '-' ]; then
        set -- postgres "$@"
    fi
    docker_setup_env
    exec "$@"
}

if ! _is_sourced; then
    _main "$@"
fi
"""

ENTRYPOINT_SCRIPT = """
    FROM python:3.12-slim
    COPY docker-entrypoint.sh /usr/local/bin/
    ENTRYPOINT ["docker-entrypoint.sh"]
    CMD ["python", "worker.py"]
    """

POSITIVE = {
    "script ending in a bare \"$@\"": (
        ENTRYPOINT_SCRIPT,
        {"docker-entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "script ending in a program": (
        ENTRYPOINT_SCRIPT,
        {"docker-entrypoint.sh": "#!/bin/sh\ncd /app\nnode server.js\n"},
        [("IN105", 3)],
    ),
    "directory copy of the whole context": (
        """
        FROM python:3.12-slim
        COPY . /app
        ENTRYPOINT ["/app/bin/start.sh"]
        """,
        {"bin/start.sh": "#!/bin/sh\npython /app/app.py\n"},
        [("IN105", 3)],
    ),
    "relative path under WORKDIR": (
        """
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        CMD ["./start.sh"]
        """,
        {"start.sh": "#!/bin/bash\npython app.py\n"},
        [("IN105", 4)],
    ),
    "COPY --chmod into a PATH directory, found by bare name": (
        """
        FROM alpine:3.20
        COPY --chmod=755 entrypoint.sh /usr/local/bin/
        ENTRYPOINT ["entrypoint.sh"]
        CMD ["/app"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "COPY into an existing directory written without a slash": (
        """
        FROM alpine:3.20
        COPY entrypoint.sh /usr/local/bin
        ENTRYPOINT ["entrypoint.sh"]
        CMD ["/app"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "COPY into the WORKDIR as `.`, WORKDIR set in the parent stage": (
        """
        FROM alpine:3.20 AS base
        WORKDIR /srv
        FROM base
        COPY start.sh .
        CMD ["./start.sh"]
        """,
        {"start.sh": "#!/bin/sh\n/app\n"},
        [("IN105", 5)],
    ),
    "directory source into a directory with a slash": (
        """
        FROM alpine:3.20
        COPY scripts/ /opt/scripts/
        ENTRYPOINT ["/opt/scripts/entrypoint.sh"]
        CMD ["/app"]
        """,
        {"scripts/entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "whole context into a directory with a slash": (
        """
        FROM alpine:3.20
        COPY . /app/
        ENTRYPOINT ["/app/entrypoint.sh"]
        CMD ["/app/server"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "whole context into the root": (
        """
        FROM alpine:3.20
        COPY . /
        ENTRYPOINT ["/entrypoint.sh"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "JSON-form COPY with --chown": (
        """
        FROM alpine:3.20
        COPY --chown=app:app ["entrypoint.sh", "/usr/local/bin/"]
        ENTRYPOINT ["entrypoint.sh"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "script that execs into a second script that does not": (
        """
        FROM alpine:3.20
        COPY a.sh b.sh /
        ENTRYPOINT ["/a.sh"]
        CMD ["/b.sh"]
        """,
        {"a.sh": WITH_EXEC, "b.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "copied to a new name": (
        """
        FROM alpine:3.20
        COPY scripts/run.sh /usr/bin/run
        CMD ["run"]
        """,
        {"scripts/run.sh": "#!/bin/sh\n/app\n"},
        [("IN105", 3)],
    ),
    "heredoc script": (
        """
        # syntax=docker/dockerfile:1
        FROM alpine:3.20
        COPY --chmod=755 <<'EOF' /entrypoint.sh
        #!/bin/sh
        echo starting
        "$@"
        EOF
        ENTRYPOINT ["/entrypoint.sh"]
        CMD ["/app"]
        """,
        {},
        [("IN105", 8)],
    ),
    "behind tini": (
        """
        FROM alpine:3.20
        COPY entrypoint.sh /
        ENTRYPOINT ["tini", "--", "/entrypoint.sh"]
        CMD ["/app"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 3)],
    ),
    "run by an explicit shell": (
        """
        FROM alpine:3.20
        COPY start.sh /app/
        CMD ["bash", "/app/start.sh"]
        """,
        {"start.sh": "/app/server\n"},
        [("IN105", 3)],
    ),
    "copied in the parent stage": (
        """
        FROM alpine:3.20 AS base
        COPY entrypoint.sh /usr/local/bin/
        FROM base
        ENTRYPOINT ["entrypoint.sh"]
        CMD ["/app"]
        """,
        {"entrypoint.sh": NO_EXEC},
        [("IN105", 4)],
    ),
    "shebang through env, no .sh suffix": (
        """
        FROM alpine:3.20
        COPY launch /usr/local/bin/launch
        CMD ["launch"]
        """,
        {"launch": "#!/usr/bin/env bash\n/app\n"},
        [("IN105", 3)],
    ),
    "the later COPY of the same path wins": (
        """
        FROM alpine:3.20
        COPY good.sh /entrypoint.sh
        COPY bad.sh /entrypoint.sh
        ENTRYPOINT ["/entrypoint.sh"]
        """,
        {"good.sh": "#!/bin/sh\nexec /app\n", "bad.sh": "#!/bin/sh\n/app\n"},
        [("IN105", 4)],
    ),
}


@pytest.mark.parametrize("text, files, expected", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_script_without_exec(lint, text, files, expected):
    assert lint(text, files, select=["IN105"]) == expected


NEGATIVE = {
    "ends in exec \"$@\"": (ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": WITH_EXEC}),
    "postgres style: exec in the function called last": (ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": POSTGRES_STYLE}),
    "not a shell script": (ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": "#!/usr/bin/env python3\nimport os\nos.system('x')\n"}),
    "script not in the context": (ENTRYPOINT_SCRIPT, {}),
    "traps TERM and forwards it": (
        ENTRYPOINT_SCRIPT,
        {"docker-entrypoint.sh": '#!/bin/sh\n"$@" &\npid=$!\ntrap \'kill -TERM $pid\' TERM INT\nwait $pid\n'},
    ),
    "copied from another stage, not from the context": (
        """
        FROM alpine:3.20 AS build
        RUN printf '#!/bin/sh\\n/app\\n' > /entrypoint.sh
        FROM alpine:3.20
        COPY --from=build /entrypoint.sh /entrypoint.sh
        ENTRYPOINT ["/entrypoint.sh"]
        """,
        {"entrypoint.sh": "#!/bin/sh\n/app\n"},
    ),
    "only a builder stage runs the script": (
        """
        FROM alpine:3.20 AS build
        COPY entrypoint.sh /
        ENTRYPOINT ["/entrypoint.sh"]
        FROM alpine:3.20
        ENTRYPOINT ["/app"]
        """,
        {"entrypoint.sh": NO_EXEC},
    ),
    "heredoc that execs": (
        """
        FROM alpine:3.20
        COPY <<'EOF' /entrypoint.sh
        #!/bin/sh
        exec /app
        EOF
        ENTRYPOINT ["/entrypoint.sh"]
        """,
        {},
    ),
}


@pytest.mark.parametrize("text, files", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_no_report(lint, text, files):
    assert lint(text, files, select=["IN105"]) == []


def test_symlink_outside_the_context_is_not_read(tmp_path, lint):
    outside = tmp_path.parent / (tmp_path.name + "-outside.sh")
    outside.write_text(NO_EXEC)
    context = tmp_path
    os.symlink(outside, context / "docker-entrypoint.sh")
    assert lint(ENTRYPOINT_SCRIPT, select=["IN105"]) == []


def test_symlink_inside_the_context_is_read(tmp_path, lint):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "entry.sh").write_text(NO_EXEC)
    os.symlink(tmp_path / "real" / "entry.sh", tmp_path / "docker-entrypoint.sh")
    assert lint(ENTRYPOINT_SCRIPT, select=["IN105"]) == [("IN105", 3)]


def test_message_names_script_line_and_advice(findings):
    (found,) = findings(ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": NO_EXEC}, select=["IN105"])
    assert "/usr/local/bin/docker-entrypoint.sh" in found.message
    assert "docker-entrypoint.sh:4" in found.message
    assert 'write `exec "$@"`' in found.message
    assert "as PID 1" in found.message
    assert found.severity == "warning"


def test_message_for_a_program_last(findings):
    (found,) = findings(ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": "#!/bin/sh\nnode server.js\n"}, select=["IN105"])
    assert "write `exec node server.js`" in found.message


def test_message_for_a_script_that_waits_suggests_an_init(findings):
    script = "#!/bin/sh\nweb &\njob &\nwait\n"
    (found,) = findings(ENTRYPOINT_SCRIPT, {"docker-entrypoint.sh": script}, select=["IN105"])
    assert "shell builtin `wait`" in found.message and "init" in found.message
    assert "exec wait" not in found.message


def test_message_behind_an_init(findings):
    text = 'FROM alpine\nCOPY e.sh /\nENTRYPOINT ["tini", "--", "/e.sh"]\n'
    (found,) = findings(text, {"e.sh": NO_EXEC}, select=["IN105"])
    assert "behind the init" in found.message


def test_heredoc_message_names_the_heredoc(findings):
    text = "FROM alpine\nCOPY <<'EOF' /e.sh\n#!/bin/sh\n/app\nEOF\nENTRYPOINT [\"/e.sh\"]\n"
    (found,) = findings(text, select=["IN105"])
    assert "<<EOF" in found.message


def test_symlinked_directory_outside_the_context_is_not_read(tmp_path, lint):
    outside = tmp_path.parent / (tmp_path.name + "-outside-dir")
    outside.mkdir()
    (outside / "start.sh").write_text(NO_EXEC)
    os.symlink(outside, tmp_path / "bin")
    text = """
        FROM alpine:3.20
        COPY . /app
        ENTRYPOINT ["/app/bin/start.sh"]
        """
    assert lint(text, select=["IN105"]) == []


@pytest.mark.parametrize(
    "entrypoint, reported",
    [
        ('["tini", "--", "/e.sh"]', True),  # tini signals only its child, the shell
        ('["tini", "-g", "--", "/e.sh"]', False),  # -g: the whole group gets the signal
        ('["tini", "-sg", "--", "/e.sh"]', False),
        ('["dumb-init", "/e.sh"]', False),  # dumb-init signals the group by default
        ('["dumb-init", "--single-child", "/e.sh"]', True),
        ('["/usr/local/bin/initify-init", "--", "/e.sh"]', False),
        ('["initify-init", "--single-child", "--", "/e.sh"]', True),
    ],
)
def test_not_reported_behind_an_init_that_signals_the_group(lint, entrypoint, reported):
    text = f"FROM alpine\nCOPY e.sh /\nENTRYPOINT {entrypoint}\n"
    codes = lint(text, {"e.sh": NO_EXEC}, select=["IN105"])
    assert codes == ([("IN105", 3)] if reported else [])

"""IN111 interpreter-without-signal-handler: an exec-form interpreter as PID 1 whose code from the
build context installs no SIGTERM handler. The code is real files in the build context."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import run, workload, write  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

WORKER = """\
import time

def main():
    while True:
        time.sleep(1)

if __name__ == "__main__":
    main()
"""

HANDLED_WORKER = """\
import signal
import sys
import time

def stop(signum, frame):
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(1)
"""

EXPRESS = """\
const express = require('express');
const app = express();
app.get('/healthz', (req, res) => res.send('ok'));
app.listen(process.env.PORT || 3000, () => console.log('listening'));
"""

PY_APP = """
FROM python:3.12-slim
WORKDIR /srv
COPY . .
CMD ["python", "worker.py"]
"""

POSITIVE = {
    "python worker with no handler": (PY_APP, {"worker.py": WORKER}, "python running /srv/worker.py"),
    "versioned python, unbuffered option": (
        """
        FROM python:3.12-slim
        COPY jobs/ /opt/jobs/
        CMD ["python3.12", "-u", "/opt/jobs/poll.py"]
        """,
        {"jobs/poll.py": WORKER},
        "/opt/jobs/poll.py",
    ),
    "express server": (
        """
        FROM node:22-slim
        WORKDIR /usr/src/app
        COPY package.json server.js ./
        CMD ["node", "server.js"]
        """,
        {"package.json": "{}", "server.js": EXPRESS},
        "process.on('SIGTERM'",
    ),
    "node with a preload option": (
        """
        FROM node:22-slim
        WORKDIR /app
        COPY . .
        ENTRYPOINT ["node", "--require", "./tracing.js", "index.js"]
        """,
        {"index.js": EXPRESS, "tracing.js": "module.exports = {};\n"},
        "/app/index.js",
    ),
    "python -m of a package from the context": (
        """
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        CMD ["python", "-m", "poller"]
        """,
        {"poller/__main__.py": WORKER, "poller/__init__.py": ""},
        "-m poller",
    ),
    "django runserver --noreload has no handler": (
        """
        FROM python:3.12-slim
        WORKDIR /code
        COPY . .
        CMD ["python", "manage.py", "runserver", "0.0.0.0:8000", "--noreload"]
        """,
        {"manage.py": "import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"},
        "manage.py",
    ),
    "flask dev server without the reloader": (
        PY_APP,
        {"worker.py": "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', port=5000)\n"},
        "worker.py",
    ),
    "ruby script with no trap": (
        """
        FROM ruby:3.3-slim
        WORKDIR /app
        COPY consumer.rb .
        CMD ["ruby", "consumer.rb"]
        """,
        {"consumer.rb": "loop do\n  puts 'polling'\n  sleep 5\nend\n"},
        "trap('TERM')",
    ),
    "an entrypoint script that execs the python CMD": (
        """
        FROM python:3.12-slim
        WORKDIR /srv
        COPY . .
        ENTRYPOINT ["/srv/entrypoint.sh"]
        CMD ["python", "worker.py"]
        """,
        {"worker.py": WORKER, "entrypoint.sh": '#!/bin/sh\nset -e\necho "starting"\nexec "$@"\n'},
        "worker.py",
    ),
}


@pytest.mark.parametrize("text, files, words", POSITIVE.values(), ids=list(POSITIVE))
def test_reports_an_interpreter_without_handler(findings, text, files, words):
    found = [f for f in findings(text, files) if f.code == "IN111"]
    assert len(found) == 1, [f.message for f in findings(text, files)]
    assert words in found[0].message
    # The fix puts an init in front, as IN106's does: never safe (it changes the image); none for
    # a base image initify knows no init for (ruby:).
    assert found[0].fix is None or not found[0].fix.safe


NEGATIVE = {
    "python handles SIGTERM": (PY_APP, {"worker.py": HANDLED_WORKER}),
    "handler set in an imported local module": (
        PY_APP,
        {"worker.py": "from lifecycle import install\ninstall()\nimport time\nwhile True:\n    time.sleep(1)\n",
         "lifecycle.py": "import signal\n\ndef install():\n    signal.signal(signal.SIGTERM, lambda *a: exit(0))\n"},
    ),
    "asyncio add_signal_handler": (
        PY_APP,
        {"worker.py": "import asyncio, signal\n\nasync def main():\n    loop = asyncio.get_running_loop()\n    stop = asyncio.Event()\n    loop.add_signal_handler(signal.SIGTERM, stop.set)\n    await stop.wait()\n\nasyncio.run(main())\n"},
    ),
    "handler installed in a loop over signals": (
        PY_APP,
        {"worker.py": "import signal, sys\nfor sig in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(sig, lambda *a: sys.exit(0))\n"},
    ),
    "uvicorn.run starts a server that handles SIGTERM": (
        PY_APP,
        {"worker.py": "import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n\nif __name__ == '__main__':\n    uvicorn.run(app, host='0.0.0.0', port=8000)\n"},
    ),
    "python -m uvicorn": (
        """
        FROM python:3.12-slim
        CMD ["python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0"]
        """,
        {},
    ),
    "django runserver with its auto-reloader": (
        """
        FROM python:3.12-slim
        WORKDIR /code
        COPY . .
        CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]
        """,
        {"manage.py": "import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"},
    ),
    "flask debug mode runs the reloader": (
        PY_APP,
        {"worker.py": "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0', debug=True)\n"},
    ),
    "node listens for SIGTERM": (
        """
        FROM node:22-slim
        WORKDIR /app
        COPY . .
        CMD ["node", "server.js"]
        """,
        {"server.js": EXPRESS + "process.on('SIGTERM', () => server.close(() => process.exit(0)));\n"},
    ),
    "nestjs enableShutdownHooks": (
        """
        FROM node:22-slim
        WORKDIR /app
        COPY dist ./dist
        CMD ["node", "dist/main"]
        """,
        {"dist/main.js": "const { NestFactory } = require('@nestjs/core');\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.enableShutdownHooks();\n  await app.listen(3000);\n}\nbootstrap();\n"},
    ),
    "sinatra traps TERM": (
        """
        FROM ruby:3.3-slim
        COPY app.rb /app/app.rb
        CMD ["ruby", "/app/app.rb"]
        """,
        {"app.rb": "require 'sinatra'\nget('/') { 'ok' }\n"},
    ),
    "php worker with pcntl_signal": (
        """
        FROM php:8.3-cli
        COPY worker.php /app/worker.php
        CMD ["php", "/app/worker.php"]
        """,
        {"worker.php": "<?php\npcntl_async_signals(true);\npcntl_signal(SIGTERM, function () { exit(0); });\nwhile (true) { sleep(1); }\n"},
    ),
    "java: the JVM handles SIGTERM": (
        """
        FROM eclipse-temurin:21-jre
        COPY app.jar /app.jar
        CMD ["java", "-jar", "/app.jar"]
        """,
        {"app.jar": "not really a jar\n"},
    ),
    "tini in front": (
        """
        FROM python:3.12-slim
        WORKDIR /srv
        COPY . .
        ENTRYPOINT ["tini", "--"]
        CMD ["python", "worker.py"]
        """,
        {"worker.py": WORKER},
    ),
    "code not in the build context": (
        """
        FROM python:3.12-slim
        RUN pip install mytool
        CMD ["python", "/usr/local/lib/mytool/run.py"]
        """,
        {},
    ),
    "inline code": (
        """
        FROM python:3.12-slim
        CMD ["python", "-c", "import time; time.sleep(1e9)"]
        """,
        {},
    ),
    "STOPSIGNAL SIGINT: Python raises KeyboardInterrupt": (
        PY_APP + "STOPSIGNAL SIGINT\n",
        {"worker.py": WORKER},
    ),
    "a django management command other than runserver": (
        """
        FROM python:3.12-slim
        WORKDIR /code
        COPY . .
        CMD ["python", "manage.py", "rqworker"]
        """,
        {"manage.py": "import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"},
    ),
}


@pytest.mark.parametrize("text, files", NEGATIVE.values(), ids=list(NEGATIVE))
def test_no_report(lint, text, files):
    assert lint(text, files, select=["IN111"]) == []


def test_behind_a_shell_form_cmd_it_is_reported_now_not_after_the_fix(findings):
    """`CMD python worker.py` makes /bin/sh PID 1 (IN101); IN101's fix makes python PID 1, which
    ignores SIGTERM for another cause: lint reports both at once, as fix would meet them."""
    found = findings("FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD python worker.py\n", {"worker.py": WORKER},
                     select=["IN101", "IN106", "IN111"])
    assert [f.code for f in found] == ["IN101", "IN111"]
    assert found[1].message.startswith("once the shell in front of it execs it")


def test_unsafe_fix_puts_an_init_in_front(tmp_path):
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "Dockerfile").write_text(textwrap_dedent(PY_APP))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = lambda *args: subprocess.run([sys.executable, "-m", "initify", *args], cwd=tmp_path, capture_output=True,
                                       text=True, env=env, timeout=120)
    safe_only = run("fix", "Dockerfile")
    assert "IN111" in safe_only.stdout and "--unsafe-fixes" in safe_only.stdout
    assert "ENTRYPOINT" not in (tmp_path / "Dockerfile").read_text()
    run("fix", "--unsafe-fixes", "Dockerfile")
    text = (tmp_path / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["/usr/local/bin/initify-init"' in text and 'CMD ["python", "worker.py"]' in text
    assert "IN111" not in run("lint", "Dockerfile").stdout


def textwrap_dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip("\n")


POD = """
{share}containers:
- name: worker
  image: ghcr.io/acme/worker:1.4
"""


@pytest.mark.parametrize("share, expected", [("", ["IN111"]), ("shareProcessNamespace: true\n", [])])
def test_a_paired_pod_that_shares_the_process_namespace_makes_pause_pid1(tmp_path, share, expected):
    paths = write(tmp_path, {"Dockerfile": PY_APP, "worker.py": WORKER,
                             "deploy.yaml": workload("Deployment", POD.format(share=share))})
    result = run([paths["Dockerfile"], paths["deploy.yaml"]], select=["IN111"])
    assert [f.code for f in result.findings] == expected

"""IN111 proven on real processes: a Python app with and without a SIGTERM handler as PID 1.

As PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`) the app without a handler
ignores SIGTERM (the kernel drops it) while the one with a handler stops; behind initify-init,
which is what IN111's fix puts in front, the app without a handler stops too. The slow test does
the same in real images under runc with `initify verify`. In every case IN111 reports exactly the
app that does not stop.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

from initify.commands import lint

REPO = Path(__file__).resolve().parent.parent
INIT = REPO / "initify" / "init.py"
WAIT = 30

WITHOUT_HANDLER = textwrap.dedent("""\
    import time

    print("ready", flush=True)
    while True:
        time.sleep(0.1)
""")

WITH_HANDLER = textwrap.dedent("""\
    import signal
    import sys
    import time

    def stop(signum, frame):
        print("stopping", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        time.sleep(0.1)
""")

needs_unshare = pytest.mark.skipif(not imagekit.have("unshare") or os.geteuid() != 0,
                                   reason="needs unshare and root for PID namespaces")


def in111(tmp_path: Path, code: str, python: str = "python3") -> list:
    """IN111 findings for an image that runs `code` as app.py in exec form."""
    (tmp_path / "app.py").write_text(code)
    (tmp_path / "Dockerfile").write_text(f'FROM python:3.12-slim\nCOPY app.py /app.py\nCMD ["{python}", "/app.py"]\n')
    return [f for f in lint.run([str(tmp_path / "Dockerfile")], lint.Options()).findings if f.code == "IN111"]


def run_as_pid1(argv: list) -> subprocess.Popen:
    return subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc"] + argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pid1_of(process: subprocess.Popen) -> int:
    """The host PID of the namespace's PID 1 (unshare's forked child), once it printed "ready"."""
    found: list = []
    imagekit.wait_until(lambda: found.extend(imagekit.children_of(process.pid)) or found, WAIT)
    assert found, "unshare did not fork"
    return found[0]


def stops_on_sigterm(argv: list, ready_marker: str = "ready") -> bool:
    """Start argv as PID 1 of a new PID namespace, send SIGTERM to it, and say whether it exits
    within 2 s (it is SIGKILLed if not, as a runtime does after the grace period)."""
    process = run_as_pid1(argv)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert ready_marker in line, (line, process.stderr.read() if process.poll() is not None else "")
        os.kill(pid1_of(process), signal.SIGTERM)
        try:
            process.wait(2)
            return True
        except subprocess.TimeoutExpired:
            return False
    finally:
        if process.poll() is None:
            for pid in imagekit.children_of(process.pid):
                os.kill(pid, signal.SIGKILL)
            process.wait(WAIT)


@needs_unshare
def test_without_handler_pid1_ignores_sigterm_and_in111_reports_it(tmp_path):
    (tmp_path / "app.py").write_text(WITHOUT_HANDLER)
    assert not stops_on_sigterm([sys.executable, str(tmp_path / "app.py")])
    found = in111(tmp_path, WITHOUT_HANDLER)
    assert len(found) == 1 and "installs no SIGTERM handler" in found[0].message


@needs_unshare
def test_with_handler_pid1_stops_and_in111_is_silent(tmp_path):
    (tmp_path / "app.py").write_text(WITH_HANDLER)
    assert stops_on_sigterm([sys.executable, str(tmp_path / "app.py")])
    assert in111(tmp_path, WITH_HANDLER) == []


@needs_unshare
def test_the_fix_init_in_front_makes_the_app_without_handler_stop(tmp_path):
    (tmp_path / "app.py").write_text(WITHOUT_HANDLER)
    assert stops_on_sigterm([sys.executable, str(INIT), "--", sys.executable, str(tmp_path / "app.py")])


@pytest.mark.slow
def test_real_images_under_runc(tmp_path):
    base = imagekit.require_base_image()
    (tmp_path / "without.py").write_text(WITHOUT_HANDLER)
    (tmp_path / "with.py").write_text(WITH_HANDLER)
    built = []
    try:
        results = {}
        for name in ("without", "with"):
            dockerfile = tmp_path / f"Dockerfile.{name}"
            dockerfile.write_text(f'FROM {base}\nCOPY {name}.py /app.py\nCMD ["python3", "/app.py"]\n')
            codes = [f.code for f in lint.run([str(dockerfile)], lint.Options()).findings]
            image = imagekit.build_image(tmp_path, f"localhost/initify-test-in111:{name}", dockerfile)
            built.append(image)
            verify = subprocess.run([sys.executable, "-m", "initify", "verify", image, "--runtime", "runc",
                                     "--grace", "3", "--startup", "1"], capture_output=True, text=True, timeout=120)
            results[name] = (codes, verify)
        codes, verify = results["without"]
        assert "IN111" in codes
        assert verify.returncode == 1 and "KILLED after the 3 s grace" in verify.stdout, verify.stdout + verify.stderr
        codes, verify = results["with"]
        assert "IN111" not in codes
        assert verify.returncode == 0 and "stopped on its own" in verify.stdout, verify.stdout + verify.stderr
    finally:
        for image in built:
            imagekit.remove_image(image)

"""The shell and init facts initify relies on, measured in real PID namespaces.

`unshare --pid --fork --mount-proc SHELL -c SCRIPT` makes the shell PID 1 of a new PID
namespace, exactly as a container runtime does with `/bin/sh -c`; the test then reads who PID 1
is once the script's command runs. The shells are Debian 12's (dash 0.5.12, bash 5.2, BusyBox
from busybox-static), the ones the cached debootstrap base and the busybox test image ship.
If a shell changes behaviour, these tests fail before the knowledge table lies.
"""

import os
import shutil
import signal
import subprocess
import time

import pytest

from initify.dockerfile import facts as dockerfile_facts
from initify.dockerfile import shell as shell_module
from initify.image import facts as image_facts

SHELLS = {"dash": ["dash"], "bash": ["bash"], "busybox": ["busybox", "sh"]}
SCRIPTS = {  # script -> whether its last command is a plain simple command
    "sleep 60": True,
    "true; sleep 60": True,
    "true && sleep 60": True,
    "cd / && sleep 60": True,
    "sleep 60 | cat": False,
    "(sleep 60)": False,
    "if true; then sleep 60; fi": False,
}


def _usable() -> str:
    for tool in ("unshare", "dash", "bash", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return "" if probe.returncode == 0 else "unshare --pid not permitted here"


pytestmark = pytest.mark.skipif(bool(_usable()), reason=_usable() or "ok")


def _children(pid: int):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def pid1_running(argv, wait_for="sleep", timeout=10.0):
    """Run argv as PID 1 of a new PID namespace; return (comm of PID 1, comms of the namespace)
    once a process named `wait_for` runs in it."""
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", *argv])
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = _children(process.pid)
            if children:
                pid1 = children[0]
                names, todo = [], [pid1]
                while todo:
                    current = todo.pop()
                    names.append(_comm(current))
                    todo.extend(_children(current))
                if wait_for in names:
                    return _comm(pid1), names
            time.sleep(0.05)
        raise AssertionError(f"{argv}: {wait_for} never started")
    finally:
        for child in _children(process.pid):
            os.kill(child, signal.SIGKILL)
        process.wait(timeout=10)


# BusyBox ash also execs a command that ends a subshell or an `if`; initify does not claim that
# (it keeps today's finding there), so it never says "execs" where a shell forks.
BUSYBOX_ALSO_EXECS = {"(sleep 60)", "if true; then sleep 60; fi"}


@pytest.mark.parametrize("flavour", sorted(SHELLS))
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_who_is_pid1_after_sh_c(flavour, script):
    pid1, names = pid1_running(SHELLS[flavour] + ["-c", script])
    execs = pid1 == "sleep"
    plain = SCRIPTS[script]
    claimed = plain and image_facts.EXECS_LAST_COMMAND[flavour]
    expected = claimed or (flavour == "busybox" and script in BUSYBOX_ALSO_EXECS)
    assert execs == expected, (flavour, script, pid1, names)
    # initify draws the same conclusion from the script and the image's shell
    analysis = shell_module.analyse(script)
    assert (dockerfile_facts._plain_tail(analysis, script) is not None) == plain, script
    info = image_facts.ImageInfo("measured", image_facts.TABLE, {"sh": image_facts.Fact(flavour, "measured")})
    chain = dockerfile_facts.build_chain(None, ["/bin/sh", "-c", script], None, True, image=info)
    assert (dockerfile_facts.pid1_of(chain).argv[:1] == ["sleep"]) == claimed, (flavour, script, chain)


def test_every_shell_forks_the_last_command_of_a_script_file(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("true\nsleep 60\n")
    for flavour, argv in SHELLS.items():
        pid1, _ = pid1_running(argv + [str(script)])
        assert pid1 != "sleep", flavour


def _busybox_root(tmp_path):
    """A root file system with only a static BusyBox: /bin/sh and /sbin/init are its applets."""
    busybox = shutil.which("busybox")
    root = tmp_path / "root"
    for folder in ("bin", "sbin", "etc", "proc", "tmp"):
        (root / folder).mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    for applet in ("sh", "sleep"):
        os.symlink("busybox", root / "bin" / applet)
    os.symlink("../bin/busybox", root / "sbin" / "init")
    (root / "etc" / "inittab").write_text("::respawn:/bin/sleep 1000\n")
    return root


def test_busybox_init_stops_on_sigterm_and_ignores_sigrtmin3(tmp_path):
    busybox = shutil.which("busybox")
    if "statically linked" not in subprocess.run(["file", "-L", busybox], capture_output=True, text=True).stdout:
        pytest.skip("busybox is not the static build (install busybox-static)")
    root = _busybox_root(tmp_path)
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", f"--root={root}", "--mount-proc", "/sbin/init"])
    try:
        deadline = time.monotonic() + 10
        init = None
        while time.monotonic() < deadline and init is None:
            children = _children(process.pid)
            if children and _children(children[0]):
                init = children[0]
            time.sleep(0.05)
        assert init is not None, "BusyBox init never started its respawn entry"
        os.kill(init, signal.SIGRTMIN + 3)
        time.sleep(1.5)
        assert process.poll() is None and _comm(init) == "init", "BusyBox init stopped on SIGRTMIN+3"
        os.kill(init, signal.SIGTERM)
        process.wait(timeout=20)  # it runs its shutdown, then reboot(2) ends the PID namespace
    finally:
        if process.poll() is None:
            for child in _children(process.pid):
                os.kill(child, signal.SIGKILL)
            process.wait(timeout=10)
    # ...and initify neither flags it nor adds STOPSIGNAL SIGRTMIN+3 for it (see also test_image_facts_rules)
    info = image_facts.ImageInfo("busybox-root", image_facts.TABLE, {"init": image_facts.Fact("busybox", "measured")})
    chain = dockerfile_facts.build_chain(None, ["/sbin/init"], None, True, image=info)
    assert chain[0].init is not None and chain[0].init.key == "busybox-init"

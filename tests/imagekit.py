"""Real images and containers for tests: debootstrap, buildah, runc.

Plain functions, reusable by any test that needs to build an image and watch a
container start and stop. What the package itself does (OCI bundle from an
image, runc run/kill/wait/delete, scanning a PID namespace) is
``initify.image.runtime``'s; this module adds what only tests need:

- ``have(tool)`` / ``missing_tools(*tools)``: is a tool installed (skip only then).
- ``base_image()``: a cached Debian image with python3-minimal, made with
  debootstrap and imported with buildah; built once, reused across runs.
  ``require_base_image()``: the same in a pytest fixture, skipping when the
  tools to run or make it are missing.
- ``APP`` / ``ENTRYPOINT_SCRIPT``: an app that handles SIGTERM and an
  entrypoint script that traps TERM but never passes it on.
- ``build_image(context, tag)``: ``buildah bud --isolation chroot``.
- ``Container`` / ``run_container(image)``: run an image with runc (no podman),
  ``signal()`` it from outside as a runtime does, ``wait()`` for its exit
  status, ``is_running()``, ``stop_and_time()``, ``remove()``.
- ``zombies_in_pid_namespace(pid)`` (initify.image.runtime's): zombie processes
  that share pid's PID namespace, seen from the host's /proc.

Everything is cached under ``$INITIFY_TEST_CACHE`` (default
``~/.cache/initify-tests``) and guarded by a file lock, so parallel test runs
share one debootstrap.
"""

import fcntl
import os
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from initify.image import runtime

CACHE_DIR = Path(os.environ.get("INITIFY_TEST_CACHE", str(Path.home() / ".cache" / "initify-tests")))
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3-minimal",)
BASE_IMAGE = "localhost/initify-test-base:bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

# What initify.image.runtime already does, under the names the tests use.
image_config = runtime.image_config
processes_in_pid_namespace = runtime.processes_in_pid_namespace
zombies_in_pid_namespace = runtime.zombies_in_pid_namespace
process_state = runtime.process_state
signal_number = runtime.signal_number


# --- tools ----------------------------------------------------------------

def have(tool: str) -> bool:
    """Whether an executable is on PATH (sbin directories included)."""
    try:
        runtime.find_tool(tool)
    except runtime.ToolMissing:
        return False
    return True


def missing_tools(*tools: str) -> List[str]:
    """The tools of the list that are not installed (for pytest.skip)."""
    return [tool for tool in tools if not have(tool)]


def run(args: Sequence[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capture text output, raise with its stderr on failure."""
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(args), result.returncode, result.stdout, result.stderr))
    return result


@contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock on CACHE_DIR/name.lock (other runs wait)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / (name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- base image -------------------------------------------------------------

def debian_mirror() -> str:
    """The Debian mirror apt is configured with (deb.debian.org if none)."""
    candidates = []  # type: List[str]
    sources = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if line.startswith("URIs:"):
                candidates.extend(words[1:])
            elif words[:1] == ["deb"]:
                candidates.extend(w for w in words[1:] if "://" in w)
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    return DEFAULT_MIRROR


def base_rootfs(suite: str = BASE_SUITE, packages: Sequence[str] = BASE_PACKAGES) -> Path:
    """A cached debootstrap (minbase + packages) root file system directory.

    Built once (about 30-60 s) into CACHE_DIR and reused; a ``.complete``
    marker tells a finished tree from an interrupted one.
    """
    name = "rootfs-%s-%s" % (suite, "-".join(packages) or "minbase")
    target = CACHE_DIR / name
    with cache_lock(name):
        if (target / ".complete").exists():
            return target
        if target.exists():
            shutil.rmtree(target)
        args = ["debootstrap", "--variant=minbase"]
        if packages:
            args.append("--include=" + ",".join(packages))
        run(args + [suite, str(target), debian_mirror()], timeout=900)
        (target / ".complete").write_text("ok\n")
    return target


def image_exists(image: str) -> bool:
    """Whether buildah's store has this image."""
    result = subprocess.run(["buildah", "inspect", "--type", "image", image], capture_output=True)
    return result.returncode == 0


def image_from_rootfs(rootfs: Path, image: str) -> str:
    """Commit a root file system directory as an image named image."""
    container = run(["buildah", "from", "scratch"]).stdout.strip()
    try:
        mount = run(["buildah", "mount", container]).stdout.strip()
        run(["cp", "-a", str(rootfs) + "/.", mount])
        marker = Path(mount) / ".complete"
        if marker.exists():
            marker.unlink()
        run(["buildah", "umount", container])
        run(["buildah", "config", "--cmd", "/bin/sh", container])
        run(["buildah", "commit", "--quiet", container, image])
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True)
    return image


def base_image(image: str = BASE_IMAGE) -> str:
    """The cached Debian base image with python3-minimal; its name.

    Made from base_rootfs() the first time, then found in buildah's store.
    """
    with cache_lock("base-image"):
        if not image_exists(image):
            image_from_rootfs(base_rootfs(), image)
    return image


def require_base_image() -> str:
    """base_image() for a pytest fixture: skips when buildah or runc is missing, or
    debootstrap when the base image is not made yet."""
    import pytest  # here: bench/ imports this module without pytest

    missing = missing_tools("buildah", "runc")
    if not missing and not image_exists(BASE_IMAGE):
        missing = missing_tools("debootstrap")
    if missing:
        pytest.skip("not installed: %s" % ", ".join(missing))
    return base_image()


BUSYBOX_IMAGE = "localhost/initify-test-busybox:1"
BASH_SH_IMAGE = "localhost/initify-test-bash-sh:1"


def busybox_image(image: str = BUSYBOX_IMAGE) -> str:
    """An image holding only Debian's static BusyBox: /bin/sh a hard link to it (as the official
    busybox image does), /bin/kill and /sbin/init symlinks to it, CMD ["sh"]."""
    busybox = shutil.which("busybox")
    with cache_lock("busybox-image"):
        if image_exists(image):
            return image
        container = run(["buildah", "from", "scratch"]).stdout.strip()
        try:
            root = Path(run(["buildah", "mount", container]).stdout.strip())
            for folder in ("bin", "sbin", "etc", "tmp"):
                (root / folder).mkdir(exist_ok=True)
            shutil.copy(busybox, root / "bin" / "busybox")
            os.link(root / "bin" / "busybox", root / "bin" / "sh")
            for applet in ("kill", "sleep", "true"):
                os.symlink("busybox", root / "bin" / applet)
            os.symlink("../bin/busybox", root / "sbin" / "init")
            (root / "etc" / "inittab").write_text("::respawn:/bin/sleep 1000\n")
            run(["buildah", "umount", container])
            run(["buildah", "config", "--cmd", "sh", container])
            run(["buildah", "commit", "--quiet", container, image])
        finally:
            subprocess.run(["buildah", "rm", container], capture_output=True)
    return image


def bash_sh_image(image: str = BASH_SH_IMAGE) -> str:
    """The Debian base with /bin/sh -> bash, an ENTRYPOINT and STOPSIGNAL SIGQUIT in its config."""
    base = base_image()
    with cache_lock("bash-sh-image"):
        if image_exists(image):
            return image
        container = run(["buildah", "from", "--pull=never", base]).stdout.strip()
        try:
            root = Path(run(["buildah", "mount", container]).stdout.strip())
            sh = root / "usr" / "bin" / "sh" if (root / "bin").is_symlink() else root / "bin" / "sh"
            sh.unlink()
            os.symlink("bash", sh)
            run(["buildah", "umount", container])
            run(["buildah", "config", "--entrypoint", '["/usr/local/bin/start"]', "--cmd", "serve",
                 "--stop-signal", "SIGQUIT", container])
            run(["buildah", "commit", "--quiet", container, image])
        finally:
            subprocess.run(["buildah", "rm", container], capture_output=True)
    return image


# An app that handles SIGTERM (prints, exits 0); "app: ready" once it listens.
APP = """\
import signal, sys
def stop(number, frame):
    print("app: handled SIGTERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("app: ready", flush=True)
while True:
    signal.pause()
"""

# A common entrypoint script: it traps TERM for its own clean-up but never passes it on, so
# without an init the app (its child) never hears of it; `exec` cannot be added either (the trap
# would be lost).
ENTRYPOINT_SCRIPT = """\
#!/bin/sh
trap 'echo "entrypoint: TERM trapped"' TERM
python3 /app.py
"""


def build_image(context: Path, tag: str, dockerfile: Optional[Path] = None,
                build_args: Optional[Dict[str, str]] = None) -> str:
    """Build context (a directory with a Dockerfile) with buildah; the tag.

    Uses ``--isolation chroot`` and never pulls, so FROM must name a local
    image such as base_image().
    """
    args = ["buildah", "bud", "--isolation", "chroot", "--pull=never", "--quiet", "-t", tag]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", "%s=%s" % (key, value)]
    run(args + [str(context)])
    return tag


def remove_image(image: str) -> None:
    """Delete an image from the store (ignored if absent)."""
    subprocess.run(["buildah", "rmi", "-f", image], capture_output=True)


# --- containers with runc -------------------------------------------------

class Container(runtime.RuncContainer):
    """One runc container run in the foreground by a `runc run` child process.

    initify.image.runtime.RuncContainer makes the bundle, runs, signals, waits and
    removes; this adds what tests want. runc relays the container's exit
    status as its own (128+N when killed by signal N), so wait() gives the
    container's status. Signals are sent with `runc kill`, i.e. to the
    container's PID 1 from outside, as a container runtime does on stop.
    """

    def __init__(self, image: str, args: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None) -> None:
        super().__init__(image, args, env)
        self.id = "initify-test-" + uuid.uuid4().hex[:12]

    def start(self) -> "Container":
        """Create the bundle from the image and start it, without waiting; returns self."""
        self.launch()
        return self

    def state(self) -> str:
        """runc's status for the container: creating, created, running, stopped, or gone."""
        return str(self._state().get("status", "gone"))

    def wait_running(self, timeout: float = 60) -> None:
        """Wait until runc reports the container running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state() == "running":
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("container exited early (%s): %s" % (self.process.returncode, self.output()))
            time.sleep(0.02)
        raise TimeoutError("container %s not running after %s s" % (self.id, timeout))

    def wait_output(self, text: str, timeout: float = 60) -> None:
        """Wait until the container's stdout or stderr contains text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.02)
        if text not in self.output():
            raise TimeoutError("%r not in the container's output: %r" % (text, self.output()))

    def is_running(self) -> bool:
        return not self.exited()

    def signal(self, name: str = "TERM") -> None:
        """Send a signal (name without SIG) to the container's PID 1 with runc kill; raise if runc failed."""
        if not self.kill(name):
            raise RuntimeError("runc kill %s %s failed" % (self.id, name))

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """The container's exit status, or None if still running after timeout (None: no limit)."""
        if timeout is None:
            assert self.process is not None
            self.status = self.process.wait()
            return self.status
        return super().wait(timeout)

    def stop_and_time(self, name: str = "TERM", timeout: float = 60) -> Tuple[Optional[int], float]:
        """Signal the container and wait: (status or None, seconds waited)."""
        started = time.monotonic()
        self.signal(name)
        status = self.wait(timeout)
        return status, time.monotonic() - started


def run_container(image: str, args: Optional[List[str]] = None,
                  env: Optional[Dict[str, str]] = None) -> Container:
    """Start a container; use as ``with run_container(img) as c:`` to clean up."""
    return Container(image, args, env)


# --- processes seen from the host --------------------------------------------
# processes_in_pid_namespace, zombies_in_pid_namespace and process_state are
# initify.image.runtime's (imported above); these are for tests only.

def pid_namespace(pid: int) -> str:
    """The PID namespace id of a process (readlink /proc/PID/ns/pid)."""
    return os.readlink("/proc/%d/ns/pid" % pid)


def namespace_pid(pid: int) -> int:
    """A host process's pid inside its own (innermost) PID namespace (NSpid)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    return pid


def children_of(pid: int) -> List[int]:
    """Direct children of a host process (from /proc/PID/task/*/children)."""
    found = []  # type: List[int]
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                found.extend(int(word) for word in handle.read().split())
    except OSError:
        pass
    return found


def wait_until(predicate, timeout: float = 30, interval: float = 0.01) -> bool:
    """Call predicate until it is true or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return bool(value)
        time.sleep(interval)


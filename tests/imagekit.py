"""Real images and containers for tests: debootstrap, buildah, runc.

Plain functions, reusable by any test that needs to build an image and watch a
container start and stop:

- ``have(tool)`` / ``missing_tools(*tools)``: is a tool installed (skip only then).
- ``base_image()``: a cached Debian image with python3-minimal, made with
  debootstrap and imported with buildah; built once, reused across runs.
- ``build_image(context, tag)``: ``buildah bud --isolation chroot``.
- ``Container`` / ``run_container(image)``: run an image with runc (no podman),
  ``signal()`` it from outside as a runtime does, ``wait()`` for its exit
  status, ``is_running()``, ``stop_and_time()``, ``remove()``.
- ``zombies_in_pid_namespace(pid)``: zombie processes that share pid's PID
  namespace, seen from the host's /proc.

Everything is cached under ``$INITIFY_TEST_CACHE`` (default
``~/.cache/initify-tests``) and guarded by a file lock, so parallel test runs
share one debootstrap.
"""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

CACHE_DIR = Path(os.environ.get("INITIFY_TEST_CACHE", str(Path.home() / ".cache" / "initify-tests")))
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3-minimal",)
BASE_IMAGE = "localhost/initify-test-base:bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


# --- tools ----------------------------------------------------------------

def have(tool: str) -> bool:
    """Whether an executable is on PATH (sbin directories included)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
    return shutil.which(tool, path=path) is not None


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


def image_config(image: str) -> dict:
    """The OCI config of an image: Entrypoint, Cmd, Env, WorkingDir, StopSignal..."""
    text = run(["buildah", "inspect", "--type", "image", image]).stdout
    return json.loads(text).get("OCIv1", {}).get("config") or {}


# --- containers with runc -------------------------------------------------

class Container(object):
    """One runc container run in the foreground by a `runc run` child process.

    runc relays the container's exit status as its own (128+N when killed
    by signal N), so wait() gives the container's status. Signals are sent
    with `runc kill`, i.e. to the container's PID 1 from outside, as a
    container runtime does on stop.
    """

    def __init__(self, image: str, args: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None) -> None:
        self.image = image
        self.id = "initify-test-" + uuid.uuid4().hex[:12]
        self.bundle = Path(tempfile.mkdtemp(prefix="initify-bundle-"))
        self.work = None  # type: Optional[str]
        self.process = None  # type: Optional[subprocess.Popen]
        self.status = None  # type: Optional[int]
        self.stdout_path = self.bundle / "stdout"
        self.stderr_path = self.bundle / "stderr"
        self.args = args
        self.env = env or {}

    def start(self) -> "Container":
        """Create the bundle from the image and start it; returns self."""
        config = image_config(self.image)
        self.work = run(["buildah", "from", "--pull=never", self.image]).stdout.strip()
        rootfs = run(["buildah", "mount", self.work]).stdout.strip()
        run(["runc", "spec", "--bundle", str(self.bundle)])
        spec_path = self.bundle / "config.json"
        spec = json.loads(spec_path.read_text())
        args = self.args or (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
        env = list(config.get("Env") or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        env += ["%s=%s" % item for item in self.env.items()]
        spec["process"].update(args=args, terminal=False, env=env, cwd=config.get("WorkingDir") or "/")
        spec["root"] = {"path": rootfs, "readonly": False}
        spec_path.write_text(json.dumps(spec))
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(["runc", "run", "--bundle", str(self.bundle), self.id],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        return self

    def state(self) -> str:
        """runc's status for the container: creating, created, running, stopped, or gone."""
        result = subprocess.run(["runc", "state", self.id], capture_output=True, text=True)
        if result.returncode != 0:
            return "gone"
        return json.loads(result.stdout).get("status", "gone")

    def pid(self) -> int:
        """The host pid of the container's PID 1 (0 when not running)."""
        result = subprocess.run(["runc", "state", self.id], capture_output=True, text=True)
        if result.returncode != 0:
            return 0
        return int(json.loads(result.stdout).get("pid", 0))

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
        return self.process is not None and self.process.poll() is None

    def signal(self, name: str = "TERM") -> None:
        """Send a signal (name without SIG) to the container's PID 1 with runc kill."""
        run(["runc", "kill", self.id, name], timeout=30)

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """The container's exit status, or None if still running after timeout."""
        assert self.process is not None
        try:
            self.status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.status

    def stop_and_time(self, name: str = "TERM", timeout: float = 60) -> Tuple[Optional[int], float]:
        """Signal the container and wait: (status or None, seconds waited)."""
        started = time.monotonic()
        self.signal(name)
        status = self.wait(timeout)
        return status, time.monotonic() - started

    def output(self) -> str:
        """What the container wrote to stdout and stderr so far."""
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def remove(self) -> None:
        """Kill and delete the container, its working copy and bundle."""
        subprocess.run(["runc", "delete", "-f", self.id], capture_output=True)
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.work:
            subprocess.run(["buildah", "umount", self.work], capture_output=True)
            subprocess.run(["buildah", "rm", self.work], capture_output=True)
        shutil.rmtree(self.bundle, ignore_errors=True)

    def __enter__(self) -> "Container":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()


def run_container(image: str, args: Optional[List[str]] = None,
                  env: Optional[Dict[str, str]] = None) -> Container:
    """Start a container; use as ``with run_container(img) as c:`` to clean up."""
    return Container(image, args, env)


# --- processes seen from the host --------------------------------------------

def pid_namespace(pid: int) -> str:
    """The PID namespace id of a process (readlink /proc/PID/ns/pid)."""
    return os.readlink("/proc/%d/ns/pid" % pid)


def processes_in_pid_namespace(pid: int) -> Dict[int, str]:
    """Host pid -> state letter (R, S, Z, T...) of every process in pid's PID namespace."""
    namespace = pid_namespace(pid)
    found = {}  # type: Dict[int, str]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/ns/pid" % entry) != namespace:
                continue
            with open("/proc/%s/stat" % entry) as stat:
                found[int(entry)] = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
    return found


def zombies_in_pid_namespace(pid: int) -> List[int]:
    """Host pids of the zombies in pid's PID namespace."""
    return [p for p, state in processes_in_pid_namespace(pid).items() if state == "Z"]


def process_state(pid: int) -> str:
    """The state letter of a host process, or '' when it no longer exists."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


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


def signal_number(name: str) -> int:
    """TERM or SIGTERM as a number."""
    name = name.upper()
    return int(getattr(signal, name if name.startswith("SIG") else "SIG" + name))

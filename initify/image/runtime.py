"""Images and containers on real tools: buildah for images, runc (or podman) for containers.

- `find_tool(name)`: the executable, or `ToolMissing` naming the Debian package to install.
- `image_config(image)`: the OCI config (Entrypoint, Cmd, Env, WorkingDir, StopSignal...).
- `RuncContainer`: an OCI bundle made from the image (`buildah from` + `buildah mount` as its
  root file system), run in the foreground by a `runc run` child; signals and `exec` go through
  runc, as a container runtime does on stop.
- `PodmanContainer`: the same interface on `podman run -d`.
- `zombies_in_pid_namespace(pid)`: zombies sharing a process's PID namespace, seen from /proc.

Every command is run with an argument list, never through a shell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from initify.knowledge import signals
from initify.errors import InputError

PACKAGES: Dict[str, str] = {"buildah": "buildah", "podman": "podman", "runc": "runc"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ToolMissing(Exception):
    """A container tool is not installed."""

    def __init__(self, tool: str) -> None:
        super().__init__(tool)
        self.tool = tool

    def __str__(self) -> str:
        return f"{self.tool} not found: install the {PACKAGES.get(self.tool, self.tool)} package (apt-get install {PACKAGES.get(self.tool, self.tool)})"


class RuntimeFailure(Exception):
    """A container tool failed (its output is in the message)."""


def find_tool(name: str) -> str:
    """The path of an executable on PATH or in the sbin folders; ToolMissing when absent."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
    found = shutil.which(name, path=path)
    if found is None:
        raise ToolMissing(name)
    return found


def run(args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a tool (argument list), capture its output; RuntimeFailure when it fails."""
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
        raise RuntimeFailure(f"{os.path.basename(args[0])} {args[1]} failed ({result.returncode}): {last[0]}")
    return result


def signal_number(name: str) -> int:
    """A signal written any way runtimes accept (TERM, SIGTERM, 15, SIGRTMIN+3) as a number."""
    number = signals.number_of(name)
    if number is None:
        raise ValueError(f"not a signal: {name!r}")
    return number


def image_config(image: str) -> Dict[str, object]:
    """The OCI config of a local image; InputError when buildah does not know the image."""
    buildah = find_tool("buildah")
    result = subprocess.run([buildah, "inspect", "--type", "image", image], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise InputError(image, "no such image in the local store (buildah images lists them)")
    data = json.loads(result.stdout)
    return dict((data.get("OCIv1") or {}).get("config") or {})


# --- processes seen from the host ---------------------------------------------------------


def process_state(pid: int) -> str:
    """The state letter (R, S, Z...) of a host process, '' when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def pid_namespace(pid: int) -> str:
    """The PID namespace of a host process (`pid:[4026532...]`), '' when it is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def process_name(pid: int) -> str:
    """The command name of a host process (/proc/PID/comm), '' when it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def processes_in_pid_namespace(pid: int, namespace: str = "") -> Dict[int, str]:
    """Host pid -> state letter of every process in pid's PID namespace (or in `namespace`, which
    outlives its PID 1)."""
    namespace = namespace or pid_namespace(pid)
    if not namespace:
        return {}
    found: Dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != namespace:
                continue
        except OSError:
            continue
        state = process_state(int(entry))
        if state:
            found[int(entry)] = state
    return found


def zombies_in_pid_namespace(pid: int) -> List[int]:
    """Host pids of the zombie processes in pid's PID namespace."""
    return sorted(p for p, state in processes_in_pid_namespace(pid).items() if state == "Z")


# --- containers ------------------------------------------------------------------------------


class Container:
    """What verify needs from a running container; see RuncContainer and PodmanContainer."""

    image: str
    id: str

    def start(self) -> None:
        raise NotImplementedError

    def pid(self) -> int:
        """Host pid of the container's PID 1 (0 when it is not running)."""
        raise NotImplementedError

    def exited(self) -> bool:
        raise NotImplementedError

    def kill(self, signal: str) -> bool:
        """Send a signal to PID 1; whether the runtime did."""
        raise NotImplementedError

    exec_output = ""  # what the last exec (and the runtime running it) printed

    def exec(self, argv: List[str], timeout: float) -> Optional[int]:
        """Run argv inside the container; its exit status, None when it ran past timeout."""
        raise NotImplementedError

    def wait(self, timeout: float) -> Optional[int]:
        """The exit status, or None when still running after timeout seconds."""
        raise NotImplementedError

    def output(self) -> str:
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Container":
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class RuncContainer(Container):
    """An OCI bundle made from a local image, run in the foreground by `runc run`.

    `runc run` relays the container's exit status (128+N when killed by signal N) and deletes
    the container when PID 1 exits; remove() also deletes the buildah working container and the
    bundle folder.
    """

    def __init__(self, image: str, args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None) -> None:
        self.image = image
        self.args = args
        self.extra_env = dict(env or {})
        self.id = "initify-" + uuid.uuid4().hex[:12]
        self.runc = find_tool("runc")
        self.buildah = find_tool("buildah")
        self.bundle: Optional[Path] = None
        self.work: Optional[str] = None
        self.process: Optional[subprocess.Popen] = None
        self.status: Optional[int] = None

    def start(self) -> None:
        self.launch()
        deadline = time.monotonic() + 60
        while self.pid() == 0:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeFailure(f"the container exited at once ({self.process.returncode}): {self.output().strip()[-300:]}")
            if time.monotonic() > deadline:
                raise RuntimeFailure("the container did not start within 60 s")
            time.sleep(0.02)

    def launch(self) -> None:
        """Make the bundle (the image's root file system and config, env added) and start `runc run`."""
        config = image_config(self.image)
        self.bundle = Path(tempfile.mkdtemp(prefix="initify-verify-bundle-"))
        self.work = run([self.buildah, "from", "--pull=never", "--quiet", self.image]).stdout.strip()
        rootfs = run([self.buildah, "mount", self.work]).stdout.strip()
        run([self.runc, "spec", "--bundle", str(self.bundle)])
        spec_path = self.bundle / "config.json"
        spec = json.loads(spec_path.read_text())
        entrypoint = list(config.get("Entrypoint") or [])  # type: ignore[arg-type]
        cmd = list(config.get("Cmd") or [])  # type: ignore[arg-type]
        args = self.args or entrypoint + cmd
        if not args:
            raise InputError(self.image, "the image has neither Entrypoint nor Cmd")
        env = list(config.get("Env") or ["PATH=" + DEFAULT_PATH])  # type: ignore[arg-type]
        env += [f"{key}={value}" for key, value in self.extra_env.items()]
        spec["process"].update(args=args, terminal=False, env=env, cwd=config.get("WorkingDir") or "/")
        spec["root"] = {"path": rootfs, "readonly": False}
        spec_path.write_text(json.dumps(spec))
        with open(self.bundle / "stdout", "wb") as out, open(self.bundle / "stderr", "wb") as err:
            self.process = subprocess.Popen([self.runc, "run", "--bundle", str(self.bundle), self.id],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)

    def _state(self) -> Dict[str, object]:
        result = subprocess.run([self.runc, "state", self.id], capture_output=True, text=True)
        return json.loads(result.stdout) if result.returncode == 0 else {}

    def pid(self) -> int:
        state = self._state()
        return int(state.get("pid", 0)) if state.get("status") == "running" else 0  # type: ignore[arg-type]

    def exited(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def kill(self, signal: str) -> bool:
        result = subprocess.run([self.runc, "kill", self.id, str(signal_number(signal))], capture_output=True, timeout=30)
        return result.returncode == 0

    def exec(self, argv: List[str], timeout: float) -> Optional[int]:
        """`runc exec`: its status is the command's, or 255 when runc cannot start it (no such
        executable in the image...); what it printed is kept in `exec_output`, not in the
        container's output (the kubelet does not log hooks there either)."""
        assert self.bundle is not None
        process = subprocess.Popen([self.runc, "exec", self.id] + argv, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = process.communicate(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            process.kill()  # the runc client; the process inside dies with the container
            out, _ = process.communicate()
            self.exec_output = out.decode("utf-8", "replace")
            return None
        self.exec_output = out.decode("utf-8", "replace")
        return process.returncode

    def wait(self, timeout: float) -> Optional[int]:
        assert self.process is not None
        try:
            self.status = self.process.wait(max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None
        return self.status

    def output(self) -> str:
        if self.bundle is None:
            return ""
        text = ""
        for name in ("stdout", "stderr"):
            try:
                text += (self.bundle / name).read_text(errors="replace")
            except OSError:
                pass
        return text

    def remove(self) -> None:
        subprocess.run([self.runc, "delete", "-f", self.id], capture_output=True)
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.work:
            subprocess.run([self.buildah, "umount", self.work], capture_output=True)
            subprocess.run([self.buildah, "rm", self.work], capture_output=True)
            self.work = None
        if self.bundle is not None:
            shutil.rmtree(self.bundle, ignore_errors=True)


class PodmanContainer(Container):
    """`podman run -d` of a local image; signals with `podman kill`, hooks with `podman exec`."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.id = "initify-" + uuid.uuid4().hex[:12]
        self.podman = find_tool("podman")
        self.status: Optional[int] = None
        self.created = False

    def start(self) -> None:
        self.created = True
        run([self.podman, "run", "-d", "--pull=never", "--name", self.id, self.image], timeout=120)
        deadline = time.monotonic() + 60
        while self.pid() == 0:
            if self.exited() or time.monotonic() > deadline:
                raise RuntimeFailure(f"the container did not start: {self.output().strip()[-300:]}")
            time.sleep(0.05)

    def _inspect(self, template: str) -> str:
        result = subprocess.run([self.podman, "inspect", "--format", template, self.id], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    def pid(self) -> int:
        text = self._inspect("{{.State.Pid}}")
        return int(text) if text.isdigit() else 0

    def exited(self) -> bool:
        return self._inspect("{{.State.Running}}") != "true"

    def kill(self, signal: str) -> bool:
        result = subprocess.run([self.podman, "kill", "--signal", str(signal_number(signal)), self.id], capture_output=True, timeout=30)
        return result.returncode == 0

    def exec(self, argv: List[str], timeout: float) -> Optional[int]:
        try:
            result = subprocess.run([self.podman, "exec", self.id] + argv, capture_output=True, timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None
        self.exec_output = (result.stdout + result.stderr).decode("utf-8", "replace")
        return result.returncode

    def wait(self, timeout: float) -> Optional[int]:
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        code = self._inspect("{{.State.ExitCode}}")
        self.status = int(code) if code.lstrip("-").isdigit() else None
        return self.status

    def output(self) -> str:
        result = subprocess.run([self.podman, "logs", self.id], capture_output=True, text=True)
        return result.stdout + result.stderr

    def remove(self) -> None:
        if self.created:
            subprocess.run([self.podman, "rm", "-f", "-t", "0", self.id], capture_output=True)

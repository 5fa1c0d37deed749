"""The samples are valid files, and they really show the stop bugs they are about.

Behaviour tests run a sample's command as PID 1 of a fresh PID namespace (`unshare`, as root),
signal that PID 1 from outside, as a container runtime would, and watch what happens.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dockerfile
import kubernetes_validate
import pytest
import yaml

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KUBERNETES_VERSION = "1.33"
STARTUP_WAIT = 20.0  # seconds for a sample to print that it is ready
STOP_WAIT = 15.0  # seconds for a sample that should stop to do so
STUCK_WAIT = 3.0  # seconds a sample that should not stop is watched for

YAML_FILES = sorted(SAMPLES.rglob("*.yaml"))
DOCKERFILES = sorted(SAMPLES.rglob("Dockerfile"))
SHELL_SCRIPTS = sorted(SAMPLES.rglob("*.sh"))


def relative(path):
    return str(path.relative_to(SAMPLES))


# --- the files are valid ---------------------------------------------------------------------


def test_samples_have_the_expected_files():
    assert [relative(p) for p in YAML_FILES] == [
        "python-shell-form/pod.yaml",
        "systemd-nginx/openshift-pod.yaml",
    ]
    assert len(DOCKERFILES) == 5
    assert [relative(p) for p in SHELL_SCRIPTS] == [
        "entrypoint-no-exec/docker-entrypoint.sh",
        "multi-process/start.sh",
    ]
    for sample in SAMPLES.iterdir():
        if sample.is_dir():
            assert (sample / "README.md").is_file(), sample


@pytest.mark.parametrize("path", YAML_FILES, ids=relative)
def test_yaml_validates_with_kubernetes_validate(path):
    resources = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert resources
    for resource in resources:
        # Raises on a schema error and on an unknown kind or apiVersion.
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("path", DOCKERFILES, ids=relative)
def test_dockerfile_parses_with_buildkit_parser(path):
    commands = dockerfile.parse_file(str(path))
    names = [command.cmd.upper() for command in commands]
    assert "FROM" in names
    assert "CMD" in names


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=relative)
@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_shell_script_syntax(shell, path):
    result = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=relative)
def test_shell_script_is_executable(path):
    assert os.access(path, os.X_OK)


def commands_of(dockerfile_path, name):
    return [c for c in dockerfile.parse_file(str(dockerfile_path)) if c.cmd.upper() == name]


def test_python_shell_form_cmd_is_shell_form():
    [cmd] = commands_of(SAMPLES / "python-shell-form" / "Dockerfile", "CMD")
    assert cmd.json is False
    assert cmd.value == ("python3 app.py",)


def test_systemd_images_have_no_stopsignal():
    for path in [
        SAMPLES / "systemd-nginx" / "Dockerfile",
        SAMPLES / "systemd-nginx" / "systemd-standin" / "Dockerfile",
    ]:
        assert commands_of(path, "STOPSIGNAL") == []


def test_entrypoint_ends_without_exec():
    script = SAMPLES / "entrypoint-no-exec" / "docker-entrypoint.sh"
    code_lines = [
        line.strip()
        for line in script.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert code_lines[-1] == '"$@"'


# --- running a sample as PID 1 -------------------------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to make a PID namespace",
)


def parent_pid_of(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces; the fields after it are plain.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1])


def children_of(pid):
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if parent_pid_of(entry.name) == pid:
                children.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return children


def namespace_pids(pid):
    """The NSpid line: this process's PID in each namespace, outermost first."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return [int(n) for n in line.split()[1:]]
    raise AssertionError(f"no NSpid line for {pid}")


def process_name(pid):
    return Path(f"/proc/{pid}/comm").read_text().strip()


class Pid1Run:
    """A command run as PID 1 of a new PID namespace, its output going to a file."""

    def __init__(self, argv, cwd, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "w")
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.unshare = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", *argv],
            cwd=cwd,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.pid1 = self.find_pid1()

    def find_pid1(self):
        deadline = time.monotonic() + STARTUP_WAIT
        while time.monotonic() < deadline:
            children = children_of(self.unshare.pid)
            if children:
                return children[0]
            time.sleep(0.05)
        raise AssertionError("unshare started no child")

    def output(self):
        return self.log_path.read_text()

    def wait_for_output(self, text):
        deadline = time.monotonic() + STARTUP_WAIT
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.unshare.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"never printed {text!r}; output:\n{self.output()}")

    def send(self, signum):
        os.kill(self.pid1, signum)

    def wait_for_exit(self, timeout):
        """The exit status, or None if it is still running after timeout seconds."""
        try:
            return self.unshare.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def still_alive_after(self, seconds):
        return self.wait_for_exit(seconds) is None and Path(f"/proc/{self.pid1}").exists()

    def kill(self):
        if self.unshare.poll() is None:
            try:
                os.kill(self.pid1, signal.SIGKILL)  # takes the whole namespace with it
            except ProcessLookupError:
                pass
            try:
                self.unshare.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.unshare.kill()
                self.unshare.wait()
        self.log.close()


@pytest.fixture
def run_as_pid1(tmp_path):
    runs = []

    def start(argv, cwd, env=None):
        run = Pid1Run(argv, cwd, tmp_path / f"output-{len(runs)}.log", env=env)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()


def assert_ignores_sigterm(run, clean_line):
    run.send(signal.SIGTERM)
    assert run.still_alive_after(STUCK_WAIT), run.output()
    assert clean_line not in run.output()
    run.send(signal.SIGKILL)
    assert run.wait_for_exit(STOP_WAIT) is not None


def assert_stops_cleanly(run, signum, clean_line):
    run.send(signum)
    assert run.wait_for_exit(STOP_WAIT) == 0, run.output()
    assert clean_line in run.output()


@needs_root
def test_shell_form_cmd_as_pid1_ignores_sigterm(run_as_pid1):
    sample = SAMPLES / "python-shell-form"
    run = run_as_pid1(["/bin/sh", "-c", "python3 app.py"], cwd=sample)
    run.wait_for_output("worker: started")
    # The shell is PID 1 in the namespace, and python3 is only its child.
    assert namespace_pids(run.pid1)[-1] == 1
    assert process_name(run.pid1) == "sh"
    assert [process_name(pid) for pid in children_of(run.pid1)] == ["python3"]
    assert_ignores_sigterm(run, "worker: shutting down cleanly")


@needs_root
def test_exec_form_cmd_as_pid1_stops_cleanly(run_as_pid1):
    sample = SAMPLES / "python-shell-form"
    run = run_as_pid1(["python3", "app.py"], cwd=sample)
    run.wait_for_output("worker: started")
    assert namespace_pids(run.pid1)[-1] == 1
    assert_stops_cleanly(run, signal.SIGTERM, "worker: shutting down cleanly")


def test_sigrtmin_plus_3_is_what_kill_sends():
    # The number a preStop hook's `kill -RTMIN+3 1` sends is the one Python calls SIGRTMIN + 3.
    result = subprocess.run(
        ["bash", "-c", "kill -l RTMIN+3"], capture_output=True, text=True, check=True
    )
    assert int(result.stdout) == signal.SIGRTMIN + 3


@needs_root
def test_systemd_standin_ignores_sigterm(run_as_pid1):
    sample = SAMPLES / "systemd-nginx" / "systemd-standin"
    run = run_as_pid1(["python3", "standin.py"], cwd=sample)
    run.wait_for_output(f"power-off signal is {int(signal.SIGRTMIN + 3)}")
    assert namespace_pids(run.pid1)[-1] == 1
    assert_ignores_sigterm(run, "shutting down cleanly")
    assert "SIGTERM: ignored, systemd would re-execute itself" in run.output()


@needs_root
def test_systemd_standin_stops_on_sigrtmin_plus_3(run_as_pid1):
    sample = SAMPLES / "systemd-nginx" / "systemd-standin"
    run = run_as_pid1(["python3", "standin.py"], cwd=sample)
    run.wait_for_output("power-off signal is")
    run.send(signal.SIGTERM)
    assert run.still_alive_after(1.0)
    assert_stops_cleanly(run, signal.SIGRTMIN + 3, "shutting down cleanly")


@needs_root
def test_entrypoint_without_exec_ignores_sigterm(run_as_pid1, tmp_path):
    sample = SAMPLES / "entrypoint-no-exec"
    env = {"WORKER_CONFIG_DIR": str(tmp_path / "config")}
    run = run_as_pid1(["./docker-entrypoint.sh", "python3", "worker.py"], cwd=sample, env=env)
    run.wait_for_output("worker: consuming queue 'default'")
    assert (tmp_path / "config" / "worker.ini").is_file()
    assert process_name(run.pid1) == "docker-entrypoi"  # comm is cut to 15 characters
    assert_ignores_sigterm(run, "worker: shutting down cleanly")


@needs_root
def test_entrypoint_with_exec_stops_cleanly(run_as_pid1, tmp_path):
    # The same script with the one-word fix: the worker replaces the shell as PID 1.
    sample = tmp_path / "fixed"
    shutil.copytree(SAMPLES / "entrypoint-no-exec", sample)
    script = sample / "docker-entrypoint.sh"
    text = script.read_text()
    assert text.endswith('\n"$@"\n')
    script.write_text(text[: -len('"$@"\n')] + 'exec "$@"\n')
    env = {"WORKER_CONFIG_DIR": str(tmp_path / "config")}
    run = run_as_pid1(["./docker-entrypoint.sh", "--queue", "emails"], cwd=sample, env=env)
    run.wait_for_output("worker: consuming queue 'emails'")
    assert_stops_cleanly(run, signal.SIGTERM, "worker: shutting down cleanly")


@needs_root
def test_multi_process_script_as_pid1_ignores_sigterm(run_as_pid1, tmp_path):
    sample = SAMPLES / "multi-process"
    env = {"PORT": "0", "SPOOL_DIR": str(tmp_path / "spool")}
    # start.sh does `cd /app`; run a copy that stays in the sample folder instead.
    script = tmp_path / "start.sh"
    script.write_text((sample / "start.sh").read_text().replace("cd /app", f"cd '{sample}'"))
    script.chmod(0o755)
    run = run_as_pid1([str(script)], cwd=sample, env=env)
    run.wait_for_output("web: listening on port")
    run.wait_for_output("job: pass done")
    assert sorted(process_name(pid) for pid in children_of(run.pid1)) == ["python3", "python3"]
    run.send(signal.SIGTERM)
    assert run.still_alive_after(STUCK_WAIT), run.output()
    assert "shutting down cleanly" not in run.output()

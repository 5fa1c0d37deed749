"""`initify verify` on real images (debootstrap base, buildah) and real containers (runc).

Each image is stopped the way docker would (image STOPSIGNAL, SIGKILL after the grace); the
"killed" cases use a 3 s grace to keep the run short.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.clirun import initify

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
GRACE = "3"

# Exits with the number of the signal it got (the kernel drops unhandled signals to PID 1).
REPORTER = textwrap.dedent("""\
    import signal, sys, time
    for number in (signal.SIGTERM, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(number, lambda n, f: sys.exit(n))
    while True:
        time.sleep(0.1)
""")

# PID 1 handles SIGTERM but never reaps: one child exits and stays a zombie.
ZOMBIE_MAKER = textwrap.dedent("""\
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, lambda n, f: sys.exit(0))
    if os.fork() == 0:
        os._exit(0)
    print("ready", flush=True)
    while True:
        time.sleep(0.1)
""")


# PID 1 starts a worker, and on SIGTERM exits at once, leaving the worker to the namespace's end.
ABANDONER = textwrap.dedent("""\
    import signal, subprocess, sys, time
    worker = subprocess.Popen(["sleep", "1000"])
    signal.signal(signal.SIGTERM, lambda n, f: sys.exit(0))
    print("abandoner: started sleep", flush=True)
    while True:
        time.sleep(0.1)
""")

# PID 1 forwards SIGTERM to its worker, waits for it, then exits: every process ends by itself.
FORWARDER = textwrap.dedent("""\
    import signal, subprocess, sys, time
    worker = subprocess.Popen(["sleep", "1000"])
    def stop(n, f):
        worker.terminate()
        worker.wait()
        print("forwarder: worker stopped", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(0.1)
""")


def live_processes():
    """runc containers and buildah working containers named by initify (to check clean-up)."""
    runc = subprocess.run(["runc", "list", "-q"], capture_output=True, text=True).stdout.split()
    work = subprocess.run(["buildah", "containers", "-q", "--format", "{{.ContainerName}}"], capture_output=True, text=True).stdout.split()
    return [name for name in runc if name.startswith("initify-") and not name.startswith("initify-test-")] + work


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    base = imagekit.require_base_image()
    context = tmp_path_factory.mktemp("verify")
    (context / "app.py").write_text((SAMPLES / "python-shell-form" / "app.py").read_text())
    (context / "zombie.py").write_text(ZOMBIE_MAKER)
    (context / "reporter.py").write_text(REPORTER)
    (context / "abandoner.py").write_text(ABANDONER)
    (context / "forwarder.py").write_text(FORWARDER)
    variants = {
        "abandoner": 'CMD ["python3", "/abandoner.py"]\n',
        "forwarder": 'CMD ["python3", "/forwarder.py"]\n',
        "shell-form": "CMD python3 /app.py\n",
        "exec-form": 'CMD ["python3", "/app.py"]\n',
        "quit-signal": 'STOPSIGNAL SIGQUIT\nCMD ["python3", "/reporter.py"]\n',
        "zombie": 'CMD ["python3", "/zombie.py"]\n',
    }
    built = {}
    try:
        for name, tail in variants.items():
            dockerfile = context / ("Dockerfile." + name)
            dockerfile.write_text("FROM %s\nCOPY app.py zombie.py reporter.py abandoner.py forwarder.py /\n%s" % (base, tail))
            built[name] = imagekit.build_image(context, "localhost/initify-test-verify:" + name, dockerfile)
        yield built
    finally:
        for image in built.values():
            imagekit.remove_image(image)


def test_shell_form_is_killed_after_the_grace(images):
    before = live_processes()
    result = initify("verify", images["shell-form"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "KILLED after the 3 s grace" in result.stdout
    assert "exit status:   137 (SIGKILL)" in result.stdout
    assert live_processes() == before


def test_exec_form_stops_on_sigterm_with_exit_0(images):
    result = initify("verify", images["exec-form"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stop signal:   SIGTERM (default)" in result.stdout
    assert "exit status:   0\n" in result.stdout
    assert "stopped on its own within the 3 s grace" in result.stdout


def test_docker_sends_the_image_stopsignal(images):
    # The reporter exits with the number of the signal it got: 3.
    result = initify("verify", images["quit-signal"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert "stop signal:   SIGQUIT (image STOPSIGNAL)" in result.stdout, result.stderr
    assert "exit status:   3\n" in result.stdout
    assert result.returncode == 0


def test_kubernetes_sends_the_manifest_stop_signal_and_grace(images, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          os: {name: linux}
          terminationGracePeriodSeconds: 3
          containers:
            - name: app
              image: example.com/app:1
              lifecycle:
                stopSignal: SIGUSR1
    """))
    # lifecycle.stopSignal overrides the image's STOPSIGNAL SIGQUIT: the reporter exits 10.
    result = initify("verify", images["quit-signal"], "--runtime", "runc", "--as", "kubernetes", "--manifest", str(manifest), "--startup", "1")
    assert "stop signal:   SIGUSR1 (lifecycle.stopSignal)" in result.stdout, result.stderr
    assert "exit status:   10\n" in result.stdout
    assert "within the 3 s grace" in result.stdout


def test_a_worker_left_to_the_namespace_end_is_not_a_clean_stop(images):
    result = initify("verify", images["abandoner"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "exit status:   0\n" in result.stdout  # PID 1 itself exited 0 in time
    assert "NOT CLEAN: PID 1 exited within the 3 s grace, but 1 other process(es)" in result.stdout
    assert "python3 (PID 1): exited with status 0" in result.stdout
    assert "sleep: killed (SIGKILL) when PID 1 exited and the PID namespace ended" in result.stdout
    assert "  | abandoner: started sleep" in result.stdout  # the container's last output lines


def test_without_exit_events_proc_snapshots_still_catch_the_worker(images):
    """In a network namespace of its own the kernel's process connector is out of reach: verify
    falls back to /proc and says so."""
    result = subprocess.run(["unshare", "--net", sys.executable, "-m", "initify", "verify", images["abandoner"],
                             "--runtime", "runc", "--grace", GRACE, "--startup", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "from /proc snapshots: the kernel's exit events were not available" in result.stdout
    assert "sleep: still running just before PID 1 exited: killed when the PID namespace ended" in result.stdout


def test_a_worker_stopped_by_pid1_before_it_exits_is_clean(images):
    result = initify("verify", images["forwarder"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopped on its own within the 3 s grace" in result.stdout
    assert "sleep: ended by SIGTERM" in result.stdout
    assert "  | forwarder: worker stopped" in result.stdout


def test_processes_still_running_at_the_grace_end_are_listed(images):
    result = initify("verify", images["shell-form"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 1
    assert "(PID 1): still running when the grace ran out: SIGKILLed" in result.stdout, result.stdout


def test_a_pre_stop_command_missing_from_the_image_is_explained(images, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          terminationGracePeriodSeconds: 3
          containers:
            - name: app
              image: example.com/app:1
              lifecycle:
                preStop:
                  exec:
                    command: ["no-such-kill", "-TERM", "1"]
    """))
    result = initify("verify", images["exec-form"], "--runtime", "runc", "--as", "kubernetes", "--manifest", str(manifest), "--startup", "1")
    assert "preStop:       no-such-kill -TERM 1 (exit 255: the command could not be started" in result.stdout, result.stdout + result.stderr
    assert "no-such-kill" in result.stdout.split("could not be started", 1)[1]


def test_zombies_in_the_pid_namespace_are_counted(images):
    result = initify("verify", images["zombie"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zombies:       1 (of 2 processes" in result.stdout
    result = initify("verify", images["exec-form"], "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert "zombies:       0 (of 1 processes" in result.stdout


def test_unknown_image_is_a_one_line_error(images):
    result = initify("verify", "localhost/initify-no-such-image:1", "--runtime", "runc")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("initify: error: localhost/initify-no-such-image:1: no such image")


def test_manifest_needs_kubernetes(images, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - {name: a, image: a}\n")
    result = initify("verify", images["exec-form"], "--manifest", str(manifest))
    assert result.returncode == 2
    assert "--manifest needs --as kubernetes" in result.stderr


# --- the systemd stand-in under --as kubernetes ------------------------------------------------

# util-linux's kill, as every systemd image has one (the debootstrap base has none).
KILL = textwrap.dedent("""\
    #!/usr/bin/python3
    import os, signal, sys
    name, pid = sys.argv[1].lstrip("-").upper(), int(sys.argv[2])
    name = name[3:] if name.startswith("SIG") else name
    if name.isdigit():
        number = int(name)
    elif name.startswith("RTMIN"):
        number = signal.SIGRTMIN + int(name[5:] or 0)
    else:
        number = getattr(signal, "SIG" + name)
    os.kill(pid, number)
""")

POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: nginx-systemd}
    spec:
      terminationGracePeriodSeconds: 3
      containers:
        - name: nginx
          image: registry.example.com/web/nginx-systemd:latest
""")
PRE_STOP = """\
      lifecycle:
        preStop:
          exec:
            command: ["kill", "-RTMIN+3", "1"]
"""


@pytest.fixture(scope="module")
def standin(images, tmp_path_factory):
    context = tmp_path_factory.mktemp("standin")
    sample = SAMPLES / "systemd-nginx" / "systemd-standin"
    (context / "standin.py").write_text((sample / "standin.py").read_text())
    (context / "kill").write_text(KILL)
    (context / "kill").chmod(0o755)
    dockerfile = context / "Dockerfile"
    dockerfile.write_text((sample / "Dockerfile").read_text() + "COPY kill /usr/bin/kill\n")
    image = imagekit.build_image(context, "localhost/initify-test-verify:standin", dockerfile, {"BASE": imagekit.BASE_IMAGE})
    yield image
    imagekit.remove_image(image)


def test_standin_with_the_prestop_stops_cleanly_under_kubernetes(standin, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD + PRE_STOP)
    result = initify("verify", standin, "--runtime", "runc", "--as", "kubernetes", "--manifest", str(manifest), "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preStop:       kill -RTMIN+3 1 (exit 0)" in result.stdout
    assert "exit status:   0\n" in result.stdout


def test_standin_without_the_prestop_is_killed_under_kubernetes(standin, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    result = initify("verify", standin, "--runtime", "runc", "--as", "kubernetes", "--manifest", str(manifest), "--startup", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "KILLED after the 3 s grace" in result.stdout


def test_standin_with_the_prestop_that_initify_fix_writes(standin, tmp_path):
    sample = SAMPLES / "systemd-nginx"
    for name in ("Dockerfile", "openshift-pod.yaml"):
        (tmp_path / name).write_text((sample / name).read_text())
    initify("fix", "--unsafe-fixes", str(tmp_path / "Dockerfile"), str(tmp_path / "openshift-pod.yaml"))
    fixed = (tmp_path / "openshift-pod.yaml").read_text()
    if "preStop" not in fixed:
        pytest.skip("initify fix does not write manifests yet")
    result = initify("verify", standin, "--runtime", "runc", "--as", "kubernetes", "--manifest", str(tmp_path / "openshift-pod.yaml"), "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preStop:       kill -RTMIN+3 1 (exit 0)" in result.stdout

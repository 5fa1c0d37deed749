"""Image facts from a real registry: Debian's docker-registry on 127.0.0.1, images pushed with buildah.

The registry is started by this module (`docker-registry serve CONFIG`, storage in a temporary
folder) and stopped after it. initify asks it with skopeo, `--tls-verify=false` because the
address is loopback, and caches the answers by digest under $XDG_CACHE_HOME; the second run is
made with the registry stopped, so it can only succeed from the cache.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import imagekit  # noqa: E402
from manifest_helpers import workload  # noqa: E402

from initify.image import registry  # noqa: E402

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    missing = imagekit.missing_tools("docker-registry", "skopeo", "buildah", "busybox")
    if missing:
        pytest.skip("not installed: " + ", ".join(missing))
    imagekit.require_base_image()
    folder = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
        "http:\n  addr: 127.0.0.1:%d\n" % (folder / "data", port))
    server = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        host = f"127.0.0.1:{port}"
        sources = {"dash": imagekit.BASE_IMAGE, "busybox": imagekit.busybox_image(), "bash": imagekit.bash_sh_image()}
        refs = {}
        for flavour, image in sources.items():
            ref = f"{host}/initify/{flavour}:1"
            imagekit.run(["buildah", "push", "--quiet", "--tls-verify=false", image, f"docker://{ref}"])
            refs[flavour] = ref
        yield server, refs
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def lint(args, cache, cwd):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    return subprocess.run([sys.executable, "-m", "initify", "lint", *args], capture_output=True, text=True, env=env, cwd=cwd)


def manifest(args, cache, cwd):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    return subprocess.run([sys.executable, "-m", "initify", "manifest", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_dockerfile_from_a_registry_image_inherits_its_config(tmp_path, pushed):
    """(Runs before the test that stops the registry.) `FROM` the bash image in the registry (ENTRYPOINT ["/usr/local/bin/start"], CMD ["serve"],
    STOPSIGNAL SIGQUIT): with `--image-facts registry` the image it builds runs start and stops
    on SIGQUIT, which every runtime sends for it, so its manifest says so and adds no hook; without
    the registry nothing is known of the base."""
    _, refs = pushed
    (tmp_path / "Dockerfile").write_text(f"FROM {refs['bash']}\nRUN true\n")
    args = ["--image", "registry.example.com/app:1", "--kind", "Pod", "Dockerfile"]
    read = manifest(args + ["--image-facts", "registry"], tmp_path / "cache", tmp_path)
    assert read.returncode == 0, read.stderr
    assert f"The base image {refs['bash']} sets STOPSIGNAL SIGQUIT" in read.stdout
    assert "# The runtime sends the image STOPSIGNAL" in read.stdout and "/usr/local/bin/start" in read.stdout
    assert "preStop" not in read.stdout
    blind = manifest(args + ["--image-facts", "local"], tmp_path / "cache", tmp_path)
    assert blind.returncode == 0, blind.stderr
    assert "SIGQUIT" not in blind.stdout and "/usr/local/bin/start" not in blind.stdout


def test_manifests_are_judged_from_registry_images(tmp_path, pushed):
    server, refs = pushed
    cache = tmp_path / "cache"
    pod = workload("Pod", (
        "os:\n  name: linux\n"
        "containers:\n"
        f"- name: shell\n  image: {refs['busybox']}\n  args: [\"sh\", \"-c\", \"while true; do sleep 5; done\"]\n"
        f"- name: quit\n  image: {refs['bash']}\n  lifecycle:\n    stopSignal: SIGTERM\n"
        f"- name: plain\n  image: {refs['dash']}\n  command: [\"sh\", \"-c\", \"cd /srv && python3 app.py\"]\n"
        f"- name: execd\n  image: {refs['busybox']}\n  command: [\"sh\", \"-c\", \"cd /srv && httpd -f\"]\n"))
    (tmp_path / "pod.yaml").write_text(pod)
    first = lint(["--format", "json", "--image-facts", "registry", "--k8s-version", "1.33", "pod.yaml"], cache, tmp_path)
    assert first.returncode == 1, first.stderr
    assert "3 images: 3 from a registry" in first.stderr
    import json

    findings = json.loads(first.stdout)
    by_container = {}
    for finding in findings:
        name = finding["message"].split("'")[1]
        by_container.setdefault(name, []).append((finding["code"], finding["severity"]))
    # busybox has no ENTRYPOINT: args are the whole command, a shell looping as PID 1
    assert ("IN204", "warning") in by_container["shell"] and ("IN206", "warning") in by_container["shell"]
    # the image's own STOPSIGNAL SIGQUIT, read from its config, loses to the pod's SIGTERM
    assert [code for code, _ in by_container["quit"]] == ["IN201"]
    # dash forks: the shell stays PID 1; BusyBox execs httpd: info only
    assert ("IN204", "warning") in by_container["plain"]
    assert by_container["execd"] == [("IN204", "info")]
    quit_message = next(f["message"] for f in findings if "'quit'" in f["message"])
    assert "the image stops on SIGQUIT, but `lifecycle.stopSignal` sends SIGTERM" in quit_message
    # the second run needs no registry: it is stopped, the cache answers
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    second = lint(["--format", "json", "--image-facts", "registry", "--k8s-version", "1.33", "pod.yaml"], cache, tmp_path)
    assert json.loads(second.stdout) == findings, second.stderr
    assert "3 from a registry" in second.stderr and "note" not in second.stderr
    assert len(list((cache / "initify" / "registry").glob("sha256-*.json"))) == 3


def test_local_mode_does_not_ask_the_registry(tmp_path):
    (tmp_path / "pod.yaml").write_text(workload("Pod", "containers:\n- name: a\n  image: 127.0.0.1:1/none/x:1\n"))
    result = lint(["--image-facts", "local", "pod.yaml"], tmp_path / "cache", tmp_path)
    assert "1 unknown" in result.stderr and not (tmp_path / "cache" / "initify").exists()


def test_an_unreachable_registry_is_a_note_not_an_error(tmp_path):
    (tmp_path / "pod.yaml").write_text(workload("Pod", "containers:\n- name: a\n  image: 127.0.0.1:1/none/x:1\n"))
    result = lint(["--image-facts", "registry", "pod.yaml"], tmp_path / "cache", tmp_path)
    assert result.returncode in (0, 1) and "initify: note: 127.0.0.1:1/none/x:1: skopeo inspect" in result.stderr
    assert "1 unknown" in result.stderr


def test_tls_is_only_relaxed_for_loopback():
    assert registry.is_loopback(registry.registry_host("127.0.0.1:5000/a/b:1"))
    assert registry.is_loopback(registry.registry_host("localhost:5000/a:1"))
    assert registry.is_loopback(registry.registry_host("[::1]:5000/a:1"))
    assert not registry.is_loopback(registry.registry_host("registry.example.com/a:1"))
    assert not registry.is_loopback(registry.registry_host("alpine:3.20"))
    assert not registry.is_loopback(registry.registry_host("10.0.0.1:5000/a:1"))


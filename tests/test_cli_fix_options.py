"""`initify fix --image REF=path` and `--stopsignal-field`, through click's runner.

Oracles: the written manifest validates with kubernetes-validate (strict) and `initify lint` of
it, paired the same way, no longer reports IN201."""

from __future__ import annotations

import io
from pathlib import Path

import kubernetes_validate
from click.testing import CliRunner
from ruamel.yaml import YAML

from initify.cli import main
from tests.clirun import invoke

# BusyBox /bin/kill: the preStop runs `kill`. `QUIT` without the SIG prefix is what containerd < 1.6
# cannot parse (CRI-O 1.18 to 1.22.1 send SIGTERM): the pod must send the signal itself.
NGINX = "FROM nginx:1.27-alpine\nSTOPSIGNAL QUIT\n"
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: registry.example.com/web:1
"""


def setup(tmp_path: Path) -> Path:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "Dockerfile").write_text(NGINX)
    (tmp_path / "k8s").mkdir()
    pod = tmp_path / "k8s" / "pod.yaml"  # not beside the Dockerfile: only --image pairs it
    pod.write_text(POD)
    return pod


def loaded(path: Path) -> dict:
    return YAML(typ="safe").load(io.StringIO(path.read_text()))


def test_without_image_the_manifest_is_unpaired_and_unchanged(tmp_path):
    pod = setup(tmp_path)
    result = invoke(["fix", str(pod)])
    assert result.exit_code == 0, result.output
    assert pod.read_text() == POD


def test_image_pairs_and_the_prestop_kill_is_written(tmp_path):
    pod = setup(tmp_path)
    image = f"registry.example.com/web={tmp_path / 'img' / 'Dockerfile'}"
    assert invoke(["lint", "--select", "IN201", "--image", image, str(pod)]).exit_code == 1
    result = invoke(["fix", "--k8s-version", "1.29", "--image", image, str(pod)])
    assert result.exit_code == 0, result.output
    assert "IN201 fixed (preStop kill -QUIT 1)" in result.output
    obj = loaded(pod)
    kubernetes_validate.validate(obj, "1.29", strict=True)
    container = obj["spec"]["containers"][0]
    assert container["lifecycle"] == {"preStop": {"exec": {"command": ["kill", "-QUIT", "1"]}}}
    assert "stopSignal" not in container["lifecycle"]
    relint = invoke(["lint", "--k8s-version", "1.29", "--image", image, str(pod)])
    assert "IN201" not in relint.output and relint.exit_code == 0, relint.output


def test_image_can_be_repeated(tmp_path):
    pod = setup(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\", \"app.py\"]\n")
    result = invoke(["fix", "--diff", "--image", f"registry.example.com/other={tmp_path / 'other' / 'Dockerfile'}",
                     "--image", f"registry.example.com/web={tmp_path / 'img' / 'Dockerfile'}", str(pod)])
    assert result.exit_code == 1 and '["kill", "-QUIT", "1"]' in result.output
    assert pod.read_text() == POD  # --diff writes nothing


def test_stopsignal_field_uses_lifecycle_stop_signal_and_os(tmp_path):
    pod = setup(tmp_path)
    image = f"registry.example.com/web={tmp_path / 'img' / 'Dockerfile'}"
    result = invoke(["fix", "--stopsignal-field", "--k8s-version", "1.33", "--image", image, str(pod)])
    assert result.exit_code == 0, result.output
    obj = loaded(pod)
    kubernetes_validate.validate(obj, "1.33", strict=True)
    assert obj["spec"]["os"] == {"name": "linux"}
    assert obj["spec"]["containers"][0]["lifecycle"] == {"stopSignal": "SIGQUIT"}
    relint = invoke(["lint", "--k8s-version", "1.33", "--image", image, str(pod)])
    assert relint.exit_code == 0, relint.output


def test_stopsignal_field_before_1_33_falls_back_to_prestop(tmp_path):
    pod = setup(tmp_path)
    image = f"registry.example.com/web={tmp_path / 'img' / 'Dockerfile'}"
    result = invoke(["fix", "--stopsignal-field", "--k8s-version", "1.32", "--image", image, str(pod)])
    assert result.exit_code == 0, result.output
    assert loaded(pod)["spec"]["containers"][0]["lifecycle"] == {"preStop": {"exec": {"command": ["kill", "-QUIT", "1"]}}}


def test_bad_image_and_version_are_exit_2_and_write_nothing(tmp_path):
    pod = setup(tmp_path)
    for args in (["--image", "nope"], ["--image", "=x"], ["--k8s-version", "one"],
                 ["--image", f"registry.example.com/web={tmp_path / 'missing'}"]):
        result = CliRunner().invoke(main, ["fix", *args, str(pod)])
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("initify: error: ") and result.output.count("\n") == 1
    assert pod.read_text() == POD

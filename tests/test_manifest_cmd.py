"""`initify manifest`: render a manifest for a Dockerfile's image.

Oracles: every document validates with kubernetes-validate (strict) for the targeted version, and
`initify lint` of the rendered manifest paired with the Dockerfile reports none of the stop rules
(IN201, IN202, IN203, IN205, IN207); a bare manifest for the same images does report them, so
the lint oracle is not empty."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import kubernetes_validate
import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from initify.commands import lint
from initify.cli import main

IMAGES = {
    "python": ('FROM python:3.12-slim\nCOPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n', {"app.py": "print('hi')\n"}),
    "systemd": (
        'FROM fedora:40\nRUN dnf -y install httpd && systemctl enable httpd\nSTOPSIGNAL SIGRTMIN+3\nCMD ["/sbin/init"]\n', {}),
    "nginx": (
        'FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\nSTOPSIGNAL SIGQUIT\nCMD ["nginx", "-g", "daemon off;"]\n',
        {"nginx.conf": "events {}\n"}),
    # nginx on a base that sets no STOPSIGNAL: the runtime would send SIGTERM, a preStop sends SIGQUIT
    "nginx-debian": (
        'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y nginx\nCMD ["nginx", "-g", "daemon off;"]\n', {}),
    "distroless": (
        'FROM gcr.io/distroless/python3-debian12\nCOPY app.py /app/app.py\nENTRYPOINT ["python3", "/app/app.py"]\n',
        {"app.py": "print('hi')\n"}),
}
KINDS = ("Pod", "Deployment", "StatefulSet", "Job")
VERSIONS = ("1.29", "1.33", "1.37")
STOP_RULES = {"IN201", "IN202", "IN203", "IN205", "IN207"}
REF = "registry.example.com/team/app:1.0"


def dockerfile(tmp_path: Path, image: str, text: str = "") -> Path:
    folder = tmp_path / image
    folder.mkdir(exist_ok=True)
    body, context = IMAGES[image] if not text else (text, {})
    for name, content in context.items():
        (folder / name).write_text(content)
    path = folder / "Dockerfile"
    path.write_text(body)
    return path


def render(args: List[str]) -> Result:
    return CliRunner().invoke(main, ["manifest", *args], catch_exceptions=False)


def documents(text: str) -> List[Dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(io.StringIO(text)) if doc is not None]


def validate(text: str, version: str) -> List[Dict[str, Any]]:
    docs = documents(text)
    assert docs, text
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    return docs


def stop_findings(manifest: Path, dockerfile_path: Path, version: str) -> List[Tuple[str, str]]:
    options = lint.Options(images={REF: str(dockerfile_path)}, k8s_version=version)
    result = lint.run([str(manifest)], options)
    return [(f.code, f.message) for f in result.findings if f.code in STOP_RULES]


def pod_spec(doc: Dict[str, Any]) -> Dict[str, Any]:
    return doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]


def workload(docs: List[Dict[str, Any]]) -> Dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] in KINDS]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("image", sorted(IMAGES))
@pytest.mark.parametrize("kind", KINDS)
def test_rendered_manifest_validates_and_lints_clean(tmp_path, kind, image, version):
    path = dockerfile(tmp_path, image)
    result = render([str(path), "--image", REF, "--kind", kind, "--k8s-version", version])
    assert result.exit_code == 0, result.output
    docs = validate(result.stdout, version)
    obj = workload(docs)
    assert obj["kind"] == kind and obj["metadata"]["name"] == "app"
    manifest = tmp_path / "out.yaml"
    manifest.write_text(result.stdout)
    assert stop_findings(manifest, path, version) == []
    spec = pod_spec(obj)
    container = spec["containers"][0]
    assert container["image"] == REF
    if image == "systemd":
        assert spec["terminationGracePeriodSeconds"] >= 100 and container["tty"] is True
        assert container["lifecycle"] == {"preStop": {"exec": {"command": ["kill", "-RTMIN+3", "1"]}}}
    else:
        assert spec["terminationGracePeriodSeconds"] == 30 and "tty" not in container
    if image == "nginx-debian":
        # Debian slim has no /bin/kill, so the shell's builtin kill
        assert container["lifecycle"] == {"preStop": {"exec": {"command": ["/bin/sh", "-c", "kill -QUIT 1"]}}}
    if image == "nginx":
        # STOPSIGNAL SIGQUIT: every containerd and CRI-O since 2017 sends it, no hook
        assert "# The runtime sends the image STOPSIGNAL" in result.stdout
    if image in ("python", "distroless", "nginx"):
        assert "lifecycle" not in container
    if image == "distroless":
        assert "# No preStop exec hook: the base image gcr.io/distroless/python3-debian12 has no shell" in result.stdout
    if kind == "Job":
        assert spec["restartPolicy"] == "OnFailure"


@pytest.mark.parametrize("image, codes", [("systemd", {"IN201", "IN202", "IN205"}), ("nginx", set())])
def test_the_lint_oracle_sees_a_bare_manifest(tmp_path, image, codes):
    """Without what `initify manifest` adds, the same image is reported (nginx's own SIGQUIT
    STOPSIGNAL needs nothing from the pod; nginx without one is IN108 on the Dockerfile)."""
    path = dockerfile(tmp_path, image)
    bare = tmp_path / "bare.yaml"
    bare.write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: {REF}\n")
    assert {code for code, _ in stop_findings(bare, path, "1.33")} == codes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("image", ["systemd", "nginx"])
def test_stopsignal_field_from_1_33(tmp_path, kind, image):
    path = dockerfile(tmp_path, image)
    result = render([str(path), "--image", REF, "--kind", kind, "--k8s-version", "1.33", "--stopsignal-field"])
    assert result.exit_code == 0, result.output
    spec = pod_spec(workload(validate(result.stdout, "1.33")))
    assert spec["os"] == {"name": "linux"}
    signal = "SIGRTMIN+3" if image == "systemd" else "SIGQUIT"
    assert spec["containers"][0]["lifecycle"] == {"stopSignal": signal}
    manifest = tmp_path / "out.yaml"
    manifest.write_text(result.stdout)
    assert stop_findings(manifest, path, "1.33") == []


def test_stopsignal_field_before_1_33_keeps_the_prestop_kill(tmp_path):
    path = dockerfile(tmp_path, "nginx-debian")
    result = render([str(path), "--image", REF, "--k8s-version", "1.32", "--stopsignal-field"])
    spec = pod_spec(workload(validate(result.stdout, "1.32")))
    assert "os" not in spec
    assert spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sh", "-c", "kill -QUIT 1"]


def test_distroless_with_a_stop_signal(tmp_path):
    """No `kill` in the image: from 1.33 lifecycle.stopSignal, before that only a comment (IN201 stays)."""
    # `INT` without the SIG prefix: containerd < 1.6 cannot parse it, so the pod must send it
    text = 'FROM gcr.io/distroless/base-debian12\nCOPY server /server\nSTOPSIGNAL INT\nENTRYPOINT ["/server"]\n'
    path = dockerfile(tmp_path, "distroless", text)
    new = render([str(path), "--image", REF, "--kind", "Pod", "--k8s-version", "1.33"])
    spec = pod_spec(workload(validate(new.stdout, "1.33")))
    assert spec["os"] == {"name": "linux"} and spec["containers"][0]["lifecycle"] == {"stopSignal": "SIGINT"}
    (tmp_path / "new.yaml").write_text(new.stdout)
    assert stop_findings(tmp_path / "new.yaml", path, "1.33") == []
    old = render([str(path), "--image", REF, "--kind", "Pod", "--k8s-version", "1.29"])
    spec = pod_spec(workload(validate(old.stdout, "1.29")))
    assert "lifecycle" not in spec["containers"][0] and "os" not in spec
    assert "# No preStop exec hook: the base image gcr.io/distroless/base-debian12 has no `kill`" in old.stdout
    (tmp_path / "old.yaml").write_text(old.stdout)
    assert [code for code, _ in stop_findings(tmp_path / "old.yaml", path, "1.29")] == ["IN201"]


@pytest.mark.parametrize("kind", KINDS)
def test_openshift_systemd_gets_a_service_account_and_the_oc_command(tmp_path, kind):
    path = dockerfile(tmp_path, "systemd")
    result = render([str(path), "--image", REF, "--kind", kind, "--k8s-version", "1.33", "--openshift", "--name", "web"])
    assert result.exit_code == 0, result.output
    docs = validate(result.stdout, "1.33")
    accounts = [doc for doc in docs if doc["kind"] == "ServiceAccount"]
    assert [doc["metadata"]["name"] for doc in accounts] == ["web-anyuid"]
    spec = pod_spec(workload(docs))
    assert spec["serviceAccountName"] == "web-anyuid" and spec["containers"][0]["tty"] is True
    assert "oc adm policy add-scc-to-user anyuid -z web-anyuid" in result.stdout
    manifest = tmp_path / "out.yaml"
    manifest.write_text(result.stdout)
    assert stop_findings(manifest, path, "1.33") == []
    plain = render([str(path), "--image", REF, "--kind", kind, "--k8s-version", "1.33", "--name", "web"])
    assert "ServiceAccount" not in plain.output and "oc adm" not in plain.output


def test_openshift_without_systemd_adds_no_service_account(tmp_path):
    path = dockerfile(tmp_path, "python")
    result = render([str(path), "--image", REF, "--openshift"])
    docs = validate(result.stdout, "1.33")
    assert [doc["kind"] for doc in docs] == ["Deployment"]
    assert "serviceAccountName" not in pod_spec(docs[0])


def test_default_kind_and_name(tmp_path):
    path = dockerfile(tmp_path, "python")
    result = render([str(path), "--image", "ghcr.io/acme/My_Service:2@sha256:" + "a" * 64])
    obj = workload(validate(result.stdout, "1.33"))
    assert obj["kind"] == "Deployment" and obj["metadata"]["name"] == "my-service"


def test_output_file(tmp_path):
    path = dockerfile(tmp_path, "nginx")
    out = tmp_path / "k8s" / "web.yaml"
    out.parent.mkdir()
    out.write_text("old\n")
    result = render([str(path), "--image", REF, "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    validate(out.read_text(), "1.33")
    assert sorted(p.name for p in out.parent.iterdir()) == ["web.yaml"]  # no temporary file left


@pytest.mark.parametrize("args, message", [
    (["missing/Dockerfile", "--image", REF], "missing/Dockerfile: cannot read"),
    (["{df}", "--image", REF, "--kind", "DaemonSet"], "--kind: unknown kind 'DaemonSet'"),
    (["{df}", "--image", REF, "--k8s-version", "1"], "--k8s-version: Kubernetes version must look like 1.33"),
    (["{df}", "--image", REF, "--name", "Bad_Name"], "--name: 'Bad_Name' is not a valid name"),
    (["{df}", "--image", REF, "--target", "nope"], "no stage named 'nope'"),
    (["{folder}", "--image", REF], "cannot read"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    path = dockerfile(tmp_path, "python")
    args = [arg.format(df=path, folder=tmp_path) for arg in args]
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["manifest", *args, "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith("initify: error: ") and result.output.count("\n") == 1, result.output
    assert message in result.output
    assert not out.exists()


def test_installed_console_script_renders_outside_the_source_tree(tmp_path):
    """The wheel ships the templates (initify/_data/templates)."""
    script = shutil.which("initify", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("initify is not installed into this interpreter's environment")
    dockerfile(tmp_path, "systemd")
    result = subprocess.run([script, "manifest", "systemd/Dockerfile", "--image", REF, "--kind", "StatefulSet",
                             "--k8s-version", "1.33", "--openshift"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    docs = validate(result.stdout, "1.33")
    assert [doc["kind"] for doc in docs] == ["ServiceAccount", "StatefulSet"]

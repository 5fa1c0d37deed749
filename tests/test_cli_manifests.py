"""`initify lint` on Kubernetes manifests and compose files, through the real CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from initify.cli import main
from manifest_helpers import workload, write

SHELL_POD = workload("Pod", 'containers:\n- name: web\n  image: busybox:1.36\n  command: ["sh", "-c", "httpd -f; echo bye"]\n')


def lint(*args):
    return CliRunner().invoke(main, ["lint", *map(str, args)], catch_exceptions=False)


def test_findings_with_line_and_column(tmp_path):
    paths = write(tmp_path, {"pod.yaml": SHELL_POD})
    result = lint("--format", "json", paths["pod.yaml"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [("IN204", 9, 5), ("IN206", 9, 5)]


def test_yaml_syntax_error_is_an_in001_finding_and_exit_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n")
    result = lint(path)
    assert result.exit_code == 2
    assert result.stdout.startswith(f"{path}:5:1: IN001 invalid YAML")


def test_helm_template_is_skipped_with_a_note(tmp_path):
    path = tmp_path / "deployment.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n")
    result = lint(path)
    assert result.exit_code == 0
    assert result.stderr == f"initify: note: {path}: skipped, a Helm template rather than plain YAML\n"


def test_other_yaml_is_skipped_silently(tmp_path):
    write(tmp_path, {
        ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        "service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    })
    result = lint(tmp_path)
    assert result.exit_code == 0 and result.stderr == ""


def test_folder_finds_compose_files(tmp_path):
    write(tmp_path, {"deploy/docker-compose.prod.yml": 'services:\n  web:\n    image: x:1\n    command: sh -c "a; b"\n'})
    result = lint(tmp_path)
    assert result.exit_code == 1 and "IN301" in result.stdout


def test_image_option_pairs(tmp_path):
    paths = write(tmp_path, {
        "app/Dockerfile": 'FROM fedora:40\nSTOPSIGNAL SIGRTMIN+3\nCMD ["/sbin/init"]\n',
        "k8s/pod.yaml": workload("Pod", "containers:\n- name: web\n  image: ghcr.io/acme/web:1\n  tty: true\n"),
    })
    alone = lint(paths["k8s/pod.yaml"])  # no Dockerfile in its folder, the folder linted alone: unpaired
    assert alone.exit_code == 0 and "judged without a Dockerfile (what the image sets is unknown): ghcr.io/acme/web:1" in alone.stderr
    result = lint("--image", f"ghcr.io/acme/web={paths['app/Dockerfile']}", "--select", "IN201", paths["k8s/pod.yaml"])
    assert result.exit_code == 1 and "IN201" in result.stdout


def test_bad_image_and_version_options(tmp_path):
    paths = write(tmp_path, {"pod.yaml": SHELL_POD})
    for args, message in [
        (["--image", "nodockerfile"], "--image needs REF=path/to/Dockerfile"),
        (["--image", f"x={tmp_path / 'missing'}"], "no such Dockerfile"),
        (["--k8s-version", "latest"], "--k8s-version"),
    ]:
        result = lint(*args, paths["pod.yaml"])
        assert result.exit_code == 2, args
        assert result.stderr.startswith("initify: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1

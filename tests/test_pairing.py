"""Pairing manifests and compose services with the Dockerfile their image comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from initify.pairing import parse_ref, ref_matches
from manifest_helpers import found, run, validate_k8s, workload, write

DATA = Path(__file__).parent / "data" / "lint"
TINI = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n'
COMMAND_DROPS_TINI = """
containers:
- name: api
  image: ghcr.io/acme/api:1.0
  command: ["python", "app.py"]
"""


@pytest.mark.parametrize("key, image, expected", [
    ("ghcr.io/acme/api", "ghcr.io/acme/api:1.0", True),
    ("acme/api", "ghcr.io/acme/api:1.0", True),
    ("acme/api:1.0", "ghcr.io/acme/api:1.0", True),
    ("acme/api:2.0", "ghcr.io/acme/api:1.0", False),
    ("quay.io/acme/api", "ghcr.io/acme/api:1.0", False),
    ("nginx", "docker.io/library/nginx:1.27", True),
    ("nginx:latest", "nginx", True),
    ("acme/api", "ghcr.io/acme/api@sha256:" + "0" * 64, True),
    ("localhost:5000/api", "localhost:5000/api:dev", True),
    ("api", "acme/api:1", False),
])
def test_ref_matches(key, image, expected):
    assert ref_matches(key, image) is expected


def test_parse_ref_keeps_port_out_of_the_tag():
    assert parse_ref("localhost:5000/team/api") == parse_ref("localhost:5000/team/api").__class__("localhost:5000", "team/api", None)


def test_fixtures_are_valid_kubernetes():
    manifests = [p for p in DATA.rglob("*.yaml") if "compose" not in p.name]
    assert manifests
    for path in manifests:
        validate_k8s(path.read_text())


def test_single_app_container_pairs_automatically(tmp_path):
    paths = write(tmp_path, {"Dockerfile": TINI, "pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    result = run([paths["Dockerfile"], paths["pod.yaml"]], select=["IN206"])
    assert [f.code for f in result.findings] == ["IN206"]
    assert result.notes == []


def test_without_the_dockerfile_nothing_is_paired(tmp_path):
    paths = write(tmp_path, {"Dockerfile": TINI, "pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    assert run([paths["pod.yaml"]], select=["IN206"]).findings == []


def test_two_application_images_are_ambiguous(tmp_path):
    result = run([str(DATA / "two-apps")], select=["IN206"])
    assert result.findings == []
    assert len(result.notes) == 1 and "ambiguous" in result.notes[0]


def test_explicit_image_resolves_the_ambiguity(tmp_path):
    folder = DATA / "two-apps"
    result = run([str(folder)], images={"acme/api": str(folder / "Dockerfile")}, select=["IN206"])
    assert [(f.code, f.line) for f in result.findings] == [("IN206", 9)]
    assert result.notes == []


def test_explicit_image_need_not_be_linted(tmp_path):
    folder = DATA / "two-apps"
    result = run([str(folder / "pods.yaml")], images={"ghcr.io/acme/api:1.0": str(folder / "Dockerfile")})
    assert found(result) == [("IN206", 9)]


def test_config_images_relative_to_the_config_file(tmp_path):
    paths = write(tmp_path, {
        "pyproject.toml": '[tool.initify]\nimages = { "ghcr.io/acme/api" = "build/Dockerfile" }\n',
        "build/Dockerfile": TINI,
        "deploy/pod.yaml": workload("Pod", COMMAND_DROPS_TINI),
    })
    assert found(run([paths["deploy/pod.yaml"]])) == [("IN206", 9)]


def test_two_dockerfiles_are_ambiguous(tmp_path):
    paths = write(tmp_path, {"a/Dockerfile": TINI, "b/Dockerfile": TINI, "pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    result = run(list(paths.values()), select=["IN206"])
    assert result.findings == [] and len(result.notes) == 1


def test_each_manifest_pairs_with_the_one_dockerfile_beside_it(tmp_path):
    other = workload("Pod", COMMAND_DROPS_TINI.replace("ghcr.io/acme/api", "ghcr.io/acme/worker"), name="worker")
    write(tmp_path, {
        "api/Dockerfile": TINI,
        "api/pod.yaml": workload("Pod", COMMAND_DROPS_TINI),
        "worker/Dockerfile": TINI,
        "worker/pod.yaml": other,
    })
    result = run([str(tmp_path)], select=["IN206"])
    assert sorted((Path(f.path).parent.name, f.code) for f in result.findings) == [("api", "IN206"), ("worker", "IN206")]
    assert result.notes == []


def test_a_folder_with_two_dockerfiles_pairs_nothing_and_says_so(tmp_path):
    paths = write(tmp_path, {
        "app/Dockerfile": TINI,
        "app/Dockerfile.debug": TINI,
        "app/pod.yaml": workload("Pod", COMMAND_DROPS_TINI),
        "other/Dockerfile": TINI,
    })
    result = run([str(tmp_path)], select=["IN206"])
    assert result.findings == []
    assert len(result.notes) == 1 and "ambiguous for 1 manifest" in result.notes[0] and paths["app/pod.yaml"] in result.notes[0]


def test_compose_build_pairs_with_its_own_dockerfile():
    result = run([str(DATA / "systemd-app" / "compose.yaml")])
    assert sorted(found(result, "IN3")) == [("IN302", 4)]  # STOPSIGNAL SIGRTMIN+3 comes from the Dockerfile


def test_folder_pairs_deployment_and_compose_with_the_one_dockerfile():
    result = run([str(DATA / "systemd-app")])
    by_file = sorted((Path(f.path).name, f.code, f.line, f.severity) for f in result.findings)
    assert by_file == [
        ("compose.yaml", "IN302", 4, "warning"),
        ("deployment.yaml", "IN201", 16, "error"),
        ("deployment.yaml", "IN202", 16, "warning"),
        ("deployment.yaml", "IN205", 16, "warning"),
    ]
    assert result.notes == [] and result.files == 3


def test_missing_compose_build_dockerfile_is_a_note(tmp_path):
    paths = write(tmp_path, {"compose.yaml": "services:\n  web:\n    build: ./web\n"})
    result = run([paths["compose.yaml"]])
    assert result.findings == [] and len(result.notes) == 1 and "not paired" in result.notes[0]

"""Pairing manifests and compose services with the Dockerfile their image comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from initify.kubernetes.pairing import parse_ref, ref_matches
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


def test_a_manifest_linted_alone_pairs_with_the_dockerfile_beside_it_on_disk(tmp_path):
    """pre-commit passes only the changed manifest: it is judged as with --all-files."""
    paths = write(tmp_path, {"Dockerfile": TINI, "pod.yaml": workload("Pod", COMMAND_DROPS_TINI)})
    alone = run([paths["pod.yaml"]], select=["IN206"])
    both = run([paths["Dockerfile"], paths["pod.yaml"]], select=["IN206"])
    assert [(f.code, f.line, f.message) for f in alone.findings] == [(f.code, f.line, f.message) for f in both.findings]
    assert [f.code for f in alone.findings] == ["IN206"] and alone.notes == []


def test_without_a_dockerfile_one_note_lists_the_images_judged_alone(tmp_path):
    paths = write(tmp_path, {"pod.yaml": workload("Pod", COMMAND_DROPS_TINI),
                             "other/pod.yaml": workload("Pod", COMMAND_DROPS_TINI.replace("api:1.0", "worker:2"))})
    result = run([str(tmp_path)], select=["IN206"])
    assert result.findings == []
    assert len(result.notes) == 1
    assert "2 image(s) judged without a Dockerfile" in result.notes[0]
    assert "ghcr.io/acme/api:1.0, ghcr.io/acme/worker:2" in result.notes[0]


def test_two_application_images_are_ambiguous(tmp_path):
    result = run([str(DATA / "two-apps")], select=["IN206"])
    assert result.findings == []
    assert len(result.notes) == 1 and "ambiguous" in result.notes[0]


def test_explicit_image_resolves_the_ambiguity(tmp_path):
    folder = DATA / "two-apps"
    result = run([str(folder)], images={"acme/api": str(folder / "Dockerfile")}, select=["IN206"])
    assert [(f.code, f.line) for f in result.findings] == [("IN206", 9)]
    assert len(result.notes) == 1 and "1 image(s) judged without a Dockerfile" in result.notes[0]
    assert "envoyproxy/envoy" in result.notes[0] and "acme/api" not in result.notes[0]


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


# A compose service is analysed as compose builds it: build.target, build.args, build.context.
TWO_STAGES = 'FROM fedora:40 AS machine\nCMD ["/sbin/init"]\n\nFROM python:3.12-slim\nCMD ["python", "app.py"]\n'


@pytest.mark.parametrize("target, codes", [("machine", ["IN302", "IN303"]), (None, [])])
def test_compose_build_target_picks_the_stage(tmp_path, target, codes):
    build = "    build:\n      context: .\n" + (f"      target: {target}\n" if target else "")
    paths = write(tmp_path, {"compose.yaml": "services:\n  app:\n" + build, "Dockerfile": TWO_STAGES})
    result = run([paths["compose.yaml"]])
    assert sorted(code for code, _ in found(result, "IN3")) == codes


def test_compose_build_target_that_does_not_exist_is_a_parse_error(tmp_path):
    text = "services:\n  app:\n    build:\n      context: .\n      target: nope\n"
    paths = write(tmp_path, {"compose.yaml": text, "Dockerfile": TWO_STAGES})
    errors = run([paths["compose.yaml"]]).parse_errors()
    assert [(f.path, f.line) for f in errors] == [(paths["compose.yaml"], 3)]
    assert "no build stage named 'nope'" in errors[0].message


@pytest.mark.parametrize("args, codes", [
    ("      args:\n        STOP: SIGRTMIN+3\n", ["IN302"]),
    ("      args:\n        - STOP=SIGRTMIN+3\n", ["IN302"]),
    ("      args:\n        - STOP\n", ["IN302", "IN303"]),  # from compose's environment: unknown
    ("", ["IN302", "IN303"]),
])
def test_compose_build_args_resolve_the_stopsignal(tmp_path, args, codes):
    dockerfile = 'FROM fedora:40\nARG STOP=SIGTERM\nSTOPSIGNAL $STOP\nCMD ["/sbin/init"]\n'
    text = "services:\n  app:\n    build:\n      context: .\n" + args
    paths = write(tmp_path, {"compose.yaml": text, "Dockerfile": dockerfile})
    assert sorted(code for code, _ in found(run([paths["compose.yaml"]]), "IN3")) == codes


def test_compose_build_context_is_where_scripts_are_read(tmp_path):
    """dockerfile: docker/Dockerfile with context `.`: COPY reads from the context, not from the
    Dockerfile's folder; the script execs systemd, so the service needs SIGRTMIN+3."""
    files = {
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n",
        "docker/Dockerfile": 'FROM fedora:40\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n',
        "entry.sh": "#!/bin/sh\nset -e\nmkdir -p /run/app\nexec /usr/lib/systemd/systemd\n",
    }
    paths = write(tmp_path, files)
    assert sorted(code for code, _ in found(run([paths["compose.yaml"]]), "IN3")) == ["IN302", "IN303"]

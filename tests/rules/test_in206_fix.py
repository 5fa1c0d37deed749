"""IN206's fix: `command` starts with the paired image's init (tini, dumb-init, or the
initify-init that `initify fix` injects into the Dockerfile in the same run).

Oracles: the fixed manifest validates with kubernetes-validate (strict), re-linting (paired with
the Dockerfile as fixed) shows no IN206, a second fix changes nothing, and lines the fix did not
touch keep their bytes."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, workload  # noqa: E402

from initify.commands import fix  # noqa: E402
from initify.commands import lint

REF = "registry.example.com/app"
TINI = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n'
CONTAINER = "containers:\n- name: app\n  image: registry.example.com/app:1\n  command: {command}\n"


def write(folder: Path, files: Dict[str, str]) -> List[Path]:
    paths = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if not name.endswith(".sh"):
            paths.append(path)
    return paths


def first_container(text: str) -> Dict:
    doc = YAML(typ="safe").load(io.StringIO(text))
    kubernetes_validate.validate(doc, "1.33", strict=True)
    spec = doc
    while "containers" not in spec:
        spec = spec["spec"] if "spec" in spec else spec.get("template") or spec["jobTemplate"]
    return spec["containers"][0]


def codes(paths: Sequence[Path], select: List[str]) -> List[str]:
    result = lint.run([str(p) for p in paths], lint.Options(select=select, k8s_version="1.33"))
    return sorted(f.code for f in result.findings)


def fixed(tmp_path: Path, files: Dict[str, str], select: List[str], **options) -> Tuple[str, fix.Plan]:
    """Fix every file; check validation, re-lint and idempotence; return the manifest and plan."""
    paths = write(tmp_path, files)
    result = fix.plan([str(p) for p in paths], fix.FixOptions(select=select, k8s_version="1.33", **options))
    fix.write(result)
    text = (tmp_path / "app.yaml").read_text()
    first_container(text)
    assert "IN206" not in codes(paths, select)
    again = fix.plan([str(p) for p in paths], fix.FixOptions(select=select, k8s_version="1.33", **options))
    assert again.changed() == [], "a second fix changed something"
    return text, result


def in206(plan: fix.Plan) -> List[fix.Applied]:
    return [a for a in plan.applied if a.finding.code == "IN206"]


@pytest.mark.parametrize("kind", WORKLOADS)
def test_command_that_drops_tini_gets_it_back(tmp_path, kind):
    original = workload(kind, CONTAINER.format(command='["python", "app.py"]  # the app'))
    text, plan = fixed(tmp_path, {"Dockerfile": TINI, "app.yaml": original}, ["IN206"])
    assert first_container(text)["command"] == ["tini", "--", "python", "app.py"]
    [applied] = in206(plan)
    assert applied.fix.safe and applied.fix.note.startswith("command starts with tini --")
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines()) if a != b]
    assert changed == [(line, line.replace('["python"', '["tini", "--", "python"')) for line, _ in changed]
    assert len(changed) == 1 and changed[0][1].endswith("  # the app")


@pytest.mark.parametrize("command", ['["npm", "start"]', '["sh", "-c", "python app.py; echo done"]', '["bash"]'])
def test_shell_or_launcher_command_gets_the_images_init(tmp_path, command):
    original = workload("Deployment", CONTAINER.format(command=command))
    text, plan = fixed(tmp_path, {"Dockerfile": 'FROM node:22\nENTRYPOINT ["dumb-init", "--"]\nCMD ["node", "server.js"]\n',
                                  "app.yaml": original}, ["IN206"])
    assert first_container(text)["command"][:2] == ["dumb-init", "--"]
    assert first_container(text)["command"][2:] == YAML(typ="safe").load(command)
    assert [a.fix.safe for a in in206(plan)] == [True]


def test_block_sequence_keeps_comments_and_style(tmp_path):
    original = workload("Pod", """
        containers:
        - name: app
          image: registry.example.com/app:1
          command:
          # run the app directly
          - python
          - app.py
        """)
    text, _ = fixed(tmp_path, {"Dockerfile": TINI, "app.yaml": original}, ["IN206"])
    assert "  # run the app directly\n    - tini\n    - --\n    - python\n    - app.py\n" in text
    assert text.replace("    - tini\n    - --\n", "") == original


def test_init_injected_in_the_same_run_is_an_unsafe_fix(tmp_path):
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n',
        # Ends in `wait`: no `exec` can take the shell out of PID 1, only an init helps.
        "start.sh": "#!/bin/sh\npython worker.py &\npython app.py &\nwait\n",
        "app.yaml": workload("Pod", CONTAINER.format(command='["/start.sh"]')),
    }
    paths = write(tmp_path, files)
    safe_only = fix.plan([str(p) for p in paths], fix.FixOptions(select=["IN106", "IN206"], k8s_version="1.33"))
    assert safe_only.changed() == [] and sorted(f.code for f in safe_only.remaining) == ["IN106", "IN206"]
    text, plan = fixed(tmp_path, files, ["IN106", "IN206"], unsafe_fixes=True)
    assert first_container(text)["command"] == ["/usr/local/bin/initify-init", "--", "/start.sh"]
    assert 'ENTRYPOINT ["/usr/local/bin/initify-init", "--"]' in (tmp_path / "Dockerfile").read_text()
    [applied] = in206(plan)
    assert not applied.fix.safe and "rebuild it first" in applied.fix.note
    assert codes(paths, ["IN106", "IN206"]) == []


def test_init_already_on_disk_stays_safe_when_the_dockerfile_gets_other_fixes(tmp_path):
    """The same run adds STOPSIGNAL SIGQUIT (IN108): the init was there before, so it is certain."""
    dockerfile = 'FROM debian:12\nENTRYPOINT ["tini", "--"]\nCMD ["nginx", "-g", "daemon off;"]\n'
    original = workload("Pod", CONTAINER.format(command='["nginx", "-g", "daemon off;"]'))
    text, plan = fixed(tmp_path, {"Dockerfile": dockerfile, "app.yaml": original}, ["IN108", "IN206"])
    assert "STOPSIGNAL SIGQUIT" in (tmp_path / "Dockerfile").read_text()
    assert first_container(text)["command"] == ["tini", "--", "nginx", "-g", "daemon off;"]
    assert [a.fix.safe for a in in206(plan)] == [True]


def test_init_with_options_of_its_own_is_unsafe(tmp_path):
    dockerfile = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "-g", "--"]\nCMD ["python", "app.py"]\n'
    files = {"Dockerfile": dockerfile, "app.yaml": workload("Pod", CONTAINER.format(command='["python", "app.py"]'))}
    paths = write(tmp_path, files)
    plan = fix.plan([str(p) for p in paths], fix.FixOptions(select=["IN206"], k8s_version="1.33"))
    assert plan.changed() == [] and [f.code for f in plan.remaining] == ["IN206"]
    text, plan = fixed(tmp_path, files, ["IN206"], unsafe_fixes=True)
    assert first_container(text)["command"] == ["tini", "-g", "--", "python", "app.py"]


def test_unpaired_or_without_an_init_in_the_image_there_is_no_fix(tmp_path):
    manifest = workload("Pod", CONTAINER.format(command='["npm", "start"]'))
    paths = write(tmp_path, {"app.yaml": manifest})
    [finding] = lint.run([str(paths[0])], lint.Options(select=["IN206"])).findings
    assert not finding.fixable and finding.fix is None
    paths = write(tmp_path, {"Dockerfile": 'FROM node:22\nCMD ["node", "server.js"]\n', "app.yaml": manifest})
    plan = fix.plan([str(p) for p in paths], fix.FixOptions(select=["IN206"], unsafe_fixes=True))
    assert plan.changed() == [] and [f.code for f in plan.remaining] == ["IN206"]

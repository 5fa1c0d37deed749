"""action.yml, the composite GitHub Action, run here the way the runner runs it: each step's
`run:` script is executed by `bash --noprofile --norc -eo pipefail FILE` with the step's `env:`
(its `${{ inputs.* }}` and `${{ github.action_path }}` expressions evaluated from the inputs and
the action's defaults), `GITHUB_OUTPUT` pointing at a file and `RUNNER_TEMP` at a scratch folder,
in a scratch repository holding a broken Dockerfile. The install step really builds and installs
initify from this checkout into a venv."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ACTION = YAML(typ="safe").load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def evaluate(value: str, inputs: Dict[str, str]) -> str:
    """The runner's expression evaluation, for the two kinds the action uses (anything else fails)."""

    def one(match: "re.Match[str]") -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            name = expression[len("inputs."):]
            assert name in ACTION["inputs"], f"undeclared input {name}"
            return inputs.get(name, str(ACTION["inputs"][name].get("default", "")))
        if expression == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"expression the test does not know: {expression}")

    return EXPRESSION.sub(one, str(value))


def read_outputs(path: Path) -> Dict[str, str]:
    """GITHUB_OUTPUT's `name=value` lines (the action writes no multi-line values)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


class Run:
    def __init__(self, status: int, stdout: str, stderr: str, outputs: Dict[str, str]) -> None:
        self.status, self.stdout, self.stderr, self.outputs = status, stdout, stderr, outputs


def run_action(workspace: Path, runner_temp: Path, inputs: Dict[str, str], steps: Optional[List[str]] = None) -> Run:
    """Run the action's steps (or those whose names contain one of `steps`) as the runner would."""
    output_file = runner_temp / f"github_output_{len(list(runner_temp.glob('github_output_*')))}"
    output_file.write_text("")
    stdout, stderr, status = "", "", 0
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if steps is not None and not any(part in step["name"] for part in steps):
            continue
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs must reach the script through env, not be spliced into it"
        script = runner_temp / f"step_{number}.sh"
        script.write_text(step["run"])
        env = {key: value for key, value in os.environ.items() if not key.startswith(("INPUT_", "GITHUB_"))}
        env.update({
            "GITHUB_OUTPUT": str(output_file), "RUNNER_TEMP": str(runner_temp), "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_ACTIONS": "true", "CI": "true",
        })
        env.update({key: evaluate(value, inputs) for key, value in (step.get("env") or {}).items()})
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace, env=env,
                                capture_output=True, text=True, timeout=900)
        stdout, stderr, status = stdout + result.stdout, stderr + result.stderr, result.returncode
        if result.returncode != 0:
            break  # the runner stops the job at a failed step
    return Run(status, stdout, stderr, read_outputs(output_file))


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory) -> Path:
    """RUNNER_TEMP shared by the tests, so the install step runs for real once and is reused."""
    temp = tmp_path_factory.mktemp("runner_temp")
    install = run_action(temp, temp, {}, steps=["Install"])
    assert install.status == 0, install.stdout + install.stderr
    assert re.match(r"initify, version \d", install.stdout.strip().splitlines()[-1])
    return temp


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "web").mkdir(parents=True)
    (repo / "web" / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app.py /app/\nCMD python3 /app/app.py\n")
    # IN101 (error) on the shell, IN111 (warning) on the python its fix leaves as PID 1 with no SIGTERM handler
    (repo / "web" / "app.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    (repo / "README.md").write_text("CMD python3 app.py\n")
    return repo


def test_inputs_are_declared_as_the_readme_says():
    assert set(ACTION["inputs"]) == {"paths", "format", "fail-level", "args", "sarif-file"}
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["inputs"]["format"]["default"] == "github"


def test_github_format_annotates_and_fails(runner_temp, workspace):
    run = run_action(workspace, runner_temp, {})
    assert run.status == 1, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("::")]
    assert lines[0].startswith("::error file=web/Dockerfile,line=3,col=1,endLine=3,title=IN101 shell-form-cmd::IN101 CMD is shell form")
    assert lines[1].startswith("::warning file=web/Dockerfile,line=3,")
    assert len(lines) == 2
    assert run.outputs == {"exit-status": "1"}


def test_the_install_step_is_not_repeated(runner_temp, workspace):
    again = run_action(workspace, runner_temp, {}, steps=["Install"])
    assert again.status == 0 and "Successfully installed" not in again.stdout + again.stderr


def test_fail_level_and_args(runner_temp, workspace):
    run = run_action(workspace, runner_temp, {"fail-level": "error", "args": "--ignore IN101"})
    assert run.status == 0, run.stdout + run.stderr
    assert "IN101" not in run.stdout and "::warning file=web/Dockerfile" in run.stdout
    assert run.outputs["exit-status"] == "0"


def test_paths_are_split_shell_style(runner_temp, workspace):
    (workspace / "my app").mkdir()
    (workspace / "my app" / "Containerfile").write_text('FROM alpine:3.20\nENTRYPOINT /bin/app --serve\n')
    run = run_action(workspace, runner_temp, {"paths": "'my app'\nREADME.md", "args": "--select IN102"})
    assert run.status == 1
    assert [line.split(",")[0] for line in run.stdout.splitlines() if line.startswith("::")] == ["::error file=my app/Containerfile"]


def test_sarif_format_writes_the_file_and_sets_the_output(runner_temp, workspace):
    run = run_action(workspace, runner_temp, {"format": "sarif"})
    assert run.status == 1
    assert run.outputs == {"sarif-file": "initify.sarif", "exit-status": "1"}
    log = json.loads((workspace / "initify.sarif").read_text())
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("IN101", "web/Dockerfile"), ("IN111", "web/Dockerfile")]
    assert not any(line.startswith("::") for line in run.stdout.splitlines())


def test_bad_input_is_one_error_and_exit_2(runner_temp, workspace):
    run = run_action(workspace, runner_temp, {"format": "text"})
    assert run.status == 2
    assert run.stdout.strip().splitlines()[-1] == "::error title=initify::format must be github or sarif, not 'text'"
    assert run.outputs == {"exit-status": "2"}
    unbalanced = run_action(workspace, runner_temp, {"args": "--ignore 'IN101"})
    assert unbalanced.status == 2 and "cannot split into words" in unbalanced.stdout
    missing = run_action(workspace, runner_temp, {"paths": "nope/"})
    assert missing.status == 2 and "initify: error:" in missing.stderr

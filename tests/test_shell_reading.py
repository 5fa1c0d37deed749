"""Entrypoint scripts read as the shell runs them: `$1` dispatch, traps, command substitution,
parse errors, where the script is. Scripts are realistic fixtures (tests/data/scripts) or written
here; Dockerfiles go through the real pipeline (parse -> facts -> rules) on real files."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from initify import engine
from initify.commands import fix, lint
from initify.dockerfile import facts
from initify.dockerfile import parser as dockerfile
from initify.dockerfile.shell import analyse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_helpers import lint_files, workload  # noqa: E402

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tree_sitter_bash") is None, reason="needs tree-sitter-bash")

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "data" / "scripts"
from tests.corpus import CORPUS


def script(name: str) -> str:
    return (SCRIPTS / name).read_text()


def lint_image(tmp_path: Path, dockerfile_text: str, files: Dict[str, str], select: Sequence[str] = ("ALL",)) -> List[engine.Finding]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    path = tmp_path / "Dockerfile"
    path.write_text(textwrap.dedent(dockerfile_text).lstrip("\n"))
    image = facts.analyse_image(dockerfile.read(str(path)))
    assert image is not None
    return engine.sort_findings(engine.run_rules("dockerfile", image, str(path), engine.Selection(select=list(select))))


def codes(found: List[engine.Finding]) -> List[str]:
    return [f.code for f in found]


# ---------------------------------------------------------------------------------------------
# $1 dispatch
# ---------------------------------------------------------------------------------------------

DISPATCH_IMAGE = """
FROM python:3.12-slim
WORKDIR /app
COPY . .
ENTRYPOINT ["/app/dispatch.sh"]
CMD [{cmd}]
"""


@pytest.mark.parametrize("cmd, expected", [
    ('"app:run"', []),  # the branch execs gunicorn
    ('"gunicorn", "project.wsgi"', []),  # *) exec "$@"
    ('"app:init"', ["IN105"]),  # the branch runs migrate as a child and ends
])
def test_case_on_first_argument_follows_the_branch_cmd_selects(tmp_path, cmd, expected):
    found = lint_image(tmp_path, DISPATCH_IMAGE.format(cmd=cmd), {"dispatch.sh": script("dispatch.sh")}, ["IN105", "IN106"])
    assert codes(found) == expected
    if expected:
        assert "app:init)" in found[0].message


def test_unknown_argument_gives_one_finding_naming_the_branch():
    result = analyse(script("dispatch.sh"))  # arguments unknown (a manifest may pass anything)
    assert result.ok and not result.ends_with_exec and result.branch == "app:init)"
    assert result.last_command == "python manage.py migrate --noinput"


@pytest.mark.parametrize("args, ends_with_exec, branch", [
    (("server", "--port", "80"), True, 'if [ "$1" = "server" ]'),
    (("seed",), False, 'elif [ "$1" = "seed" ]'),
    (("bash",), True, "else"),
    (None, False, 'elif [ "$1" = "seed" ]'),
])
def test_if_on_first_argument(args, ends_with_exec, branch):
    result = analyse(script("if-server.sh"), args)
    assert result.ok and result.ends_with_exec is ends_with_exec and result.branch == branch


def test_arguments_reassigned_before_the_dispatch_make_it_unknown():
    text = '#!/bin/sh\nset -- worker "$@"\ncase "$1" in\n  web) exec web ;;\n  *) run-worker ;;\nesac\n'
    assert not analyse(text, ("web",)).ends_with_exec  # $1 is "worker" by then: every branch counts


# ---------------------------------------------------------------------------------------------
# Traps
# ---------------------------------------------------------------------------------------------

TRAP_IMAGE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["/app/run.sh"]\n'


def test_a_trap_that_forwards_the_stop_signal_is_a_deliberate_handler(tmp_path):
    assert lint_image(tmp_path, TRAP_IMAGE, {"run.sh": script("forward-trap.sh")}, ["IN105", "IN106"]) == []


def test_a_trap_that_only_cleans_up_is_still_a_finding_that_says_so(tmp_path):
    found = lint_image(tmp_path, TRAP_IMAGE, {"run.sh": script("cleanup-trap.sh")}, ["IN105", "IN106"])
    # It ends in `wait`: no `exec` can remove the shell, so IN106 advises the init as well.
    assert codes(found) == ["IN105", "IN106"]
    assert "only cleans up" in found[0].message and 'rm -f "$LOCK"' in found[0].message


def test_a_trap_on_the_images_stop_signal(tmp_path):
    """STOPSIGNAL SIGINT with a script that traps INT and stops its child: no finding."""
    text = '#!/bin/sh\nstop() {\n  kill -INT "$pid"\n}\ntrap stop INT\nredis-server /etc/redis.conf &\npid=$!\nwait "$pid"\n'
    assert lint_image(tmp_path, TRAP_IMAGE + "STOPSIGNAL SIGINT\n", {"run.sh": text}, ["IN105", "IN106"]) == []


# ---------------------------------------------------------------------------------------------
# Command substitution does not hide exec
# ---------------------------------------------------------------------------------------------

def test_exec_with_command_substitution_still_hands_pid1_over(tmp_path):
    found = lint_image(tmp_path, TRAP_IMAGE, {"run.sh": script("apache-flags.sh")})
    # apache2 is PID 1: the script is not reported, and apache2's own stop signal is.
    assert codes(found) == ["IN108"] and "SIGWINCH" in found[0].message


def test_exec_of_an_unknown_program_is_not_taken_for_the_shell(tmp_path):
    text = '#!/bin/sh\nexec "$APP_BINARY" --config /etc/app.toml\n'
    assert lint_image(tmp_path, TRAP_IMAGE, {"run.sh": text}, ["IN105", "IN106"]) == []


# ---------------------------------------------------------------------------------------------
# Parse errors
# ---------------------------------------------------------------------------------------------

def test_an_error_before_the_tail_is_recovered():
    result = analyse(script("wait-for-db.sh"))
    assert result.ok and result.ends_with_exec and result.program == "gosu"
    assert any("missing ';'" in warning for warning in result.warnings)


def test_an_error_in_the_tail_makes_it_unknown_and_no_finding(tmp_path):
    text = '#!/bin/bash\nset -e\nfor f in /docker-entrypoint.d/*.sh; { . "$f"; }\n'
    assert not analyse(text).ok
    assert lint_image(tmp_path, TRAP_IMAGE, {"run.sh": text}, ["IN105", "IN106"]) == []


def bash_canonical(text: str) -> Optional[str]:
    """The script as bash itself parses and prints it back (`declare -f` of a function with the
    script as its body): bash's own reading, in a form with no syntax tree-sitter trips on."""
    wrapped = "__initify_script() {\n" + text + "\n}\ndeclare -f __initify_script\n"
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", wrapped], capture_output=True, text=True, timeout=30)
    if result.returncode != 0 or "{ \n" not in result.stdout:
        return None
    return result.stdout[result.stdout.index("{ \n") + 3: result.stdout.rindex("}")]


def all_scripts() -> List[Path]:
    found = sorted(SCRIPTS.glob("*.sh")) + sorted((ROOT / "samples").glob("*/*.sh"))
    manifest = CORPUS / "MANIFEST.tsv"
    if manifest.is_file():
        with open(manifest, newline="") as handle:
            rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "script"]
        found += [CORPUS / row["repo"].replace("/", "__") / row["path"] for row in rows]
    return found


def tails(text: str) -> Optional[List[Tuple[str, Optional[str]]]]:
    result = analyse(text)
    return [(tail.kind, tail.program) for tail in result.tails] if result.ok else None


def test_the_tail_initify_finds_is_the_one_bash_parses():
    """On every script of the corpus, the samples and the fixtures that `bash -n` accepts, the
    endings initify finds are those it finds in bash's own canonical print-out of the script;
    where it cannot find them (an error that hides the tail), it knows it (ok=False)."""
    checked = recovered = unknown = 0
    for path in all_scripts():
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode != 0:
            continue
        canonical = bash_canonical(text)
        assert canonical is not None, path
        expected = tails(canonical)
        assert expected is not None, f"{path}: tree-sitter cannot read bash's own print-out"
        found = tails(text)
        checked += 1
        if found is None:
            unknown += 1
            continue
        assert found == expected, path
        recovered += any("missing" in w or "cannot parse" in w for w in analyse(text).warnings)
    assert checked >= 85 and recovered >= 1
    assert unknown <= 1


# ---------------------------------------------------------------------------------------------
# Where the script is
# ---------------------------------------------------------------------------------------------

RUN_SH = "#!/bin/sh\necho starting\npython app.py\n"

WHERE = {
    "sh run.sh in WORKDIR": ('FROM python:3.12-slim\nWORKDIR /srv\nCOPY run.sh .\nCMD ["sh", "run.sh"]\n', ["IN105"]),
    "bash run.sh": ('FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD ["bash", "run.sh"]\n', ["IN105"]),
    "./run.sh": ('FROM python:3.12-slim\nWORKDIR /srv\nCOPY run.sh ./\nCMD ["./run.sh"]\n', ["IN105"]),
    "relative WORKDIR": ('FROM python:3.12-slim\nWORKDIR /srv\nWORKDIR app\nCOPY . .\nCMD ["./run.sh"]\n', ["IN105"]),
    "ENV in the COPY destination": (
        'FROM python:3.12-slim\nENV HOME=/home/app\nCOPY . $HOME\nWORKDIR $HOME\nCMD ["./run.sh"]\n', ["IN105"]),
    "ARG in the COPY destination": (
        'FROM python:3.12-slim\nARG APP=/opt/app\nCOPY run.sh ${APP}/run.sh\nCMD ["/opt/app/run.sh"]\n', ["IN105"]),
    "sh -c ./run.sh": (
        'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD ["sh", "-c", "./run.sh"]\n', ["IN104", "IN105"]),
    "sh -c with an ENV path": (
        'FROM python:3.12-slim\nENV APP=/srv\nCOPY run.sh /srv/\nCMD ["sh", "-c", "${APP}/run.sh"]\n', ["IN104", "IN105"]),
    # bash execs a sole simple command (its one-shot optimisation): the script is PID 1 itself;
    # IN104 is only a note then (see test_bash_exec_of_the_script_is_a_note).
    "bash -c ./run.sh": (
        'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD ["bash", "-c", "./run.sh"]\n', ["IN104", "IN105"]),
    "bash -c with an ENV path": (
        'FROM python:3.12-slim\nENV APP=/srv\nCOPY run.sh /srv/\nCMD ["bash", "-c", "${APP}/run.sh"]\n', ["IN104", "IN105"]),
    "shell form": ('FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD ./run.sh\n', ["IN101", "IN105"]),
}


@pytest.mark.parametrize("text, expected", WHERE.values(), ids=WHERE.keys())
def test_the_script_pid1_runs_is_found(tmp_path, text, expected):
    found = lint_image(tmp_path, text, {"run.sh": RUN_SH, "app.py": "print('hi')\n"}, ["IN101", "IN104", "IN105", "IN106"])
    assert codes(found) == expected
    assert "python app.py" in [f for f in found if f.code == "IN105"][0].message


@pytest.mark.parametrize("name", ["bash -c ./run.sh", "bash -c with an ENV path"])
def test_bash_exec_of_the_script_is_a_note(tmp_path, name):
    """bash execs the script (no shell stays in front), so IN104 is info and IN105 judges the
    script as PID 1."""
    found = lint_image(tmp_path, WHERE[name][0], {"run.sh": RUN_SH, "app.py": "print('hi')\n"}, ["IN104", "IN105"])
    severities = {f.code: f.severity for f in found}
    assert severities["IN104"] == "info" and severities["IN105"] != "info"
    assert "takes the shell's PID" in [f for f in found if f.code == "IN104"][0].message


@pytest.mark.parametrize("text", [text for text, _ in WHERE.values()], ids=list(WHERE))
def test_lint_reports_everything_fix_finds(tmp_path, text):
    """Every finding `initify fix` meets in any pass (fixed or left) is one lint reports at once."""
    (tmp_path / "run.sh").write_text(RUN_SH)
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "Dockerfile").write_text(text)
    linted = {f.code for f in lint.run([str(tmp_path / "Dockerfile")], lint.Options()).findings}
    planned = fix.plan([str(tmp_path / "Dockerfile")], fix.FixOptions(unsafe_fixes=True))
    met = {a.finding.code for a in planned.applied} | {f.code for f in planned.remaining}
    assert met <= linted, met - linted


# ---------------------------------------------------------------------------------------------
# Args-only containers of images without ENTRYPOINT
# ---------------------------------------------------------------------------------------------

ARGS_ONLY = """
containers:
- name: tools
  image: {image}
  args: ["sh", "-c", "sync-assets --once /data; serve-assets --port 8080"]
"""


@pytest.mark.parametrize("image, expected", [
    ("busybox:1.36", ["IN204"]),  # no ENTRYPOINT: args are the command
    ("alpine:3.20", ["IN204"]),
    ("registry.example.com/tools:2", []),  # unknown image: its ENTRYPOINT may take the args
    # its ENTRYPOINT docker-entrypoint.sh ends in `exec "$@"` (knowledge table): the shell takes its PID
    ("node:22-slim", ["IN204"]),
])
def test_args_only_containers_run_args_when_the_image_has_no_entrypoint(tmp_path, image, expected):
    text = workload("Pod", ARGS_ONLY.format(image=image))
    assert [code for code, _ in lint_files(tmp_path, {"pod.yaml": text}, select=["IN204", "IN206"])] == expected

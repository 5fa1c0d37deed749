"""`initify fix` on Dockerfiles: exec form, STOPSIGNAL, scripts; checked with BuildKit's parser
(PyPI `dockerfile`), real /bin/sh, and the files' bytes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import dockerfile as buildkit
import pytest

from initify import engine
from initify.commands import fix
from initify.commands import lint

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "initify", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def fixed(tmp_path: Path, text: str, *args: str, name: str = "Dockerfile") -> Tuple[str, subprocess.CompletedProcess]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    result = run_cli("fix", *args, name, cwd=tmp_path)
    return path.read_bytes().decode("utf-8"), result


def final_commands(text: str) -> List[Tuple[str, bool, Tuple[str, ...]]]:
    """(CMD/ENTRYPOINT, exec form?, value) of the last stage, as BuildKit parses the text."""
    commands = buildkit.parse_string(text)
    last_from = max(i for i, c in enumerate(commands) if c.cmd.upper() == "FROM")
    return [(c.cmd.upper(), c.json, c.value) for c in commands[last_from:] if c.cmd.upper() in ("CMD", "ENTRYPOINT")]


def codes(path: Path) -> List[str]:
    return [f.code for f in lint.run([str(path)], lint.Options()).findings]


def test_plain_cmd_becomes_its_exact_argv(tmp_path):
    text, result = fixed(tmp_path, "FROM python:3.12-slim\nCMD python -m 'my app' --name=a\\ b \"x y\"\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert text == 'FROM python:3.12-slim\nCMD ["python", "-m", "my app", "--name=a b", "x y"]\n'
    assert final_commands(text) == [("CMD", True, ("python", "-m", "my app", "--name=a b", "x y"))]
    assert "IN101" not in codes(tmp_path / "Dockerfile")


def test_only_the_instruction_changes_crlf_bom_comments_and_no_final_newline(tmp_path):
    original = (
        "\ufeff# syntax=docker/dockerfile:1\r\n"
        "FROM python:3.12-slim AS base\r\n"
        "# keep me\r\n"
        "RUN apt-get update \\\r\n"
        "    && true\r\n"
        "\r\n"
        "  cmd   python3 \\\r\n"
        "# inside\r\n"
        "      app.py"
    )
    text, result = fixed(tmp_path, original)
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "Dockerfile").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert text == original.replace("  cmd   python3 \\\r\n# inside\r\n      app.py", '# inside\r\n  cmd   ["python3", "app.py"]')
    assert final_commands(text.lstrip("\ufeff")) == [("CMD", True, ("python3", "app.py"))]


def test_expansion_of_one_program_is_a_safe_exec(tmp_path):
    """Same program, same expanded arguments and environment: only the PID changes hands."""
    original = "FROM python:3.12-slim\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n"
    text, result = fixed(tmp_path, original)
    assert final_commands(text) == [("CMD", True, ("/bin/sh", "-c", "exec gunicorn -b 0.0.0.0:$PORT app:app"))], result.stdout
    # Under a real /bin/sh both forms run the same argv with the same environment.
    env = dict(os.environ, PORT="8123", MARK="m1")
    script = 'printf "%s|" "$0" $PORT "$MARK"'
    before = subprocess.run(["/bin/sh", "-c", f"sh -c '{script}' prog"], capture_output=True, text=True, env=env)
    after = subprocess.run(["/bin/sh", "-c", f"exec sh -c '{script}' prog"], capture_output=True, text=True, env=env)
    assert before.stdout == after.stdout == "prog|8123|m1|"


@pytest.mark.parametrize("command", ["echo $GREETING", "$APP --serve", "a && b $X"])
def test_builtin_expanded_program_and_compound_stay_unsafe(tmp_path, command):
    original = f"FROM python:3.12-slim\nCMD {command}\n"
    text, result = fixed(tmp_path, original, "--select", "IN101")
    assert text == original and result.returncode == 1
    assert "IN101" in result.stdout and "--unsafe-fixes" in result.stdout


def test_compound_needs_unsafe_fixes(tmp_path):

    text, _ = fixed(tmp_path, "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nCMD a && b | c\n", "--unsafe-fixes", "--ignore", "IN106")
    assert final_commands(text) == [("CMD", True, ("/bin/bash", "-o", "pipefail", "-c", "a && b | c"))]

    # A compound command whose last command can be exec'd keeps `sh -c` and gets the `exec`, so
    # the program is PID 1 after this one fix (no IN104 in a later pass, no init needed).
    text, result = fixed(tmp_path, "FROM python:3.12-slim\nCMD cd /srv && python app.py\n", "--unsafe-fixes")
    assert final_commands(text) == [("CMD", True, ("/bin/sh", "-c", "cd /srv && exec python app.py"))]
    assert codes(tmp_path / "Dockerfile") == []


def test_shell_form_entrypoint_that_dropped_cmd_keeps_ignoring_it(tmp_path):
    text, result = fixed(tmp_path, "FROM debian:12\nENTRYPOINT nginx -g 'daemon off;'\nCMD [\"--ignored\"]\nSTOPSIGNAL SIGQUIT\n")
    assert final_commands(text)[0] == ("ENTRYPOINT", True, ("/bin/sh", "-c", "exec nginx -g 'daemon off;'"))
    assert "stay ignored" in result.stderr + result.stdout
    # sh -c SCRIPT ARG0 ARGS: the CMD words become $0.. and are not used, as before.
    out = subprocess.run(["/bin/sh", "-c", "exec echo -g 'daemon off;'", "--ignored"], capture_output=True, text=True)
    assert out.stdout == "-g daemon off;\n"


def test_entrypoint_without_cmd_becomes_exec_form(tmp_path):
    text, _ = fixed(tmp_path, "FROM debian:12\nENTRYPOINT exec /usr/bin/app --serve\n")
    assert final_commands(text) == [("ENTRYPOINT", True, ("/usr/bin/app", "--serve"))]


@pytest.mark.parametrize(
    "value, expected",
    [
        ('["python", "app.py",]', ("python", "app.py")),
        ('["sleep", 10]', ("sleep", "10")),
        ("['python', 'app.py']", ("python", "app.py")),
        ("[python, app.py, --port, 80]", ("python", "app.py", "--port", "80")),
        ("[ /usr/bin/app ,]", ("/usr/bin/app",)),
    ],
)
def test_malformed_exec_form_is_a_safe_fix(tmp_path, value, expected):
    """Safe: as written the line cannot run at all, so there is no behaviour to keep."""
    original = f"FROM python:3.12-slim\nCMD {value}\n"
    text, _ = fixed(tmp_path, original)
    assert final_commands(text) == [("CMD", True, expected)]


@pytest.mark.parametrize("value", ["['python', 'app.py']", "[python, app.py]", '["python", "app.py",]'])
def test_malformed_exec_form_cannot_run_as_written(value):
    """What BuildKit runs for the malformed line, `/bin/sh -c TEXT`, fails: `[python,: not found`."""
    run = subprocess.run(["/bin/sh", "-c", value], capture_output=True, text=True)
    assert run.returncode == 127 and "[python,: not found" in run.stderr


@pytest.mark.parametrize("value", ["[$APP, --serve]", "[app, 'x y']", "[app, --name {x}]", "[app, [x]]"])
def test_malformed_exec_form_is_left_when_the_meaning_is_a_guess(tmp_path, value):
    original = f"FROM python:3.12-slim\nCMD {value}\n"
    text, result = fixed(tmp_path, original, "--unsafe-fixes", "--select", "IN103")
    assert text == original and "IN103" in result.stdout


def test_malformed_trailing_comment_moves_above(tmp_path):
    text, _ = fixed(tmp_path, 'FROM python:3.12-slim\n    CMD ["python", "app.py"] # the app\n')
    assert text == 'FROM python:3.12-slim\n    # the app\n    CMD ["python", "app.py"]\n'


def test_systemd_gets_stopsignal_before_the_command(tmp_path):
    text, _ = fixed(tmp_path, "FROM fedora:40\nrun dnf -y install systemd\n\tcmd [\"/sbin/init\"]\n")
    assert text == "FROM fedora:40\nrun dnf -y install systemd\n\tstopsignal SIGRTMIN+3\n\tcmd [\"/sbin/init\"]\n"
    assert [c.value for c in buildkit.parse_string(text) if c.cmd.upper() == "STOPSIGNAL"] == [("SIGRTMIN+3",)]


def test_stopsignal_goes_above_the_comment_block_of_the_command(tmp_path):
    original = ("FROM fedora:40\nRUN dnf -y install systemd\n# not this one\n\n"
                "# boot systemd\n# initify: ignore=IN106\nCMD [\"/sbin/init\"]\n")
    text, _ = fixed(tmp_path, original, "--select", "IN107")  # (IN002 would drop the unused ignore=)
    assert text == original.replace("\n\n# boot", "\n\nSTOPSIGNAL SIGRTMIN+3\n# boot")
    # The suppression comment still applies to CMD, not to the new STOPSIGNAL.
    assert [c.value for c in buildkit.parse_string(text) if c.cmd.upper() == "STOPSIGNAL"] == [("SIGRTMIN+3",)]


def test_wrong_and_invalid_stopsignals_are_replaced(tmp_path):
    text, _ = fixed(tmp_path, "FROM nginx:1.27\nSTOPSIGNAL SIGTERM\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n")
    assert "STOPSIGNAL SIGQUIT\n" in text
    text, _ = fixed(tmp_path, "FROM debian:12\nSTOPSIGNAL   SIGKILL\r\nCMD [\"app\"]\r\n")
    assert text == "FROM debian:12\nSTOPSIGNAL   SIGTERM\r\nCMD [\"app\"]\r\n"


def test_inserted_stopsignal_after_last_instruction_without_final_newline(tmp_path):
    text, _ = fixed(tmp_path, "FROM debian:12 AS base\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\nFROM base\nRUN true")
    assert text == "FROM debian:12 AS base\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\nFROM base\nRUN true\nSTOPSIGNAL SIGQUIT"


def test_sh_c_wrapper_gets_exec(tmp_path):
    text, _ = fixed(tmp_path, 'FROM debian:12\nCMD ["sh", "-c", "echo start; sleep 5"]\n')
    assert final_commands(text) == [("CMD", True, ("sh", "-c", "echo start; exec sleep 5"))]


def test_entrypoint_script_keeps_mode_shebang_and_crlf(tmp_path):
    script = tmp_path / "docker-entrypoint.sh"
    script.write_bytes(b"#!/bin/bash\r\nset -e\r\necho hi\r\n\"$@\"\r\n")
    script.chmod(0o750)
    original = 'FROM debian:12\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["app"]\n'
    text, result = fixed(tmp_path, original)
    assert text == original
    assert script.read_bytes() == b"#!/bin/bash\r\nset -e\r\necho hi\r\nexec \"$@\"\r\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert "IN105" not in codes(tmp_path / "Dockerfile")


def test_diff_and_check_write_nothing(tmp_path):
    original = "FROM python:3.12-slim\nCMD python app.py\n"
    path = tmp_path / "Dockerfile"
    path.write_text(original)
    result = run_cli("fix", "--diff", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert "--- Dockerfile" not in result.stdout and "-CMD python app.py\n+CMD [\"python\", \"app.py\"]\n" in result.stdout
    assert "+++ b/Dockerfile" in result.stdout
    result = run_cli("fix", "--check", ".", cwd=tmp_path)
    assert result.returncode == 1 and "would rewrite" in result.stdout
    assert path.read_text() == original
    assert run_cli("fix", ".", cwd=tmp_path).returncode == 0
    assert run_cli("fix", "--check", ".", cwd=tmp_path).returncode == 0


def test_a_parse_error_is_in001_and_every_other_file_is_fixed(tmp_path):
    """Issue 15: fix writes every file it could plan, never the unparsable one, and exits 2."""
    good = tmp_path / "a" / "Dockerfile"
    good.parent.mkdir()
    good.write_text("FROM python:3.12-slim\nCMD python app.py\n")
    bad = tmp_path / "b" / "Dockerfile"
    bad.parent.mkdir()
    bad.write_text("FROM python:3.12-slim\nFROBNICATE x\nCMD python app.py\n")
    result = run_cli("fix", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "b/Dockerfile:2:1: IN001 unknown instruction: FROBNICATE" in result.stdout
    assert good.read_text() == 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n'
    assert bad.read_text() == "FROM python:3.12-slim\nFROBNICATE x\nCMD python app.py\n"


def test_write_keeps_mode_and_refuses_symlinks_leaving_the_project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    outside = tmp_path / "outside.Dockerfile"
    outside.write_text("FROM python:3.12-slim\nCMD python app.py\n")
    (project / "Dockerfile").symlink_to(outside)
    result = run_cli("fix", "Dockerfile", cwd=project)
    assert result.returncode == 2 and "symlink" in result.stderr
    assert outside.read_text() == "FROM python:3.12-slim\nCMD python app.py\n"

    inside = project / "real.Dockerfile"
    inside.write_text("FROM python:3.12-slim\nCMD python app.py\n")
    inside.chmod(0o640)
    (project / "Dockerfile").unlink()
    (project / "Dockerfile").symlink_to("real.Dockerfile")
    assert run_cli("fix", "Dockerfile", cwd=project).returncode == 0
    assert (project / "Dockerfile").is_symlink()
    assert inside.read_text() == 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n'
    assert stat.S_IMODE(inside.stat().st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["Dockerfile", "real.Dockerfile"]  # no temp files left


def test_remaining_findings_decide_the_exit_status(tmp_path):
    text, result = fixed(tmp_path, "FROM debian:12\nCMD [\"sh\", \"-c\", \"a | b\"]\n")
    assert result.returncode == 1 and "IN104" in result.stdout


def test_overlapping_edits_are_applied_in_later_passes():
    edits = [fix.engine.Edit("D", 2, 2, "X\n"), fix.engine.Edit("D", 2, 1, "S\n"), fix.engine.Edit("D", 2, 3, "Y\n")]
    text, skipped = engine.apply_line_edits("a\nb\nc\n", edits)
    assert text == "a\nS\nX\nc\n" and skipped == [edits[2]]


INIT_SOURCE = (ROOT / "initify" / "init.py").read_text()


def test_init_python_for_python_bases_copies_the_init_verbatim(tmp_path):
    original = "FROM python:3.12-slim\nCOPY run.sh /run.sh\nCMD [\"/run.sh\"]\n"
    (tmp_path / "run.sh").write_text("#!/bin/sh\ntrap 'echo bye' TERM\npython3 app.py\n")
    (tmp_path / "run.sh").chmod(0o755)
    text, result = fixed(tmp_path, original)
    assert text == original and "--unsafe-fixes" in result.stdout  # IN106's fix is unsafe
    text, result = fixed(tmp_path, original, "--unsafe-fixes")
    assert text == (
        "FROM python:3.12-slim\nCOPY run.sh /run.sh\n"
        "COPY --chmod=0755 .initify/initify-init /usr/local/bin/initify-init\n"
        'ENTRYPOINT ["/usr/local/bin/initify-init", "--"]\n'
        'CMD ["/run.sh"]\n'
    )
    init = tmp_path / ".initify" / "initify-init"
    assert init.read_text() == INIT_SOURCE and stat.S_IMODE(init.stat().st_mode) == 0o755
    assert [c.cmd.upper() for c in buildkit.parse_string(text)][-3:] == ["COPY", "ENTRYPOINT", "CMD"]
    assert "IN106" not in codes(tmp_path / "Dockerfile")
    assert run_cli("fix", "--check", "--unsafe-fixes", ".", cwd=tmp_path).returncode == 0


def test_init_tini_from_the_package_manager_keeps_an_inherited_cmd(tmp_path):
    original = 'FROM alpine:3.20 AS base\nCMD ["npm", "start"]\nFROM base\nRUN true\n'
    text, _ = fixed(tmp_path, original, "--unsafe-fixes")
    assert text == original + 'RUN apk add --no-cache tini\nENTRYPOINT ["tini", "-g", "--"]\nCMD ["npm", "start"]\n'
    assert final_commands(text) == [("ENTRYPOINT", True, ("tini", "-g", "--")), ("CMD", True, ("npm", "start"))]


def test_init_wraps_an_existing_exec_form_entrypoint(tmp_path):
    original = 'FROM python:3.12\nENTRYPOINT ["sh", "-c", "app | cat"]\n'
    text, _ = fixed(tmp_path, original, "--unsafe-fixes")
    assert final_commands(text) == [("ENTRYPOINT", True, ("/usr/local/bin/initify-init", "--", "sh", "-c", "app | cat"))]


def test_init_carries_a_rewrite_for_a_daemon_behind_a_script(tmp_path):
    (tmp_path / "run.sh").write_text("#!/bin/sh\ntrap 'echo bye' TERM\nnginx -g 'daemon off;'\n")
    original = 'FROM python:3.12\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    text, _ = fixed(tmp_path, original, "--unsafe-fixes")
    assert final_commands(text)[0] == ("ENTRYPOINT", True, ("/usr/local/bin/initify-init", "--rewrite", "TERM:QUIT", "--"))


def test_dumb_init_carries_the_rewrite_as_numbers(tmp_path):
    """dumb-init's `--rewrite` takes signal numbers; tini cannot rewrite (STOPSIGNAL, IN108, does it)."""
    (tmp_path / "run.sh").write_text("#!/bin/sh\ntrap 'echo bye' TERM\nnginx -g 'daemon off;'\n")
    original = 'FROM debian:12\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    text, _ = fixed(tmp_path, original, "--unsafe-fixes", "--init", "dumb-init", "--select", "IN106")
    assert final_commands(text)[0] == ("ENTRYPOINT", True, ("dumb-init", "--rewrite", "15:3", "--"))
    assert codes(tmp_path / "Dockerfile") == []  # IN108 sees the rewrite; dumb-init signals the script's group
    text, _ = fixed(tmp_path, original, "--unsafe-fixes", "--init", "tini", "--select", "IN106")
    assert final_commands(text)[0] == ("ENTRYPOINT", True, ("tini", "-g", "--"))


def test_no_init_when_nothing_is_known_or_none_is_asked(tmp_path):
    original = "FROM example.com/custom:1\nCMD [\"sh\", \"-c\", \"a | b\"]\n"
    text, result = fixed(tmp_path, original, "--unsafe-fixes")
    assert text == original and "pass --init" in result.stdout
    original = "FROM python:3.12-slim\nCMD [\"sh\", \"-c\", \"a | b\"]\n"
    text, result = fixed(tmp_path, original, "--unsafe-fixes", "--init", "none")
    assert text == original and result.returncode == 1


def test_a_probed_base_decides_the_init_for_an_unknown_image_name(tmp_path):
    """`initify build` looks inside the real base image and passes what it found as FixOptions.base."""
    from initify.knowledge import loader as knowledge

    original = 'FROM localhost/my-debian:1\nCMD ["sh", "-c", "a | b"]\n'
    path = tmp_path / "Dockerfile"
    path.write_text(original)
    probed = knowledge.Base("localhost/my-debian:1", python3=False, package_manager="apt")
    for init in ("auto", "tini"):
        plan = fix.plan([str(path)], fix.FixOptions(unsafe_fixes=True, init=init, base=probed))
        (state,) = plan.changed()
        assert "apt-get install -y --no-install-recommends tini" in state.text
        assert final_commands(state.text)[0] == ("ENTRYPOINT", True, ("tini", "-g", "--"))
    with_python = knowledge.Base("localhost/my-debian:1", python3=True, package_manager="apt")
    plan = fix.plan([str(path)], fix.FixOptions(unsafe_fixes=True, base=with_python))
    texts = {os.path.basename(state.path): state.text for state in plan.changed()}
    assert final_commands(texts["Dockerfile"])[0][2][0] == "/usr/local/bin/initify-init"
    assert path.read_text() == original  # planning writes nothing


def test_systemd_is_never_wrapped(tmp_path):
    text, _ = fixed(tmp_path, "FROM fedora:40\nCMD [\"/usr/sbin/init\"]\n", "--unsafe-fixes")
    assert text == "FROM fedora:40\nSTOPSIGNAL SIGRTMIN+3\nCMD [\"/usr/sbin/init\"]\n"


def test_json_fixable_follows_the_fix(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM example.com/custom:1\nCMD python app.py | tee log\n")
    import json

    result = run_cli("lint", "--format", "json", "Dockerfile", cwd=tmp_path)
    found = {f["code"]: f["fixable"] for f in json.loads(result.stdout)}
    assert found == {"IN101": True, "IN106": False}


@pytest.mark.parametrize("name", [".dockerignore", ".containerignore", "Dockerfile.dockerignore"])
def test_allow_list_ignore_file_gets_the_injected_init(tmp_path, name):
    """An allow-list (`*`, then `!file`) would keep .initify/initify-init out of the build."""
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / name).write_bytes(b"# only what the image needs\r\n*\r\n!app.py\r\n!Dockerfile")
    text, result = fixed(tmp_path, "FROM python:3.12-slim\nCOPY app.py /app.py\nCMD [\"sh\", \"-c\", \"python /app.py; echo\"]\n",
                         "--unsafe-fixes", "--init", "python")
    assert "IN106 fixed" in result.stdout, result.stdout + result.stderr
    assert (tmp_path / ".initify" / "initify-init").is_file()
    assert (tmp_path / name).read_bytes() == b"# only what the image needs\r\n*\r\n!app.py\r\n!Dockerfile\r\n!.initify/initify-init\r\n"


def test_ignore_file_that_keeps_the_init_is_left_alone(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.log\n.git\n")
    text, result = fixed(tmp_path, "FROM python:3.12-slim\nCMD [\"sh\", \"-c\", \"python /app.py; echo\"]\n", "--unsafe-fixes", "--init", "python")
    assert "IN106 fixed" in result.stdout
    assert (tmp_path / ".dockerignore").read_text() == "*.log\n.git\n"

"""Hostile and careless input (issue 16, and issue 15's "never stop at one bad file"): each test
reproduces one red-team finding exactly and fails without its fix. Everything runs the real
`initify` in a subprocess on real files: FIFOs, device nodes, symlinks, read-only folders as a
non-root user (setpriv), a full tmpfs, real signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from tests.clirun import initify

SHELL_FORM = "FROM python:3.12-slim\nCMD python app.py\n"
EXEC_FORM = 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n'
NOBODY = 65534


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr)


def stderr_lines(result: subprocess.CompletedProcess) -> list:
    """stderr without the image-facts summary line that lint, fix, manifest and build print."""
    return [line for line in result.stderr.splitlines() if not line.startswith("initify: image facts")]


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("initify: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


# --- the last line of defence ------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_3(tmp_path):
    """A bug (here a rule that crashes, injected into the real CLI) must not look like findings."""
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    script = (
        "import sys\n"
        "from initify.checks.dockerfile import in101_shell_form_cmd as rule\n"
        "def check(facts):\n    raise KeyError('boom')\n"
        "rule.check = check\n"
        "from initify.console import main\n"
        "sys.argv = ['initify'] + sys.argv[1:]\n"
        "main()\n"
    )
    plain = subprocess.run([sys.executable, "-c", script, "lint", "Dockerfile"], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 3
    assert plain.stderr.splitlines() == [plain.stderr.strip()]
    assert plain.stderr.startswith("initify: internal error: KeyError: 'boom'") and "--debug" in plain.stderr
    debug = subprocess.run([sys.executable, "-c", script, "--debug", "lint", "Dockerfile"], cwd=tmp_path, capture_output=True, text=True)
    assert debug.returncode == 3 and "Traceback (most recent call last)" in debug.stderr


# --- the listed tracebacks ---------------------------------------------------------------------


def test_empty_entrypoint_with_shell_form_cmd(tmp_path):
    """`ENTRYPOINT []` resets an inherited ENTRYPOINT; IN101 indexed its empty argv."""
    # debian: dash keeps the shell as PID 1, so IN101 stays an error (BusyBox would exec python)
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\nENTRYPOINT []\nCMD python app.py\n")
    result = initify("lint", "--select", "IN101", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "IN101" in result.stdout and "/bin/sh -c runs as PID 1" in result.stdout


def test_a_100k_deep_json_array_in_cmd(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nCMD " + "[" * 100_000 + "]" * 100_000 + "\n")
    for command in (["lint"], ["fix", "--diff"]):
        result = initify(*command, "Dockerfile", cwd=tmp_path)
        no_traceback(result)
    result = initify("lint", "--select", "IN103", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 1 and "nested too deeply" in result.stdout


def test_a_thousand_chained_stages(tmp_path):
    # debian: dash forks, so the shell stays PID 1 and IN101 stays an error
    lines = ["FROM debian:12 AS s0"] + [f"FROM s{n - 1} AS s{n}" for n in range(1, 1000)] + ["CMD python app.py"]
    (tmp_path / "Dockerfile").write_text("\n".join(lines) + "\n")
    result = initify("lint", "--select", "IN101", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 1 and "Dockerfile:1001:1: IN101" in result.stdout, result.stderr
    fixed = initify("fix", "--select", "IN101", "Dockerfile", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "Dockerfile").read_text().endswith('CMD ["python", "app.py"]\n')


def test_sh_c_with_600_nested_groups(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nCMD ["sh", "-c", "' + "{ " * 600 + "python app.py; " + "} " * 600 + '"]\n')
    for command in (["lint"], ["fix", "--diff"], ["fix", "--unsafe-fixes"]):
        no_traceback(initify(*command, "Dockerfile", cwd=tmp_path))


def test_a_thousand_nested_folders(project):
    folder = project
    for _ in range(1000):  # one mkdir at a time: os.makedirs itself recurses
        folder = folder / "d"
        folder.mkdir()
    (folder / "Dockerfile").write_text(SHELL_FORM)
    result = initify("lint", "--select", "IN101", ".", cwd=project)
    assert result.returncode == 1, result.stderr[-500:]
    assert "IN101" in result.stdout


@pytest.mark.parametrize("command, target, words", [
    (["lint", "."], "/dev/full", ["No space left on device"]),
    (["lint", "."], "missing/dir/x", ["cannot write", "no such folder"]),
    (["manifest", "--image", "app:1", "Dockerfile"], "/dev/full", ["not a regular file"]),
    (["manifest", "--image", "app:1", "Dockerfile"], "missing/dir/x", ["cannot write", "no such folder"]),
])
def test_output_file_errors_are_one_line(tmp_path, command, target, words):
    (tmp_path / "Dockerfile").write_text(EXEC_FORM)
    result = initify(*command, "-o", target, cwd=tmp_path)
    one_line_error(result, target, *words)


@pytest.mark.parametrize("command", [
    ["lint", "--context", "missing/dir", "Dockerfile"],
    ["lint", "--image", "app=missing/Dockerfile", "Dockerfile"],
    ["build", "-f", "missing/Dockerfile", "."],
    ["verify", "--as", "kubernetes", "--manifest", "missing/pod.yaml", "app:1"],
    ["manifest", "--image", "app:1", "missing/Dockerfile"],
])
def test_every_path_option_pointing_nowhere_is_one_line(tmp_path, command):
    (tmp_path / "Dockerfile").write_text(EXEC_FORM)
    result = initify(*command, cwd=tmp_path)
    one_line_error(result, "missing")


@pytest.mark.parametrize("config, words", [
    ("severity = 5\n", ["`severity` must be a table"]),
    ("per-path-ignores = 5\n", ["`per-path-ignores` must be a table"]),
    ("images = 5\n", ["`images` must be a table"]),
    ('select = ["IN999"]\n', ["IN999"]),
    ('ignore = ["IN999"]\n', ["IN999"]),
])
def test_bad_configuration_values_are_one_line(tmp_path, config, words):
    (tmp_path / ".initify.toml").write_text(config)
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    one_line_error(initify("lint", ".", cwd=tmp_path), ".initify.toml", *words)


def test_pyproject_tool_initify_that_is_not_a_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool]\ninitify = 5\n")
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    one_line_error(initify("lint", ".", cwd=tmp_path), "pyproject.toml", "`tool.initify` must be a table")


def test_non_utf8_file_names_with_a_strict_utf8_stdout(tmp_path):
    name = os.fsdecode(b"Dockerfile.\xff")
    (tmp_path / name).write_text(SHELL_FORM)
    env = {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}
    for command in (["lint", "."], ["lint", "--format", "github", "."], ["fix", "--diff", "."], ["fix", "."]):
        result = initify(*command, cwd=tmp_path, env=env)
        no_traceback(result)
        assert "\\udcff" in result.stdout + result.stderr


def test_build_context_ignore_pattern_and_special_files(tmp_path):
    """`initify build` copies the context: a bad `.dockerignore` pattern is bad input, and FIFOs
    or sockets are not copied (they used to hang or crash the copy)."""
    from initify.commands import build
    from initify.errors import InputError

    ignore = tmp_path / ".dockerignore"
    ignore.write_text("*.log\n[z-a]\n")
    with pytest.raises(InputError) as caught:
        build.read_ignore(str(ignore))
    assert caught.value.line == 2 and "invalid pattern" in caught.value.reason
    context = tmp_path / "context"
    context.mkdir()
    (context / "app.py").write_text("print()\n")
    os.mkfifo(context / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(context / "sock"))
    try:
        copy = tmp_path / "copy"
        build.copy_context(str(context), str(copy), [])
    finally:
        server.close()
    assert sorted(os.listdir(copy)) == ["app.py"]


# --- IN001: never stop at one bad file ---------------------------------------------------------


def bad_tree(root: Path) -> None:
    (root / "good").mkdir()
    (root / "good" / "Dockerfile").write_text(SHELL_FORM)
    (root / "bad").mkdir()
    (root / "bad" / "Dockerfile").write_text("FROM alpine:3.20\nFROBNICATE x\nCMD python app.py\n")
    (root / "k8s").mkdir()
    (root / "k8s" / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n")


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_parse_errors_are_in001_in_every_format_and_the_rest_is_linted(tmp_path, output_format):
    bad_tree(tmp_path)
    result = initify("lint", "--format", output_format, ".", cwd=tmp_path)
    assert result.returncode == 2 and stderr_lines(result) == []
    if output_format in ("text", "github"):
        found = [(line.split(":")[0], line) for line in result.stdout.splitlines()]
        text = result.stdout
        assert "bad/Dockerfile:2:1: IN001 unknown instruction: FROBNICATE" in text or "bad/Dockerfile,line=2" in text
        assert "IN001" in text and "k8s/pod.yaml" in text and "IN101" in text and "good/Dockerfile" in text
        assert found
    elif output_format == "json":
        data = json.loads(result.stdout)
        assert {(f["code"], os.path.normpath(f["path"]), f["line"]) for f in data} >= {
            ("IN001", "bad/Dockerfile", 2), ("IN001", "k8s/pod.yaml", 5), ("IN101", "good/Dockerfile", 2)}
    else:
        data = json.loads(result.stdout)
        run = data["runs"][0]
        rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
        results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]}
        assert ("IN001", "bad/Dockerfile") in results and ("IN101", "good/Dockerfile") in results
        assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])


def test_in001_cannot_be_ignored(tmp_path):
    bad_tree(tmp_path)
    result = initify("lint", "--ignore", "IN001", "--select", "IN101", ".", cwd=tmp_path)
    assert result.returncode == 2 and "IN001" in result.stdout


def test_fix_writes_every_file_it_could_plan_and_never_an_unparsable_one(tmp_path):
    bad_tree(tmp_path)
    before_bad = (tmp_path / "bad" / "Dockerfile").read_bytes()
    before_pod = (tmp_path / "k8s" / "pod.yaml").read_bytes()
    result = initify("fix", "--select", "IN101", ".", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "IN001" in result.stdout
    assert (tmp_path / "good" / "Dockerfile").read_text() == EXEC_FORM
    assert (tmp_path / "bad" / "Dockerfile").read_bytes() == before_bad
    assert (tmp_path / "k8s" / "pod.yaml").read_bytes() == before_pod


def test_a_dockerfile_is_not_written_when_the_manifest_paired_with_it_cannot_be_planned(tmp_path):
    """Written together or not at all: the compose file names a stage that does not exist, so
    neither it nor the Dockerfile it builds is rewritten."""
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    compose = "services:\n  app:\n    build:\n      context: .\n      target: nope\n"
    (tmp_path / "compose.yaml").write_text(compose)
    result = initify("fix", ".", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "compose.yaml:3:1: IN001" in result.stdout
    assert (tmp_path / "Dockerfile").read_text() == SHELL_FORM
    assert (tmp_path / "compose.yaml").read_text() == compose
    assert "not rewritten" in result.stderr


def test_fix_of_a_folder_with_a_go_template_dockerfile(tmp_path):
    (tmp_path / "Dockerfile").write_text(SHELL_FORM)
    (tmp_path / "Dockerfile.tmpl").write_text("FROM {{ .Base }}\n{{ range .Steps }}RUN {{ . }}\n{{ end }}CMD python app.py\n")
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: a\n    image: app:1\n")
    result = initify("fix", ".", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Dockerfile.tmpl: skipped, a template" in result.stderr


# --- only regular files, read whole ------------------------------------------------------------


@pytest.mark.parametrize("name", ["Dockerfile", "pod.yaml", "compose.yaml"])
def test_a_fifo_in_a_scanned_folder_is_in001_not_a_hang(tmp_path, name):
    os.mkfifo(tmp_path / name)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text(SHELL_FORM)
    for command in (["lint"], ["fix"], ["fix", "--diff"]):
        result = initify(*command, ".", cwd=tmp_path, timeout=60)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        report = result.stderr if "--diff" in command else result.stdout  # a diff stays a clean patch
        assert f"{name}:1:1: IN001 not a regular file (a FIFO)" in report
    assert (tmp_path / "sub" / "Dockerfile").read_text() == EXEC_FORM


def test_a_dockerfile_symlink_to_dev_zero(tmp_path):
    (tmp_path / "Dockerfile").symlink_to("/dev/zero")
    scanned = initify("lint", ".", cwd=tmp_path, timeout=60)
    assert scanned.returncode == 2 and "IN001 not a regular file (a character device)" in scanned.stdout
    one_line_error(initify("lint", "Dockerfile", cwd=tmp_path, timeout=60), "not a regular file")
    one_line_error(initify("fix", "Dockerfile", cwd=tmp_path, timeout=60), "not a regular file")


def test_a_fifo_named_explicitly_is_exit_2(tmp_path):
    os.mkfifo(tmp_path / "Dockerfile")
    one_line_error(initify("lint", "Dockerfile", cwd=tmp_path, timeout=60), "Dockerfile", "FIFO")


def test_a_file_over_the_size_cap_is_reported_not_cut(tmp_path):
    from initify.discover import MAX_BYTES

    with open(tmp_path / "Dockerfile", "w") as handle:
        handle.write(SHELL_FORM)
        handle.write("# " + "x" * MAX_BYTES + "\n")
    result = initify("lint", ".", cwd=tmp_path)
    assert result.returncode == 2 and f"larger than {MAX_BYTES:,} bytes" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to a user")
def test_an_unreadable_file_named_explicitly_is_one_finding_not_a_usage_error(project):
    """click's three-line usage error is gone: the file is an IN001 finding, exit 2."""
    if not unprivileged_can_run():
        pytest.skip("the unprivileged user cannot run this Python")
    path = project / "Dockerfile"
    path.write_text(SHELL_FORM)
    share(project)
    path.chmod(0)
    result = initify("lint", str(path), user=NOBODY)
    assert result.returncode == 2 and stderr_lines(result) == []
    assert result.stdout.splitlines()[0] == f"{path}:1:1: IN001 cannot read: Permission denied"


def test_fix_never_truncates_a_large_entrypoint_script(tmp_path):
    """Context files were read up to 1,000,000 bytes and IN105 rewrote the whole script from that."""
    script = "#!/bin/sh\npython prepare.py\n#" + "x" * 1_000_000 + "\nexec python app.py\n"
    (tmp_path / "entry.sh").write_text(script)
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n')
    result = initify("fix", "Dockerfile", cwd=tmp_path)
    no_traceback(result)
    assert (tmp_path / "entry.sh").read_text() == script


@pytest.mark.parametrize("output_format", ["text", "json", "json-lines", "sarif", "github", "junit", "gitlab"])
def test_an_entrypoint_script_over_the_cap_is_named_not_skipped_silently(tmp_path, output_format):
    """A context script over the read cap was skipped without a word (`All checks passed`): now
    one note names it and the cap, in every format, and fix leaves it alone."""
    from initify.discover import MAX_BYTES

    script = "#!/bin/sh\npython prepare.py\n#" + "x" * MAX_BYTES + "\npython app.py\n"
    (tmp_path / "entry.sh").write_text(script)
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n')
    note = (f"initify: note: Dockerfile:2: entry.sh (run as /entry.sh) is larger than {MAX_BYTES:,} bytes, "
            "the most initify reads: it is not checked and never edited")
    result = initify("lint", "--format", output_format, "Dockerfile", cwd=tmp_path)
    no_traceback(result)
    assert stderr_lines(result) == [note], result.stderr
    if output_format == "text":
        result = initify("fix", "Dockerfile", cwd=tmp_path)
        no_traceback(result)
        assert stderr_lines(result).count(note) == 1, result.stderr
        assert (tmp_path / "entry.sh").read_text() == script


def test_an_entrypoint_script_over_the_cap_is_named_for_a_paired_manifest(tmp_path):
    """The manifest's run reads the Dockerfile it pairs with: the note comes from there too."""
    from initify.discover import MAX_BYTES

    (tmp_path / "entry.sh").write_text("#!/bin/sh\n#" + "x" * MAX_BYTES + "\npython app.py\n")
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n')
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
                                       "  - name: app\n    image: app:1\n")
    result = initify("lint", "--image", "app:1=Dockerfile", "pod.yaml", cwd=tmp_path)
    no_traceback(result)
    assert [line for line in stderr_lines(result) if "entry.sh" in line] == [
        f"initify: note: Dockerfile:2: entry.sh (run as /entry.sh) is larger than {MAX_BYTES:,} bytes, "
        "the most initify reads: it is not checked and never edited"], result.stderr


# --- writes: all or nothing --------------------------------------------------------------------


def share(folder: Path, owner: int = NOBODY) -> None:
    """Let the unprivileged user reach and own `folder` (pytest's tmp folders are root's, 0700)."""
    for parent in [folder, *folder.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode & 0o777
        parent.chmod(mode | 0o011)
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, owner, owner)


def unprivileged_can_run() -> bool:
    probe = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                            "-c", "import initify"], capture_output=True)
    return probe.returncode == 0


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def project():  # noqa: F811 - defined after its first use on purpose, next to the write tests
    """A project folder outside pytest's root-only tmp tree, for the unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="initify-hardening-"))
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)  # shutil.rmtree recurses: 1000 levels are too deep


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to a user")
def test_a_read_only_folder_among_three_writes_nothing(project):
    if not unprivileged_can_run():
        pytest.skip("the unprivileged user cannot run this Python")
    for name in ("a", "b", "c"):
        (project / name).mkdir()
        (project / name / "Dockerfile").write_text(SHELL_FORM)
    share(project)
    (project / "b").chmod(0o555)
    before = snapshot(project)
    result = initify("fix", "--select", "IN101", ".", cwd=project, user=NOBODY)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("initify: error: ./b/Dockerfile: cannot write: Permission denied")
    assert ".initify-" not in result.stderr and "?" not in result.stderr
    assert snapshot(project) == before
    assert initify("lint", "--select", "IN101", ".", cwd=project, user=NOBODY).returncode == 1  # nothing looks fixed


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to a user")
def test_an_unwritable_init_folder_writes_nothing(project):
    """IN106 adds `.initify/initify-init` and a COPY of it: both or neither, else a rerun passes
    while the build fails on the missing init."""
    if not unprivileged_can_run():
        pytest.skip("the unprivileged user cannot run this Python")
    (project / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"sh\", \"-c\", \"python a.py & python b.py; wait\"]\n")
    (project / ".initify").mkdir()
    share(project)
    (project / ".initify").chmod(0o555)
    before = snapshot(project)
    result = initify("fix", "--unsafe-fixes", "--init", "python", "--select", "IN106", ".", cwd=project, user=NOBODY)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "initify-init: cannot write" in result.stderr and ".initify-" not in result.stderr.replace(".initify/", "")
    assert snapshot(project) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_writes_nothing(project):
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(project)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")
    try:
        (project / "a").mkdir()
        (project / "a" / "Dockerfile").write_text(SHELL_FORM)
        (project / "b").mkdir()
        big = "FROM python:3.12-slim\n" + "# padding\n" * 3000 + "CMD python app.py\n"
        (project / "b" / "Dockerfile").write_text(big)
        filler = project / "filler"
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk, then free less than the new b/Dockerfile needs
            while os.write(descriptor, b"\0" * 1024):
                pass
        except OSError:
            pass
        size = os.fstat(descriptor).st_size
        os.ftruncate(descriptor, size - len(big) // 2)
        os.close(descriptor)
        before = snapshot(project)
        result = initify("fix", "--select", "IN101", ".", cwd=project)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert "cannot write: No space left on device" in result.stderr and ".initify-" not in result.stderr
        assert snapshot(project) == before
    finally:
        subprocess.run(["umount", str(project)], capture_output=True)


def test_a_file_edited_while_fix_runs_is_not_overwritten(tmp_path):
    from initify.commands import fix

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a", "b"):
        (tmp_path / name / "Dockerfile").write_text(SHELL_FORM)
    plan = fix.plan([str(tmp_path)], fix.FixOptions(select=["IN101"]))
    edited = SHELL_FORM + "# the user's edit\n"
    (tmp_path / "b" / "Dockerfile").write_text(edited)
    refused = fix.write(plan)
    assert len(refused) == 1 and "b/Dockerfile: changed on disk while initify fix ran" in refused[0]
    assert (tmp_path / "b" / "Dockerfile").read_text() == edited
    assert (tmp_path / "a" / "Dockerfile").read_text() == EXEC_FORM


def wait_for_sigterm_handler(pid: int, limit: float = 120) -> None:
    """Wait until process `pid` catches SIGTERM (its `SigCgt` mask in /proc), as `fix` does from
    the start of its work."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.01)


@pytest.mark.parametrize("signal_number, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_fix_leaves_no_temporary_files(tmp_path, signal_number, status):
    """Sent while fix works on many files; whatever the moment, the status says so, no
    `.initify-XXXX` is left and every file is either untouched or fully fixed."""
    count = 2000
    for attempt in range(4):
        root = tmp_path / f"run{attempt}"
        for n in range(count):
            folder = root / f"d{n}"
            folder.mkdir(parents=True)
            (folder / "Dockerfile").write_text(SHELL_FORM)
        process = subprocess.Popen([sys.executable, "-m", "initify", "fix", "--select", "IN101", "."], cwd=root,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_sigterm_handler(process.pid)  # fix has started: before that, a signal is just fatal
        time.sleep(0.3 * attempt)
        process.send_signal(signal_number)
        out, err = process.communicate(timeout=300)
        if "file(s) rewritten" in out:
            count *= 3  # finished before the signal: try a bigger tree
            continue
        assert process.returncode == status, (process.returncode, err[-2000:])
        assert err.strip().splitlines()[-1] == "initify: interrupted; nothing was written"
        assert not [p for p in root.rglob(".initify-*")]
        texts = {p.read_text() for p in root.rglob("Dockerfile")}
        assert texts <= {SHELL_FORM, EXEC_FORM}
        return
    pytest.skip("fix always finished before the signal arrived")


# --- secrets -----------------------------------------------------------------------------------

SECRET = "TOPSECRET=hunter2-do-not-print"


def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "creds"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: app\n    image: app:1\n"


@pytest.mark.parametrize("layout", ["compose-dockerfile", "compose-context", "config-images", "symlink", "duplicate-key"])
def test_nothing_outside_the_project_is_read_or_printed(tmp_path, layout):
    creds = secret_file(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    if layout == "compose-dockerfile":
        (project / "compose.yaml").write_text(f"services:\n  app:\n    build:\n      context: .\n      dockerfile: {creds}\n")
    elif layout == "compose-context":
        (project / "compose.yaml").write_text(f"services:\n  app:\n    build:\n      context: {creds.parent}\n      dockerfile: creds\n")
    elif layout == "config-images":
        (project / ".initify.toml").write_text(f'images = {{ "app" = "{creds}" }}\n')
        (project / "pod.yaml").write_text(POD)
    elif layout == "symlink":
        (project / "Dockerfile").symlink_to(creds)
    else:
        (project / "pod.yaml").write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: {SECRET}\n")
    for command in (["lint", "."], ["lint", "--format", "json", "."], ["fix", "."], ["fix", "--diff", "."]):
        result = initify(*command, cwd=project)
        no_traceback(result)
        assert "hunter2" not in result.stdout + result.stderr, (command, result.stdout, result.stderr)
        assert "TOPSECRET" not in result.stdout + result.stderr
    if layout == "symlink":
        one_line_error(initify("lint", "Dockerfile", cwd=project), "leaves the project")


def test_an_unknown_instruction_is_named_by_its_first_word_only(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nroot:x:0:0:root:/root:/bin/bash extra secret words\n")
    result = initify("lint", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown instruction: root:x:0:0:root:..." in result.stdout
    assert "/bin/bash" not in result.stdout and "secret" not in result.stdout


# --- manifest injection ------------------------------------------------------------------------

INJECTED_NAME = "Dockerfile\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: evil\nspec:\n  hostPID: true\n#"


@pytest.mark.parametrize("cmd", ['["python", "app.py"]', '["python", "a\u2028b.py", "c\u0085d", "e\u2029f"]'])
def test_manifest_escapes_names_and_commands(tmp_path, cmd):
    from ruamel.yaml import YAML

    (tmp_path / INJECTED_NAME).write_text(f"FROM python:3.12-slim\nSTOPSIGNAL SIGINT\nCMD {cmd}\n")
    result = initify("manifest", "--image", "app:1", "--kind", "Pod", INJECTED_NAME, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    documents = [d for d in YAML(typ="safe", pure=True).load_all(result.stdout) if d is not None]
    assert [d["kind"] for d in documents] == ["Pod"]
    assert documents[0]["metadata"]["name"] == "app" and "hostPID" not in documents[0]["spec"]


@pytest.mark.parametrize("make", ["symlink", "device"])
def test_manifest_output_refuses_non_regular_targets(tmp_path, make):
    (tmp_path / "Dockerfile").write_text(EXEC_FORM)
    target = tmp_path / "out.yaml"
    if make == "symlink":
        (tmp_path / "real.yaml").write_text("keep\n")
        target.symlink_to(tmp_path / "real.yaml")
        one_line_error(initify("manifest", "--image", "app:1", "Dockerfile", "-o", str(target), cwd=tmp_path), "not a regular file")
        assert target.is_symlink() and (tmp_path / "real.yaml").read_text() == "keep\n"
    else:
        one_line_error(initify("manifest", "--image", "app:1", "Dockerfile", "-o", "/dev/null", cwd=tmp_path), "not a regular file")
        assert Path("/dev/null").is_char_device()
    to_stdout = initify("manifest", "--image", "app:1", "Dockerfile", "-o", "-", cwd=tmp_path)
    assert to_stdout.returncode == 0 and "kind: Deployment" in to_stdout.stdout


# --- smaller ----------------------------------------------------------------------------------


def test_verify_manifest_fifo_is_one_line_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pod.yaml")
    result = initify("verify", "--as", "kubernetes", "--manifest", "pod.yaml", "app:1", cwd=tmp_path, timeout=60)
    one_line_error(result, "pod.yaml", "not a regular file")


@pytest.mark.parametrize("name, header", [
    ("odd\tname.Dockerfile", '"a/odd\\tname.Dockerfile"'),
    ("odd\nname.Dockerfile", '"a/odd\\nname.Dockerfile"'),
    ("plain.Dockerfile", "a/plain.Dockerfile"),
])
def test_diff_headers_quote_tabs_and_newlines(tmp_path, name, header):
    (tmp_path / name).write_text(SHELL_FORM)
    result = initify("fix", "--diff", "--select", "IN101", name, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"--- {header}" and lines[1] == "+++ " + header.replace("a/", "b/", 1)


def test_a_yaml_alias_bomb_is_in001(tmp_path):
    """Nine levels of nine aliases beside one fixable container used to expand for every fixable
    finding (264 s, 2.9 GB, then MemoryError). The expansion is counted once and refused."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n"
           '    command: ["sh", "-c", "python app.py"]\n')
    (tmp_path / "pod.yaml").write_text(pod + "---\n" + "\n".join(lines) + "\n")
    for command in (["lint"], ["fix"], ["fix", "--diff"]):
        result = initify(*command, "pod.yaml", cwd=tmp_path, timeout=120)
        assert result.returncode == 2, (command, result.stderr)
        assert "IN001 YAML aliases expand to more than 1,000,000 values" in result.stdout + result.stderr
    assert (tmp_path / "pod.yaml").read_text().startswith(pod)


def test_a_small_alias_is_still_read(tmp_path):
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n"
        "    command: &cmd [\"sh\", \"-c\", \"python app.py\"]\n  - name: b\n    image: app:1\n    command: *cmd\n")
    result = initify("lint", "--select", "IN204", "pod.yaml", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.count("IN204") == 2, result.stdout

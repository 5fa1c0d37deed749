"""initify never passes silently (issue 15): unsafe-only fixes, pairing from the disk, standard
input, Helm charts, manifests under other names. Every test runs the real command line in a
subprocess, in a real folder, the way pre-commit and CI run it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from tests.clirun import initify

ROOT = Path(__file__).resolve().parent.parent

COMPOUND = 'FROM python:3.12-slim\nCMD ["sh", "-c", "python /app.py; echo done"]\n'  # only the unsafe IN106 fix
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: registry.example.com/web:1
"""


# --------------------------------------------------------------------------------------------
# fix --check / --diff when only unsafe fixes are left; [*] and [~]
# --------------------------------------------------------------------------------------------


def test_check_with_only_unsafe_fixes_left_exits_1_and_names_unsafe_fixes(tmp_path):
    (tmp_path / "Dockerfile").write_text(COMPOUND)
    out = initify("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert "--unsafe-fixes" in last and "Dockerfile:2 IN106" in last and last.startswith("0 file(s) would be rewritten")
    assert (tmp_path / "Dockerfile").read_text() == COMPOUND


def test_diff_with_only_unsafe_fixes_left_says_so(tmp_path):
    (tmp_path / "Dockerfile").write_text(COMPOUND)
    out = initify("fix", "--diff", "Dockerfile", cwd=tmp_path)
    assert out.stdout == ""  # no diff: nothing safe to change
    assert "only 1 unsafe fix(es) left, applied with --unsafe-fixes: Dockerfile:2 IN106" in out.stderr


def test_check_with_nothing_to_fix_exits_0_silently(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCMD ["python", "/app.py"]\n')
    out = initify("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == ""


def test_markers_tell_safe_from_unsafe_fixes(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python /app.py; echo done\nSTOPSIGNAL KILL\n")
    out = initify("lint", "Dockerfile", cwd=tmp_path)
    lines = {line.split()[1]: line for line in out.stdout.splitlines() if line.startswith("Dockerfile:")}
    assert lines["IN109"].split()[2] == "[*]"  # replacing SIGKILL is safe
    assert lines["IN101"].split()[2] == "[~]" and lines["IN106"].split()[2] == "[~]"
    summary = out.stdout.splitlines()[-1]
    assert "1 marked [*] can be fixed with `initify fix`" in summary
    assert "2 marked [~] only with `initify fix --unsafe-fixes`" in summary


# --------------------------------------------------------------------------------------------
# Pairing from the disk: a manifest alone, a Dockerfile alone, judged as the whole project is
# --------------------------------------------------------------------------------------------

SYSTEMD = 'FROM fedora:40\nCMD ["/sbin/init"]\n'
SYSTEMD_POD = POD.replace("registry.example.com/web:1", "ghcr.io/acme/app:1") + "    tty: true\n"


def findings_of(out: subprocess.CompletedProcess):
    return sorted(line.split(": ", 1)[0].replace("./", "", 1) + " " + line.split()[1]
                  for line in out.stdout.splitlines() if ": IN" in line)


def stderr_notes(out: subprocess.CompletedProcess):
    """stderr without the image-facts summary line every run prints (initify.image.facts.summary)."""
    return [line for line in out.stderr.splitlines() if not line.startswith("initify: image facts")]


def project(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "Dockerfile").write_text(SYSTEMD)
    (tmp_path / "k8s" / "pod.yaml").write_text(SYSTEMD_POD)
    (tmp_path / "ci.yml").write_text("on: push\nbad: [\n")  # unrelated and unparsable: never read
    return tmp_path


def test_pre_commit_files_judge_as_all_files(tmp_path):
    """`pre-commit run --files k8s/pod.yaml` and `--files Dockerfile` find what the whole project run finds."""
    project(tmp_path)
    whole = initify("lint", "Dockerfile", "k8s/pod.yaml", cwd=tmp_path)
    manifest = initify("lint", "k8s/pod.yaml", cwd=tmp_path)
    dockerfile = initify("lint", "Dockerfile", cwd=tmp_path)
    assert "k8s/pod.yaml:7:5 IN201" in findings_of(whole)
    assert findings_of(manifest) == [f for f in findings_of(whole) if f.startswith("k8s/")]
    assert findings_of(dockerfile) == findings_of(whole)
    assert stderr_notes(manifest) == stderr_notes(dockerfile) == []


def test_manifests_of_other_images_beside_a_dockerfile_are_not_judged(tmp_path):
    project(tmp_path)
    (tmp_path / "k8s" / "redis.yaml").write_text(SYSTEMD_POD.replace("ghcr.io/acme/app:1", "redis:7").replace("name: web", "name: redis"))
    dockerfile = initify("lint", "Dockerfile", cwd=tmp_path)
    # Two application images in the project: pairing is ambiguous, as for the whole project.
    assert findings_of(dockerfile) == ["Dockerfile:2:1 IN107"]
    assert stderr_notes(dockerfile) == []


def test_unpaired_images_get_one_note_per_run(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "pod.yaml").write_text(POD)
    (tmp_path / "b" / "pod.yaml").write_text(POD.replace("web:1", "api:2"))
    (tmp_path / "compose.yaml").write_text("services:\n  cache:\n    image: redis:7\n")
    out = initify("lint", ".", cwd=tmp_path)
    notes = [line for line in out.stderr.splitlines() if line.startswith("initify: note:")]
    # redis:7 is judged with what the knowledge table says it runs: it is not blind, not listed.
    assert notes == ["initify: note: 2 image(s) judged without a Dockerfile (what the image sets is unknown): "
                     "registry.example.com/api:2, registry.example.com/web:1; pair with "
                     "--image REF=path/to/Dockerfile or `images` in the configuration"]


def test_images_the_knowledge_table_knows_are_not_called_blind(tmp_path):
    """nginx:1.27 is judged with what the table says it runs (its ENTRYPOINT, CMD, STOPSIGNAL):
    the note lists only the image nothing is known of."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "pod.yaml").write_text(POD)
    (tmp_path / "b" / "pod.yaml").write_text(POD.replace("registry.example.com/web:1", "nginx:1.27"))
    out = initify("lint", ".", cwd=tmp_path)
    notes = [line for line in out.stderr.splitlines() if line.startswith("initify: note:")]
    assert notes == ["initify: note: 1 image(s) judged without a Dockerfile (what the image sets is unknown): "
                     "registry.example.com/web:1; pair with --image REF=path/to/Dockerfile or `images` in the "
                     "configuration"]
    assert out.returncode == 0, out.stdout  # judged: nginx's STOPSIGNAL SIGQUIT is sent by every runtime


# --------------------------------------------------------------------------------------------
# Standard input, content sniffing, Helm charts
# --------------------------------------------------------------------------------------------

SHELL_POD = POD + '    command: ["sh", "-c", "echo start; python app.py"]\n'
# What `helm template` prints: documents with `# Source:` comments, a Service first.
RENDERED = ("---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
            "spec:\n  ports:\n  - port: 80\n---\n# Source: web/templates/pod.yaml\n" + SHELL_POD)


def test_lint_reads_helm_template_output_from_stdin(tmp_path):
    out = initify("lint", "-", cwd=tmp_path, stdin=RENDERED)
    assert out.returncode == 1, out.stderr
    line = RENDERED.splitlines().index('    command: ["sh", "-c", "echo start; python app.py"]') + 1
    assert f"-:{line}:5: IN204" in out.stdout


def test_stdin_filename_names_the_findings_and_chooses_the_reader(tmp_path):
    out = initify("lint", "-", "--stdin-filename", "deploy/web.yaml", cwd=tmp_path, stdin=SHELL_POD)
    assert "deploy/web.yaml:9:5: IN204" in out.stdout
    dockerfile = initify("lint", "-", "--stdin-filename", "Containerfile", cwd=tmp_path, stdin="FROM debian:12\nCMD sleep 100\n")
    assert "Containerfile:2:1: IN101" in dockerfile.stdout
    compose = initify("lint", "-", cwd=tmp_path, stdin='services:\n  app:\n    image: x:1\n    command: ["sh", "-c", "a; b"]\n')
    assert "-:4:5: IN301" in compose.stdout


def test_stdin_without_a_name_is_sniffed_as_a_dockerfile(tmp_path):
    out = initify("lint", "-", cwd=tmp_path, stdin="FROM debian:12\nCMD sleep 100\n")
    assert "-:2:1: IN101" in out.stdout


def test_fix_from_stdin_prints_the_fixed_text_only(tmp_path):
    out = initify("fix", "-", cwd=tmp_path, stdin=RENDERED)
    assert out.stdout == RENDERED.replace("echo start; python app.py", "echo start; exec python app.py")
    assert "IN204 fixed" in out.stderr and out.returncode == 0
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_fix_from_stdin_leaves_fixes_that_need_other_files(tmp_path):
    (tmp_path / "run.sh").write_text('#!/bin/sh\necho hi\n"$@"\n')
    text = 'FROM python:3.12-slim\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n'
    out = initify("fix", "-", "--stdin-filename", "Dockerfile", cwd=tmp_path, stdin=text)
    assert out.stdout == text and "IN105" in out.stderr and out.returncode == 1
    assert (tmp_path / "run.sh").read_text() == '#!/bin/sh\necho hi\n"$@"\n'


def test_a_manifest_under_another_name_is_read_as_yaml(tmp_path):
    (tmp_path / "rendered.txt").write_text(RENDERED)
    out = initify("lint", "rendered.txt", cwd=tmp_path)
    assert "rendered.txt:" in out.stdout and "IN204" in out.stdout and out.returncode == 1
    for args in (["/dev/stdin"], ["-"]):
        piped = initify("lint", *args, cwd=tmp_path, stdin=RENDERED)
        assert "IN204" in piped.stdout, piped.stderr


def test_a_chart_folder_gets_a_note_with_the_helm_command(tmp_path):
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: registry.example.com/web:1\n")
    (chart / "templates" / "pod.yaml").write_text(SHELL_POD.replace("registry.example.com/web:1", "{{ .Values.image }}"))
    out = initify("lint", ".", cwd=tmp_path)
    assert out.stderr == ("initify: note: ./charts/web: a Helm chart, whose files are templates rather than manifests; "
                          "lint what it renders: `helm template ./charts/web | initify lint -`\n")


def test_fix_of_a_chart_folder_says_to_fix_what_it_renders(tmp_path):
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "pod.yaml").write_text(SHELL_POD.replace("registry.example.com/web:1", "{{ .Values.image }}"))
    out = initify("fix", "web", cwd=tmp_path)
    assert "initify: note: web: a Helm chart" in out.stderr and "`helm template web | initify fix -`" in out.stderr


def test_fix_of_a_manifest_alone_pairs_from_the_disk_too(tmp_path):
    project(tmp_path)
    # unsafe: whether fedora:40 has a kill program is not known from the knowledge table
    out = initify("fix", "--unsafe-fixes", "k8s/pod.yaml", cwd=tmp_path)
    assert "k8s/pod.yaml:7: IN201 fixed (preStop kill -RTMIN+3 1)" in out.stdout, out.stdout + out.stderr
    assert (tmp_path / "Dockerfile").read_text() == SYSTEMD  # only the named file is written

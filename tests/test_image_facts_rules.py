"""Rules and fixes decided by what the image really is (initify.image.facts), through the real pipeline.

The images here come from the knowledge table (`--image-facts off` behaviour: no local storage
read), so the tests show how each fact changes a finding; tests/test_image_storage.py and
tests/test_image_registry.py read real images.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from manifest_helpers import line_of, run, workload, write  # noqa: E402

from initify.commands import fix as fix_module  # noqa: E402
from initify.image import facts as image_facts  # noqa: E402


@pytest.fixture(autouse=True)
def table_only():
    """Resolve every image from the knowledge table, whatever the local store holds."""
    image_facts.configure("off")
    yield
    image_facts.configure("local")


def lint(tmp_path, files, select=None):
    paths = write(tmp_path, files)
    return run(list(paths.values()), select=select).findings


# --- IN101: what the image's /bin/sh does with a shell-form CMD --------------------------------

@pytest.mark.parametrize("base, shell", [("alpine:3.20", "busybox"), ("fedora:41", "bash"), ("node:22-alpine", "busybox")])
def test_shell_form_cmd_on_a_shell_that_execs_is_info(tmp_path, base, shell):
    (found,) = lint(tmp_path, {"Dockerfile": f"FROM {base}\nCMD python3 app.py\n"}, select=["IN101"])
    assert found.severity == "info"
    assert f"/bin/sh is {shell} (knowledge table" in found.message and "runs as PID 1" in found.message
    assert found.fix is not None and found.fix.safe


def test_shell_form_cmd_on_dash_keeps_the_error(tmp_path):
    (found,) = lint(tmp_path, {"Dockerfile": "FROM debian:bookworm\nCMD python3 app.py\n"}, select=["IN101"])
    assert found.severity == "error" and "/bin/sh -c runs as PID 1" in found.message


def test_shell_form_cmd_with_a_compound_tail_keeps_the_error_on_busybox(tmp_path):
    (found,) = lint(tmp_path, {"Dockerfile": "FROM alpine:3.20\nCMD python3 app.py | tee /log\n"}, select=["IN101"])
    assert found.severity == "error"


def test_shell_form_cmd_on_an_unknown_image_says_what_is_not_known(tmp_path):
    (found,) = lint(tmp_path, {"Dockerfile": "FROM example.invalid/base:1\nCMD python3 app.py\n"}, select=["IN101"])
    assert found.severity == "error" and "this image's shell is not known" in found.message


def test_the_real_shell_decides_what_pid1_is(tmp_path):
    text = "FROM {}\nCMD cd /srv && python3 app.py\n"
    # BusyBox ash execs python3: it is PID 1, IN101 is a note
    (found,) = lint(tmp_path, {"Dockerfile": text.format("alpine:3.20")}, select=["IN101", "IN106"])
    assert (found.code, found.severity) == ("IN101", "info") and "`python3 app.py` runs as PID 1" in found.message
    # dash forks it and stays PID 1: IN101 is the error; IN106 does not repeat the cause, since
    # IN101's fix (`cd /srv && exec python3 app.py`) makes python3 PID 1 (one finding per cause)
    (found,) = lint(tmp_path / "debian", {"Dockerfile": text.format("debian:bookworm")}, select=["IN101", "IN106"])
    assert (found.code, found.severity) == ("IN101", "error") and "/bin/sh -c runs as PID 1" in found.message
    assert found.fix is not None and "exec python3 app.py" in found.fix.edits[0].text


# --- IN107: only when /sbin/init really is systemd -------------------------------------------

def test_busybox_init_on_alpine_is_not_systemd(tmp_path):
    text = 'FROM alpine:3.20\nCMD ["/sbin/init"]\n'
    assert lint(tmp_path, {"Dockerfile": text}, select=["IN107", "IN106", "IN108"]) == []
    path = write(tmp_path, {"Dockerfile": text})["Dockerfile"]
    plan = fix_module.plan([path], fix_module.FixOptions(unsafe_fixes=True))
    assert plan.changed() == [] and "SIGRTMIN+3" not in open(path).read()


def test_systemd_on_fedora_and_debian_is_still_flagged(tmp_path):
    for base in ("fedora:41", "debian:bookworm"):
        (found,) = lint(tmp_path, {"Dockerfile": f'FROM {base}\nCMD ["/sbin/init"]\n'}, select=["IN107"])
        assert found.fix is not None and "SIGRTMIN+3" in found.fix.edits[0].text


def test_busybox_init_in_a_pod_is_not_systemd(tmp_path):
    text = workload("Pod", 'containers:\n- name: app\n  image: alpine:3.20\n  command: ["/sbin/init"]\n')
    codes = [f.code for f in lint(tmp_path, {"pod.yaml": text})]
    assert not {"IN201", "IN205"} & set(codes), codes
    text = text.replace("alpine:3.20", "fedora:41")
    codes = [f.code for f in lint(tmp_path, {"pod.yaml": text})]
    assert {"IN201", "IN205"} <= set(codes), codes


def test_busybox_init_in_compose_is_not_systemd(tmp_path):
    text = 'services:\n  app:\n    image: alpine:3.20\n    command: ["/sbin/init"]\n'
    assert [f.code for f in lint(tmp_path, {"compose.yaml": text}) if f.code == "IN303"] == []
    text = text.replace("alpine:3.20", "fedora:41")
    assert [f.code for f in lint(tmp_path, {"compose.yaml": text}) if f.code == "IN303"] == ["IN303"]


# --- IN106 fix: the image's own package manager, tini -g, initify-init only with python3 -------

@pytest.mark.parametrize("base, install", [
    ("node:22-alpine", "RUN apk add --no-cache tini"),
    ("debian:bookworm", "RUN apt-get update && apt-get install -y --no-install-recommends tini"),
    ("fedora:41", "RUN dnf install -y tini && dnf clean all"),
    ("centos:7", "RUN yum install -y tini && yum clean all"),
])
def test_tini_comes_from_the_image_package_manager(tmp_path, base, install):
    path = write(tmp_path, {"Dockerfile": f'FROM {base}\nCMD ["sh", "-c", "npm start | tee /log"]\n'})["Dockerfile"]
    plan = fix_module.plan([path], fix_module.FixOptions(unsafe_fixes=True, select=["IN106"]))
    (state,) = plan.changed()
    # node's own ENTRYPOINT (docker-entrypoint.sh, inherited) stays behind tini
    entrypoint = ', "docker-entrypoint.sh"]' if base.startswith("node:") else "]"
    assert install in state.text and 'ENTRYPOINT ["tini", "-g", "--"' + entrypoint in state.text


def test_initify_init_only_where_python3_is_there(tmp_path):
    path = write(tmp_path, {"Dockerfile": 'FROM python:3.12-alpine\nCMD ["sh", "-c", "a | b"]\n'})["Dockerfile"]
    plan = fix_module.plan([path], fix_module.FixOptions(unsafe_fixes=True, select=["IN106"]))
    texts = {os.path.basename(s.path): s.text for s in plan.changed()}
    assert '"/usr/local/bin/initify-init"' in texts["Dockerfile"] and "apk" not in texts["Dockerfile"]


# --- manifests: a kill the image has, and images not built here -------------------------------

def test_unpaired_image_config_decides_pid1(tmp_path):
    """busybox has no ENTRYPOINT: `args` is the whole command, so the shell in args is PID 1."""
    text = workload("Pod", 'containers:\n- name: app\n  image: busybox:1.36\n  args: ["sh", "-c", "while true; do sleep 5; done"]\n')
    found = [(f.code, f.line) for f in lint(tmp_path, {"pod.yaml": text}) if f.code in ("IN204", "IN206")]
    assert ("IN204", line_of(text, "args:")) in found and ("IN206", line_of(text, "args:")) in found


def test_unpaired_image_with_a_sig_prefixed_stopsignal_is_left_to_the_runtime(tmp_path):
    """nginx sets STOPSIGNAL SIGQUIT: containerd and CRI-O have sent a SIG-prefixed standard name
    since 2017, so the pod needs no preStop kill and IN201 stays silent."""
    text = workload("Pod", "containers:\n- name: web\n  image: nginx:1.27-alpine\n")
    assert [f for f in lint(tmp_path, {"pod.yaml": text}) if f.code == "IN201"] == []


def paired_quit(tmp_path, base: str):
    """A pod of an image FROM `base` whose STOPSIGNAL is spelled `QUIT` (no SIG prefix: containerd
    < 1.6 cannot parse it, CRI-O 1.18 to 1.22.1 send SIGTERM), so IN201 asks for a preStop kill."""
    dockerfile = f'FROM {base}\nSTOPSIGNAL QUIT\nCMD ["nginx", "-g", "daemon off;"]\n'
    pod = workload("Pod", "containers:\n- name: web\n  image: registry.example.com/web:1\n")
    paths = write(tmp_path, {"Dockerfile": dockerfile, "pod.yaml": pod})
    result = run([paths["pod.yaml"]], images={"registry.example.com/web:1": paths["Dockerfile"]}, k8s_version="1.29")
    (found,) = [f for f in result.findings if f.code == "IN201"]
    return found


def test_prestop_uses_busybox_kill_where_the_base_has_it(tmp_path):
    found = paired_quit(tmp_path, "nginx:1.27-alpine")
    assert "the image stops on SIGQUIT" in found.message and "without the SIG prefix" in found.message
    assert found.fix is not None and found.fix.safe  # BusyBox's kill is known to be there
    assert '["kill", "-QUIT", "1"]' in found.fix.edits[0].text


def test_prestop_uses_the_shell_builtin_without_a_kill_program(tmp_path):
    found = paired_quit(tmp_path, "nginx:1.27")  # Debian slim: no /bin/kill (procps)
    assert '["/bin/sh", "-c", "kill -QUIT 1"]' in found.fix.edits[0].text


def test_no_prestop_can_work_without_shell_and_kill(tmp_path):
    dockerfile = 'FROM gcr.io/distroless/static-debian12\nSTOPSIGNAL 2\nENTRYPOINT ["/app"]\n'
    pod = workload("Pod", "containers:\n- name: app\n  image: registry.example.com/app:1\n")
    paths = write(tmp_path, {"Dockerfile": dockerfile, "pod.yaml": pod})
    result = run([paths["pod.yaml"]], images={"registry.example.com/app:1": paths["Dockerfile"]}, k8s_version="1.29")
    (found,) = [f for f in result.findings if f.code == "IN201"]
    assert "CRI-O 1.18 to 1.22.1 silently send SIGTERM for a signal number" in found.message
    assert "no preStop exec hook can work" in found.message and found.fix is None


def test_summary_counts_each_image_once(tmp_path):
    lint(tmp_path, {"a/Dockerfile": "FROM alpine:3.20\nCMD [\"/a\"]\n", "b/Dockerfile": "FROM alpine:3.20\nCMD [\"/b\"]\n"})
    assert image_facts.current().summary() == "initify: image facts (off): 1 image: 1 from the knowledge table"


def test_sbin_init_of_an_unknown_image_is_said_and_fixed_only_when_asked(tmp_path):
    (found,) = lint(tmp_path, {"Dockerfile": 'FROM example.invalid/base:1\nCMD ["/sbin/init"]\n'}, select=["IN107"])
    assert "what it is in example.invalid/base:1 is not known" in found.message
    assert found.fix is not None and not found.fix.safe
    (found,) = lint(tmp_path, {"Dockerfile": 'FROM example.invalid/base:1\nCMD ["/lib/systemd/systemd"]\n'}, select=["IN107"])
    assert "not known" not in found.message and found.fix.safe


@pytest.mark.parametrize("base", ["fedora:41", "registry.fedoraproject.org/fedora:40", "quay.io/fedora/fedora:41",
                                  "quay.io/centos/centos:stream9"])
def test_sbin_init_of_fedora_and_centos_from_their_own_registries_is_systemd(tmp_path, base):
    """Fedora and CentOS publish their base images on their own registries too (the
    systemd-nginx sample uses registry.fedoraproject.org): /sbin/init there is systemd, so IN107
    is certain and its fix safe."""
    (found,) = lint(tmp_path, {"Dockerfile": f'FROM {base}\nRUN dnf -y install systemd\nCMD ["/sbin/init"]\n'},
                    select=["IN107"])
    assert "not known" not in found.message and found.fix is not None and found.fix.safe


# --- a Dockerfile that sets no command inherits the base image's (here from the table) ----------

def test_inherited_stopsignal_of_the_base_is_kept(tmp_path):
    ubi_init = "registry.access.redhat.com/ubi9/ubi-init:latest"
    assert lint(tmp_path, {"Dockerfile": f"FROM {ubi_init}\nRUN true\n"}, select=["IN107"]) == []
    (found,) = lint(tmp_path, {"Dockerfile": f"FROM {ubi_init}\nSTOPSIGNAL SIGTERM\n"}, select=["IN107"])
    assert found.line == 2 and "not known" not in found.message
    (found,) = lint(tmp_path, {"Dockerfile": f"FROM {ubi_init}\nSTOPSIGNAL SIGTERM\n"}, select=["IN107"])
    assert found.fix.edits[0].text == "STOPSIGNAL SIGRTMIN+3\n"


def test_official_entrypoint_script_hands_over_to_the_cmd(tmp_path):
    """nginx's /docker-entrypoint.sh ends in `exec "$@"`: nginx is PID 1 and gets the image's
    STOPSIGNAL SIGQUIT; a STOPSIGNAL SIGTERM written in the Dockerfile is IN108's."""
    assert lint(tmp_path, {"Dockerfile": "FROM nginx:1.27\nRUN true\n"}, select=["IN108", "IN106"]) == []
    (found,) = lint(tmp_path, {"Dockerfile": "FROM nginx:1.27\nSTOPSIGNAL SIGTERM\n"}, select=["IN108", "IN106"])
    assert (found.code, found.line) == ("IN108", 2)


def test_unknown_base_without_command_is_silent(tmp_path):
    assert lint(tmp_path, {"Dockerfile": "FROM example.invalid/base:1\nRUN true\n"}) == []

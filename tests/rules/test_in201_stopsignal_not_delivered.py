"""IN201 stopsignal-not-delivered: the image needs a non-SIGTERM stop signal the pod spec does not send."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from manifest_helpers import WORKLOADS, line_of, run, workload, write  # noqa: E402

SYSTEMD_IMAGE = 'FROM fedora:40\nSTOPSIGNAL SIGRTMIN+3\nCMD ["/sbin/init"]\n'
NGINX_IMAGE = 'FROM nginx:1.27\nSTOPSIGNAL SIGQUIT\nCMD ["nginx", "-g", "daemon off;"]\n'
PLAIN = """
containers:
- name: app
  image: registry.example.com/app:1
  tty: true
"""


def lint(tmp_path, dockerfile, text, **options):
    files = {"pod.yaml": text} if dockerfile is None else {"Dockerfile": dockerfile, "pod.yaml": text}
    result = run(list(write(tmp_path, files).values()), select=["IN201"], **options)
    return [(f.code, f.line, f.severity) for f in result.findings], result


@pytest.mark.parametrize("kind", WORKLOADS)
def test_systemd_image_without_hook_is_an_error(tmp_path, kind):
    text = workload(kind, PLAIN)
    found, result = lint(tmp_path, SYSTEMD_IMAGE, text)
    assert found == [("IN201", line_of(text, "- name: app"), "error")]
    assert "containerd < 1.6" in result.findings[0].message
    assert '["kill", "-RTMIN+3", "1"]' in result.findings[0].message


def test_a_sig_prefixed_standard_stopsignal_is_left_to_the_runtime(tmp_path):
    """Every containerd and CRI-O since 2017 sends the image's SIGQUIT: nothing to report."""
    assert lint(tmp_path, NGINX_IMAGE, workload("Pod", PLAIN))[0] == []


@pytest.mark.parametrize("spelling, runtimes", [
    ("QUIT", "containerd < 1.6 cannot parse QUIT without the SIG prefix and CRI-O 1.18 to 1.22.1 silently send SIGTERM"),
    ("3", "CRI-O 1.18 to 1.22.1 silently send SIGTERM for a signal number"),
])
def test_a_spelling_some_runtimes_mishandle_is_a_warning(tmp_path, spelling, runtimes):
    text = workload("Pod", PLAIN)
    found, result = lint(tmp_path, NGINX_IMAGE.replace("SIGQUIT", spelling), text)
    assert found == [("IN201", line_of(text, "- name: app"), "warning")]
    assert runtimes in result.findings[0].message
    assert '["/bin/sh", "-c", "kill -QUIT 1"]' in result.findings[0].message


def test_prestop_kill_to_pid1_delivers_it(tmp_path):
    text = workload("Deployment", PLAIN + """
  lifecycle:
    preStop:
      exec:
        command: ["kill", "-RTMIN+3", "1"]
""")
    assert lint(tmp_path, SYSTEMD_IMAGE, text)[0] == []


def test_prestop_kill_in_sh_c_delivers_it(tmp_path):
    text = workload("Pod", PLAIN + """
  lifecycle:
    preStop:
      exec:
        command: ["/bin/sh", "-c", "kill -s QUIT 1; sleep 2"]
""")
    assert lint(tmp_path, NGINX_IMAGE, text)[0] == []


def test_prestop_kill_with_shared_process_namespace_hits_pause(tmp_path):
    text = workload("Pod", "shareProcessNamespace: true\n" + PLAIN + """
  lifecycle:
    preStop:
      exec:
        command: ["kill", "-QUIT", "1"]
""")
    found, result = lint(tmp_path, NGINX_IMAGE, text)
    assert found == [("IN201", line_of(text, "preStop:"), "warning")]
    assert "pause container" in result.findings[0].message


def test_lifecycle_stop_signal_delivers_it_from_133(tmp_path):
    text = workload("Pod", "os:\n  name: linux\n" + PLAIN + "  lifecycle:\n    stopSignal: SIGRTMIN+3\n")
    assert lint(tmp_path, SYSTEMD_IMAGE, text, k8s_version="1.33")[0] == []
    found, result = lint(tmp_path, SYSTEMD_IMAGE, text, k8s_version="1.32")
    assert found == [("IN201", line_of(text, "- name: app"), "error")]
    assert "ignored before Kubernetes 1.33" in result.findings[0].message
    assert "lifecycle.stopSignal: SIGRTMIN+3" not in result.findings[0].message  # not offered before 1.33


def test_lifecycle_stop_signal_that_overrides_the_image(tmp_path):
    """lint-cases J.52: the pod's SIGTERM wins over nginx's SIGQUIT."""
    text = workload("Pod", "os:\n  name: linux\n" + PLAIN + "  lifecycle:\n    stopSignal: SIGTERM\n")
    found, _ = lint(tmp_path, NGINX_IMAGE, text)
    assert found == [("IN201", line_of(text, "stopSignal:"), "warning")]


def test_systemd_from_command_without_paired_image(tmp_path):
    """/usr/sbin/init of an image nothing is known of: systemd on most distributions, BusyBox
    init on Alpine. The finding says it assumes systemd, at warning, and fixes only when asked."""
    text = workload("Pod", PLAIN + '  command: ["/usr/sbin/init"]\n')
    found, result = lint(tmp_path, None, text)
    assert found == [("IN201", line_of(text, "- name: app"), "warning")]
    message = result.findings[0].message
    assert "(taking /usr/sbin/init to be systemd: what it is in registry.example.com/app:1 is not known)" in message
    assert result.findings[0].fix is not None and not result.findings[0].fix.safe


def test_systemd_known_from_the_table_is_an_error(tmp_path):
    text = workload("Pod", PLAIN.replace("registry.example.com/app:1", "fedora:41") + '  command: ["/sbin/init"]\n')
    found, result = lint(tmp_path, None, text)
    assert found == [("IN201", line_of(text, "- name: app"), "error")]
    assert "not known" not in result.findings[0].message


def test_explicit_systemd_path_needs_no_image_facts(tmp_path):
    text = workload("Pod", PLAIN + '  command: ["/lib/systemd/systemd"]\n')
    found, result = lint(tmp_path, None, text)
    assert found == [("IN201", line_of(text, "- name: app"), "error")] and "not known" not in result.findings[0].message


def test_busybox_init_from_the_table_is_not_systemd(tmp_path):
    text = workload("Pod", PLAIN.replace("registry.example.com/app:1", "alpine:3.20") + '  command: ["/sbin/init"]\n')
    assert lint(tmp_path, None, text)[0] == []


def test_distroless_base_has_no_kill(tmp_path):
    image = 'FROM gcr.io/distroless/static-debian12\nSTOPSIGNAL INT\nCMD ["/app"]\n'
    found, result = lint(tmp_path, image, workload("Pod", PLAIN))
    assert len(found) == 1
    assert "no preStop exec hook can work" in result.findings[0].message
    assert result.findings[0].fix is None


def test_sigterm_images_and_unpaired_images_are_clean(tmp_path):
    assert lint(tmp_path, 'FROM debian:12\nSTOPSIGNAL SIGTERM\nCMD ["/app"]\n', workload("Pod", PLAIN))[0] == []
    assert lint(tmp_path / "b", None, workload("Pod", PLAIN))[0] == []

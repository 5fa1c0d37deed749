"""Image facts read from the local containers-storage: real images built with buildah from real roots.

- the cached debootstrap base (/bin/sh -> dash, python3-minimal, apt, no procps);
- a BusyBox image made from Debian's busybox-static (/bin/sh a hard link to busybox, /sbin/init
  and /bin/kill symlinks to it);
- the base with /bin/sh -> bash and an ENTRYPOINT and STOPSIGNAL in its config (a second layer).

initify reads the store's JSON files and layer folders directly; nothing is mounted or started.
"""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import imagekit  # noqa: E402
from manifest_helpers import run, workload, write  # noqa: E402

from initify.image import facts as image_facts  # noqa: E402
from initify.image import storage  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def images():
    imagekit.require_base_image()
    if imagekit.missing_tools("busybox"):
        pytest.skip("busybox-static not installed")
    return {"dash": imagekit.BASE_IMAGE, "busybox": imagekit.busybox_image(), "bash": imagekit.bash_sh_image()}


@pytest.fixture(autouse=True)
def local_facts():
    image_facts.configure("local")
    yield
    image_facts.configure("local")


def test_each_image_shows_its_shell_tools_and_config(images):
    dash = image_facts.resolve(images["dash"])
    assert dash.origin == "local" and dash.value("sh") == "dash"
    assert dash.value("python3") is True and dash.value("package_manager") == "apt" and dash.value("kill") == ""
    assert dash.get("sh").source.startswith(f"local image {images['dash']}")
    assert dash.get("init").source.startswith("knowledge table debian:*")  # no /sbin/init: the distribution says
    busybox = image_facts.resolve(images["busybox"])
    assert (busybox.value("sh"), busybox.value("init"), busybox.value("kill")) == ("busybox", "busybox", "/bin/kill")
    assert busybox.value("package_manager") == "" and busybox.value("cmd") == ["sh"]
    bash = image_facts.resolve(images["bash"])
    assert bash.value("sh") == "bash"  # the upper layer's symlink wins over the base layer's
    assert bash.value("entrypoint") == ["/usr/local/bin/start"] and bash.value("stopsignal") == "SIGQUIT"


def test_short_names_and_missing_images(images):
    assert storage.read_image(images["busybox"].replace("localhost/", "")) is not None
    assert storage.read_image("localhost/initify-no-such-image:1") is None
    assert image_facts.resolve("localhost/initify-no-such-image:1").origin == "unknown"


def test_the_facts_agree_with_buildah(images):
    """The config read from the store is the one `buildah inspect` shows."""
    for image in images.values():
        config = imagekit.image_config(image)
        info = image_facts.resolve(image)
        assert info.value("cmd") == list(config.get("Cmd") or [])
        assert info.value("entrypoint") == list(config.get("Entrypoint") or [])


def lint_dockerfile(tmp_path, text, select):
    paths = write(tmp_path, {"Dockerfile": text})
    return run([paths["Dockerfile"]], select=select).findings


def test_dockerfiles_from_real_images_follow_their_shell(tmp_path, images):
    # the bash image's own ENTRYPOINT would get the CMD as its arguments: `ENTRYPOINT []` resets it
    reset = {"bash": "ENTRYPOINT []\n"}
    findings = {flavour: lint_dockerfile(tmp_path, f"FROM {image}\n{reset.get(flavour, '')}CMD python3 app.py\n",
                                         ["IN101", "IN106"])
                for flavour, image in images.items()}
    # dash keeps the shell as PID 1: IN101 is the error; IN106 does not repeat the cause, since
    # IN101's fix makes python3 PID 1 (one finding per cause)
    assert [(f.code, f.severity) for f in findings["dash"]] == [("IN101", "error")]
    for flavour in ("busybox", "bash"):
        (found,) = findings[flavour]
        assert found.code == "IN101" and found.severity == "info"
        assert f"is {flavour} (local image {images[flavour]}: /bin/sh is {flavour})" in found.message


def test_busybox_init_from_a_real_image_is_neither_flagged_nor_fixed(tmp_path, images):
    text = f'FROM {images["busybox"]}\nCMD ["/sbin/init"]\n'
    assert lint_dockerfile(tmp_path, text, ["IN107", "IN106"]) == []
    result = subprocess.run([sys.executable, "-m", "initify", "fix", "--unsafe-fixes", str(tmp_path)],
                            capture_output=True, text=True)
    assert (tmp_path / "Dockerfile").read_text() == text, result.stdout + result.stderr
    assert "1 from local storage" in result.stderr


def test_in106_fix_uses_the_real_tools(tmp_path, images):
    """The Debian base really has python3 (initify-init); the BusyBox image has neither python3
    nor a package manager: no fix, and the finding says why."""
    from initify.commands import fix as fix_module

    path = write(tmp_path, {"Dockerfile": f'FROM {images["dash"]}\nCMD ["sh", "-c", "a | b"]\n'})["Dockerfile"]
    plan = fix_module.plan([path], fix_module.FixOptions(unsafe_fixes=True, select=["IN106"]))
    texts = {os.path.basename(s.path): s.text for s in plan.changed()}
    assert "initify-init" in texts["Dockerfile"]
    path = write(tmp_path, {"Dockerfile": f'FROM {images["busybox"]}\nCMD ["sh", "-c", "a | b"]\n'})["Dockerfile"]
    plan = fix_module.plan([path], fix_module.FixOptions(unsafe_fixes=True, select=["IN106"]))
    assert plan.changed() == [] and "cannot inject" in plan.remaining[0].message


def test_unpaired_pod_of_a_local_image_is_judged_from_it(tmp_path, images):
    """The image's STOPSIGNAL SIGQUIT (its config) is what every runtime sends: nothing to say. A
    pod that makes systemd PID 1 needs SIGRTMIN+3 instead, sent by the image's own tools."""
    text = workload("Pod", f"containers:\n- name: app\n  image: {images['bash']}\n")
    paths = write(tmp_path, {"pod.yaml": text})
    assert [f for f in run([paths["pod.yaml"]]).findings if f.code == "IN201"] == []
    text = workload("Pod", f"containers:\n- name: app\n  image: {images['bash']}\n  command: [\"/lib/systemd/systemd\"]\n")
    paths = write(tmp_path / "systemd", {"pod.yaml": text})
    (found,) = [f for f in run([paths["pod.yaml"]]).findings if f.code == "IN201"]
    assert "PID 1 is systemd" in found.message and "the image sets no matching STOPSIGNAL" in found.message
    # no kill program, but a shell: its builtin kill through /bin/sh -c
    assert '["/bin/sh", "-c", "kill -RTMIN+3 1"]' in found.fix.edits[0].text and found.fix.safe


def test_off_does_not_read_the_store(tmp_path, images):
    image_facts.configure("off")
    assert image_facts.resolve(images["busybox"]).origin == "unknown"


# --- a Dockerfile FROM a real image inherits its ENTRYPOINT, CMD and STOPSIGNAL ------------------

INHERIT_IMAGE = "localhost/initify-test-inherit:1"


def build_base(tmp_path, dockerfile):
    """(Re)build INHERIT_IMAGE FROM the Debian base with `dockerfile`'s lines after FROM."""
    context = tmp_path / "base-context"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(f"FROM {imagekit.BASE_IMAGE}\n{dockerfile}")
    imagekit.build_image(context, INHERIT_IMAGE)
    image_facts.configure("local")  # a new run: the image is read again


@pytest.fixture
def inherit_image(images):
    yield INHERIT_IMAGE
    imagekit.remove_image(INHERIT_IMAGE)


def test_from_a_real_image_follows_what_it_sets(tmp_path, inherit_image):
    """`FROM image` alone: the findings are those of the image's own config, and change with it."""
    child = f"FROM {inherit_image}\n"
    # 1. a shell-form CMD in the image: its config holds ["/bin/sh", "-c", ...]; the image's /bin/sh
    #    is dash, which forks python3 and stays PID 1
    build_base(tmp_path, "CMD python3 -m http.server\n")
    assert image_facts.resolve(inherit_image).value("cmd") == ["/bin/sh", "-c", "python3 -m http.server"]
    (found,) = lint_dockerfile(tmp_path, child, ["IN101", "IN104", "IN106", "IN107"])
    assert (found.code, found.line, found.severity) == ("IN104", 1, "warning")
    assert f"inherited from the base image (local image {inherit_image}: config Cmd)" in found.message
    assert found.fix is None  # the FROM line is never rewritten
    # 2. the image now runs /sbin/init (systemd on Debian) without STOPSIGNAL: IN107, fixed by a new line
    build_base(tmp_path, 'CMD ["/sbin/init"]\n')
    (found,) = lint_dockerfile(tmp_path, child, ["IN101", "IN104", "IN106", "IN107"])
    assert (found.code, found.line) == ("IN107", 1) and "no STOPSIGNAL" in found.message
    assert "config Cmd" in found.message and "not known" not in found.message
    from initify.commands import fix as fix_module

    plan = fix_module.plan([str(tmp_path / "Dockerfile")], fix_module.FixOptions(select=["IN107"]))
    (state,) = plan.changed()
    assert state.text == child + "STOPSIGNAL SIGRTMIN+3\n"
    # 3. the image sets STOPSIGNAL SIGRTMIN+3 itself: nothing to say
    build_base(tmp_path, 'CMD ["/sbin/init"]\nSTOPSIGNAL SIGRTMIN+3\n')
    assert lint_dockerfile(tmp_path, child, ["IN101", "IN104", "IN106", "IN107"]) == []
    # 4. ... but a STOPSIGNAL SIGQUIT set by the image is what the child has: IN107 says where it comes from
    build_base(tmp_path, 'CMD ["/sbin/init"]\nSTOPSIGNAL SIGQUIT\n')
    (found,) = lint_dockerfile(tmp_path, child, ["IN107"])
    assert "STOPSIGNAL is SIGQUIT" in found.message and "config StopSignal" in found.message
    plan = fix_module.plan([str(tmp_path / "Dockerfile")], fix_module.FixOptions(select=["IN107"]))
    assert plan.changed()[0].text == child + "STOPSIGNAL SIGRTMIN+3\n"


def test_from_a_real_image_its_entrypoint_takes_the_cmd(tmp_path, images):
    """The bash image's ENTRYPOINT ["/usr/local/bin/start"] receives the child's CMD: a shell in
    that CMD is not PID 1, so nothing is said about it; the image's STOPSIGNAL SIGQUIT is kept."""
    text = f'FROM {images["bash"]}\nCMD ["sh", "-c", "python3 app.py | tee /log"]\n'
    assert lint_dockerfile(tmp_path, text, ["IN104", "IN106"]) == []
    text = f'FROM {images["dash"]}\nCMD ["sh", "-c", "python3 app.py | tee /log"]\n'
    assert [f.code for f in lint_dockerfile(tmp_path, text, ["IN104", "IN106"])] == ["IN104", "IN106"]
    from initify.commands import manifest as manifest_command
    from initify.dockerfile import facts as facts_module
    from initify import dockerfile as dockerfile_module  # noqa: F401

    from initify.dockerfile import parser

    facts = facts_module.analyse_image(parser.parse(f"FROM {images['bash']}\n", str(tmp_path / "Dockerfile")))
    assert facts.pid1_argv == ["/usr/local/bin/start", "serve"]
    assert manifest_command.stop_signal(facts) == ("SIGQUIT", f"The base image {images['bash']} sets STOPSIGNAL SIGQUIT",
                                                   "SIGQUIT")


# --- compose services judged from their real image ---------------------------------------------

def lint_compose(tmp_path, text, select=None):
    paths = write(tmp_path, {"compose.yaml": text})
    return run([paths["compose.yaml"]], select=select).findings


def test_compose_command_follows_the_real_image_entrypoint(tmp_path, images):
    """The same `command:` is PID 1 on the BusyBox image (no ENTRYPOINT) and an argument of the
    bash image's ENTRYPOINT: IN301 only for the first."""
    service = 'services:\n  app:\n    image: {}\n    command: ["sh", "-c", "sleep 1; python3 app.py | tee /log"]\n'
    found = lint_compose(tmp_path, service.format(images["busybox"]), ["IN301"])
    assert [f.code for f in found] == ["IN301"]
    assert lint_compose(tmp_path, service.format(images["bash"]), ["IN301"]) == []


def test_compose_service_without_command_runs_the_image_config(tmp_path, inherit_image):
    text = f"services:\n  app:\n    image: {inherit_image}\n"
    build_base(tmp_path, 'CMD ["/sbin/init"]\n')  # systemd (Debian), no STOPSIGNAL
    (found,) = lint_compose(tmp_path, text, ["IN303"])
    assert "the image sets no STOPSIGNAL" in found.message and "not known" not in found.message
    assert found.fix is not None and found.fix.safe
    build_base(tmp_path, 'CMD ["/sbin/init"]\nSTOPSIGNAL SIGRTMIN+3\n')
    assert lint_compose(tmp_path, text, ["IN303"]) == []


# --- /sbin/init that is BusyBox init: no systemd rule fires ------------------------------------

def test_busybox_init_of_a_real_image_is_not_systemd_in_pods_and_compose(tmp_path, images):
    pod = workload("Pod", f'containers:\n- name: app\n  image: {images["busybox"]}\n  command: ["/sbin/init"]\n')
    assert [f for f in run([write(tmp_path, {"pod.yaml": pod})["pod.yaml"]]).findings
            if f.code in ("IN201", "IN202", "IN205")] == []
    service = f'services:\n  app:\n    image: {images["busybox"]}\n    command: ["/sbin/init"]\n'
    assert lint_compose(tmp_path, service, ["IN303", "IN302"]) == []
    # the same without a command: the image's CMD ["sh"] is PID 1, nothing systemd about it
    assert lint_compose(tmp_path, f"services:\n  app:\n    image: {images['busybox']}\n", ["IN303"]) == []

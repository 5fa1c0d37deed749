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
    findings = {flavour: lint_dockerfile(tmp_path, f"FROM {image}\nCMD python3 app.py\n", ["IN101", "IN106"])
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
    text = workload("Pod", f"containers:\n- name: app\n  image: {images['bash']}\n")
    paths = write(tmp_path, {"pod.yaml": text})
    (found,) = [f for f in run([paths["pod.yaml"]]).findings if f.code == "IN201"]
    assert "the image stops on SIGQUIT" in found.message
    # no kill program, but a shell: its builtin kill through /bin/sh -c
    assert '["/bin/sh", "-c", "kill -QUIT 1"]' in found.fix.edits[0].text and found.fix.safe


def test_off_does_not_read_the_store(tmp_path, images):
    image_facts.configure("off")
    assert image_facts.resolve(images["busybox"]).origin == "unknown"

"""initify-init in a real image: debootstrap base, buildah build, runc run.

The same app and the same shell-form command, with and without the init as
ENTRYPOINT; the container's PID 1 gets SIGTERM from outside (`runc kill`), as
on `docker stop` or a Kubernetes pod deletion.
"""

import shutil
from pathlib import Path

import pytest

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

pytestmark = pytest.mark.slow

INIT = Path(__file__).resolve().parent.parent / "initify" / "init.py"
GRACE = 5.0  # the runtime's grace in these tests (docker's default is 10 s)

COMMON = """\
FROM {base}
COPY app.py /app.py
COPY entrypoint.sh /entrypoint.sh
COPY initify-init /usr/local/bin/initify-init
RUN chmod 755 /usr/local/bin/initify-init /entrypoint.sh
CMD ["/entrypoint.sh"]
"""
WITHOUT_INIT = COMMON
WITH_INIT = COMMON + 'ENTRYPOINT ["initify-init", "--"]\n'


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """(image with the init, same image without it), built once per module."""
    base = imagekit.require_base_image()
    context = tmp_path_factory.mktemp("init-image")
    (context / "app.py").write_text(imagekit.APP)
    (context / "entrypoint.sh").write_text(imagekit.ENTRYPOINT_SCRIPT)
    shutil.copy(INIT, context / "initify-init")
    built = []
    for name, text in (("with-init", WITH_INIT), ("without-init", WITHOUT_INIT)):
        dockerfile = context / ("Dockerfile." + name)
        dockerfile.write_text(text.format(base=base))
        built.append(imagekit.build_image(context, "localhost/initify-test-init:" + name, dockerfile))
    yield built[0], built[1]
    for image in built:
        imagekit.remove_image(image)


def test_with_the_init_sigterm_reaches_the_app_and_the_container_exits_0(images):
    with imagekit.run_container(images[0]) as container:
        container.wait_output("app: ready")
        status, _ = container.stop_and_time("TERM", timeout=GRACE)
        assert status == 0, container.output()
        assert "app: handled SIGTERM" in container.output()


def test_without_the_init_the_container_is_still_running_when_the_grace_ends(images):
    with imagekit.run_container(images[1]) as container:
        container.wait_output("app: ready")
        status, _ = container.stop_and_time("TERM", timeout=GRACE)
        assert status is None and container.state() == "running"
        assert "app: handled SIGTERM" not in container.output()
        container.signal("KILL")  # what the runtime does next
        assert container.wait(60) == 128 + 9


def test_not_pid_1_in_an_image_without_ctypes_warns_once(images):
    script = ("python3 -c 'import ctypes' 2>/dev/null || echo no-ctypes; "
              "initify-init -- sh -c 'exit 4'; echo status=$?; "
              "initify-init --subreaper -- true; echo status=$?")
    with imagekit.run_container(images[0], args=["sh", "-c", script]) as container:
        assert container.wait(60) == 0
        output = container.output()
    assert "no-ctypes" in output  # python3-minimal: the init must do without it
    assert "status=4" in output and "status=1" in output
    assert output.count("initify-init: warning: not PID 1 and cannot become a child subreaper") == 1
    assert "initify-init: cannot become a child subreaper" in output

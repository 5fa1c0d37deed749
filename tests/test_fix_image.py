"""A Dockerfile rewritten by `initify fix` really stops: buildah builds it, runc runs it, and
SIGTERM from outside (as on `docker stop`) ends it; the unfixed image ignores SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GRACE = 5.0

DOCKERFILE = """\
FROM {base}
COPY app.py /app.py
COPY --chmod=0755 entrypoint.sh /entrypoint.sh
CMD /entrypoint.sh
"""


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    base = imagekit.require_base_image()
    built = {}
    for name in ("original", "fixed"):
        context = tmp_path_factory.mktemp(name)
        (context / "app.py").write_text(imagekit.APP)
        (context / "entrypoint.sh").write_text(imagekit.ENTRYPOINT_SCRIPT)
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
        if name == "fixed":
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            result = subprocess.run(
                [sys.executable, "-m", "initify", "fix", "--unsafe-fixes", "--init", "python", "."],
                cwd=context, capture_output=True, text=True, env=env, timeout=120,
            )
            # IN105 stays reported behind the init (the rule does not yet credit an init that
            # signals the whole process group), hence exit 1 here.
            assert result.returncode in (0, 1) and "IN106 fixed" in result.stdout, result.stdout + result.stderr
        built[name] = imagekit.build_image(context, "localhost/initify-test-fix:" + name)
    yield built
    for image in built.values():
        imagekit.remove_image(image)


def test_the_fixed_image_runs_initify_init_in_front(images):
    config = imagekit.image_config(images["fixed"])
    assert config["Entrypoint"] == ["/usr/local/bin/initify-init", "--"]
    assert config["Cmd"] == ["/entrypoint.sh"]


def test_the_fixed_image_stops_on_sigterm(images):
    with imagekit.run_container(images["fixed"]) as container:
        container.wait_output("app: ready")
        status, _ = container.stop_and_time("TERM", timeout=GRACE)
        assert status == 0, container.output()
        assert "app: handled SIGTERM" in container.output()


def test_the_original_image_ignores_sigterm(images):
    with imagekit.run_container(images["original"]) as container:
        container.wait_output("app: ready")
        status, _ = container.stop_and_time("TERM", timeout=GRACE)
        assert status is None and "app: handled SIGTERM" not in container.output()
        container.signal("KILL")
        assert container.wait(60) == 128 + 9


def test_an_allow_list_dockerignore_lets_the_injected_init_into_the_build(tmp_path):
    """buildah honours `.dockerignore`; without the `!` line the COPY of the init would fail."""
    base = imagekit.require_base_image()
    (tmp_path / "app.py").write_text(imagekit.APP)
    (tmp_path / ".dockerignore").write_text("*\n!app.py\n")
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nCOPY app.py /app.py\nCMD [\"sh\", \"-c\", \"python3 /app.py; echo done\"]\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "initify", "fix", "--unsafe-fixes", "--init", "python", "."],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert "IN106 fixed" in result.stdout, result.stdout + result.stderr
    image = imagekit.build_image(tmp_path, "localhost/initify-test-fix:allow-list")
    try:
        assert imagekit.image_config(image)["Entrypoint"] == ["/usr/local/bin/initify-init", "--"]
    finally:
        imagekit.remove_image(image)

"""`initify build` with real buildah, then `initify verify` with real runc.

A sample built as it is (plain `buildah bud`) is SIGKILLed after the grace; the same untouched
context built with `initify build` stops on its own. The samples' files are never changed.
"""

import glob
import hashlib
import os
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest
from tests.clirun import initify

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
GRACE = "3"


def tree_digest(folder):
    """Every path, mode and content under folder (to prove nothing was touched or left)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        digest.update(str(path).encode() + oct(path.lstat().st_mode).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def leftovers():
    """Temporary build folders and this module's buildah working containers (others run tests too)."""
    listing = subprocess.run(["buildah", "containers", "--format", "{{.ContainerName}} {{.ImageName}}"], capture_output=True, text=True).stdout
    work = [line for line in listing.splitlines() if "initify-test-build" in line]
    return sorted(glob.glob(os.path.join(tempfile.gettempdir(), "initify-build-*"))) + work


@pytest.fixture(scope="module")
def base():
    return imagekit.require_base_image()


@pytest.fixture
def tags():
    made = []
    yield made
    for tag in made:
        imagekit.remove_image(tag)


@pytest.mark.parametrize("sample", ["python-shell-form", "entrypoint-no-exec", "multi-process"])
def test_plain_build_is_killed_initify_build_stops_cleanly(base, tags, sample):
    context = SAMPLES / sample
    before, left = tree_digest(context), leftovers()
    plain, fixed = "localhost/initify-test-build:%s-plain" % sample, "localhost/initify-test-build:%s-fixed" % sample
    tags += [plain, fixed]
    imagekit.build_image(context, plain, build_args={"BASE": base})
    result = initify("verify", plain, "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "KILLED after the 3 s grace" in result.stdout

    result = initify("build", "-t", fixed, "--build-arg", "BASE=" + base, str(context))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fixed: nothing" not in result.stdout
    assert "initify: [1/" in result.stderr  # a progress line per step
    result = initify("verify", fixed, "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopped on its own within the 3 s grace" in result.stdout
    assert tree_digest(context) == before
    assert leftovers() == left


def test_shell_form_build_summary_and_config(base, tags):
    tag = "localhost/initify-test-build:summary"
    tags.append(tag)
    result = initify("build", "-t", tag, "--build-arg", "BASE=" + base, str(SAMPLES / "python-shell-form"))
    assert result.returncode == 0, result.stderr
    assert "fixed: Dockerfile:11 IN101" in result.stdout
    assert "PID 1: python3 app.py\n" in result.stdout
    config = imagekit.image_config(tag)
    assert config.get("Cmd") == ["python3", "app.py"]


def test_podman_engine_builds_the_fixed_image(base, tags):
    """`--engine podman` runs `podman build` (podman shares buildah's image store); the image it
    makes stops on its own (checked with runc: `podman run` is refused on these machines)."""
    tag = "localhost/initify-test-build:podman"
    tags.append(tag)
    context = SAMPLES / "entrypoint-no-exec"
    before = tree_digest(context)
    result = initify("build", "--engine", "podman", "-t", tag, "--build-arg", "BASE=" + base, str(context))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fixed: " in result.stdout and "fixed: nothing" not in result.stdout
    assert "initify: [1/" in result.stderr  # podman's STEP lines give the progress too
    result = initify("verify", tag, "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopped on its own within the 3 s grace" in result.stdout
    assert tree_digest(context) == before


def test_no_fix_builds_the_dockerfile_as_it_is(base, tags, tmp_path):
    tag = "localhost/initify-test-build:no-fix"
    tags.append(tag)
    (tmp_path / "Containerfile").write_text("FROM %s\nSTOPSIGNAL SIGQUIT\nCMD sleep 1000\n" % base)
    result = initify("build", "--no-fix", "-t", tag, str(tmp_path), "--", "--label", "made-by=initify-test")
    assert result.returncode == 0, result.stderr
    assert "fixed: nothing" in result.stdout
    assert "PID 1: /bin/sh -c sleep 1000" in result.stdout
    assert "stop signal: SIGQUIT" in result.stdout
    config = imagekit.image_config(tag)
    assert config["Labels"]["made-by"] == "initify-test"


def test_dockerignore_is_honoured_and_the_init_still_reaches_the_build(base, tags, tmp_path):
    tag = "localhost/initify-test-build:ignore"
    tags.append(tag)
    (tmp_path / "Dockerfile").write_text(textwrap.dedent("""\
        FROM %s
        COPY . /app/
        CMD ["/app/start.sh"]
    """ % base))
    (tmp_path / "start.sh").write_text("#!/bin/sh\nsleep 1000 &\nwait\n")
    (tmp_path / "start.sh").chmod(0o755)
    (tmp_path / "secret.txt").write_text("never sent\n")
    (tmp_path / ".dockerignore").write_text("*\n!start.sh\n!Dockerfile\n")
    before = tree_digest(tmp_path)
    result = initify("build", "-t", tag, str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "IN106" in result.stdout
    assert "PID 1: /usr/local/bin/initify-init -- /app/start.sh" in result.stdout
    assert tree_digest(tmp_path) == before
    work = imagekit.run(["buildah", "from", "--pull=never", tag]).stdout.strip()
    try:
        root = Path(imagekit.run(["buildah", "mount", work]).stdout.strip())
        assert (root / "app" / "start.sh").is_file()
        assert not (root / "app" / "secret.txt").exists()
    finally:
        subprocess.run(["buildah", "umount", work], capture_output=True)
        subprocess.run(["buildah", "rm", work], capture_output=True)
    result = initify("verify", tag, "--runtime", "runc", "--grace", GRACE, "--startup", "1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_failing_build_exits_with_the_engine_status_and_leaves_nothing(base, tags, tmp_path):
    own_base = "localhost/initify-test-build:failing-base"  # names the build's working container
    imagekit.run(["buildah", "tag", base, own_base])
    tags.append(own_base)
    (tmp_path / "Dockerfile").write_text("FROM %s\nRUN echo about to fail; exit 3\nCMD sleep 1\n" % own_base)
    left = leftovers()
    result = initify("build", "-t", "localhost/initify-test-build:never", str(tmp_path))
    assert result.returncode != 0
    assert "initify: error: buildah failed with status %d; its last lines:" % result.returncode in result.stderr
    assert "about to fail" in result.stderr
    assert leftovers() == left
    assert not imagekit.image_exists("localhost/initify-test-build:never")


def test_unknown_base_image_fails_the_build(base, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM localhost/initify-no-such-base:1\nCMD sleep 1\n")
    result = initify("build", str(tmp_path), "--", "--pull=never")
    assert result.returncode not in (0, 2)
    assert "initify: error: buildah failed with status" in result.stderr


def test_missing_engine_is_a_one_line_error(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCMD [\"/app\"]\n")
    env = dict(os.environ, PATH=str(tmp_path))
    result = initify("build", str(tmp_path), env=env)
    assert result.returncode == 2
    assert result.stderr == "initify: error: buildah not found: install the buildah package (apt-get install buildah)\n"

"""The initify image (Containerfile), built with buildah and run with runc on a bind-mounted
sample, and the `initify-lint-docker` pre-commit hook run the way pre-commit runs it.

There is no Docker Hub access here, so the image is built FROM a local Debian bookworm image
made with debootstrap (python3-minimal + python3-venv; tests/imagekit.py caches it) via the
Containerfile's BASE build argument, and from a wheelhouse in the build context (`pip wheel`),
so the build needs no network. The default BASE, python:3.12-slim, is what users build from.
No docker daemon either: the hook's command line, as pre-commit's docker_image language builds
it, is run with runc (same image, same bind mount at /src, same working folder, user and args).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

import imagekit

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BASE_PACKAGES = ("python3-minimal", "python3-venv")
BASE_IMAGE = "localhost/initify-test-python-venv:bookworm"
TAG = "localhost/initify:test"


def python_base() -> str:
    with imagekit.cache_lock("python-venv-image"):
        if not imagekit.image_exists(BASE_IMAGE):
            imagekit.image_from_rootfs(imagekit.base_rootfs(packages=BASE_PACKAGES), BASE_IMAGE)
    return BASE_IMAGE


def build_context(target: Path) -> Path:
    """This checkout as `COPY . /src` sees it (.containerignore applied by buildah), plus a
    wheelhouse of initify and its dependencies for an offline install."""
    ignore = shutil.ignore_patterns(".git", ".venv", ".venv-*", "__pycache__", "*.pyc", "dist", "build")
    shutil.copytree(ROOT, target, ignore=ignore)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target / "wheels"), str(ROOT)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return target


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    missing = imagekit.missing_tools("buildah", "runc")
    if not missing and not imagekit.image_exists(BASE_IMAGE):
        missing = imagekit.missing_tools("debootstrap")
    if missing:
        pytest.skip("not installed: %s" % ", ".join(missing))
    base = python_base()
    context = build_context(tmp_path_factory.mktemp("image") / "context")
    imagekit.remove_image(TAG)
    imagekit.build_image(context, TAG, dockerfile=context / "Containerfile", build_args={"BASE": base})
    yield TAG
    imagekit.remove_image(TAG)


def run_with_runc(image: str, args: Optional[List[str]], mounts: List[Tuple[str, str, bool]], workdir: Optional[str] = None,
                  user: Optional[Tuple[int, int]] = None) -> subprocess.CompletedProcess:
    """Run `image` to completion with runc: bind `mounts` (host, container, read-only), in
    `workdir`, as `user`; the image's ENTRYPOINT + CMD, or ENTRYPOINT + args as docker does."""
    from initify.image import runtime

    config = runtime.image_config(image)
    work = subprocess.run(["buildah", "from", "--pull=never", "--quiet", image], capture_output=True, text=True, check=True).stdout.strip()
    bundle = Path(tempfile.mkdtemp(prefix="initify-image-test-"))
    try:
        rootfs = subprocess.run(["buildah", "mount", work], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
        spec = json.loads((bundle / "config.json").read_text())
        entrypoint = list(config.get("Entrypoint") or [])
        argv = entrypoint + (args if args is not None else list(config.get("Cmd") or []))
        spec["process"].update(args=argv, terminal=False, env=list(config.get("Env") or []),
                               cwd=workdir or config.get("WorkingDir") or "/")
        if user is not None:
            spec["process"]["user"] = {"uid": user[0], "gid": user[1]}
        spec["root"] = {"path": rootfs, "readonly": True}
        for source, destination, readonly in mounts:
            spec["mounts"].append({"destination": destination, "type": "bind", "source": source,
                                   "options": ["rbind", "ro" if readonly else "rw"]})
        (bundle / "config.json").write_text(json.dumps(spec))
        name = "initify-image-" + uuid.uuid4().hex[:12]
        return subprocess.run(["runc", "run", "--bundle", str(bundle), name], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run(["buildah", "umount", work], capture_output=True)
        subprocess.run(["buildah", "rm", work], capture_output=True)
        shutil.rmtree(bundle, ignore_errors=True)


def test_image_config_and_size(image):
    from initify.image import runtime

    config = runtime.image_config(image)
    assert config["Entrypoint"] == ["initify"] and config["Cmd"] == ["lint", "."]
    assert config["WorkingDir"] == "/src"
    size = subprocess.run(["buildah", "images", "--format", "{{.Size}}", image], capture_output=True, text=True).stdout.strip()
    base = subprocess.run(["buildah", "images", "--format", "{{.Size}}", BASE_IMAGE], capture_output=True, text=True).stdout.strip()
    print(f"\ninitify image: {size} (base {base})")


def test_lints_the_mounted_folder(image, tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "samples" / "python-shell-form", sample)
    result = run_with_runc(image, None, [(str(sample), "/src", True)])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "./Dockerfile:" in result.stdout and " IN101 " in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("Found ")
    (sample / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY app.py /app.py\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "/app.py"]\n')
    (sample / "pod.yaml").unlink()
    clean = run_with_runc(image, None, [(str(sample), "/src", True)])
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip() == "All checks passed (1 file)."


def test_other_commands_and_formats(image, tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "samples" / "python-shell-form", sample)
    sarif = run_with_runc(image, ["lint", "--format", "sarif", "Dockerfile"], [(str(sample), "/src", True)])
    assert sarif.returncode == 1
    assert json.loads(sarif.stdout)["runs"][0]["results"][0]["ruleId"] == "IN101"
    version = run_with_runc(image, ["--version"], [])
    assert version.returncode == 0 and version.stdout.startswith("initify, version ")


def test_the_containerfile_passes_its_own_lint():
    result = subprocess.run([sys.executable, "-m", "initify", "lint", str(ROOT / "Containerfile")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "All checks passed (1 file)."


def docker_run_to_runc(argv: List[str]) -> subprocess.CompletedProcess:
    """Run a `docker run` command line (as pre-commit builds it) with runc."""
    assert argv[:2] == ["docker", "run"], argv
    mounts, workdir, user, rest = [], None, None, argv[2:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("--rm", "-t", "--tty"):
            continue
        value = rest.pop(0)
        if option == "-v":
            source, destination, flags = value.split(":")
            mounts.append((source, destination, "ro" in flags.split(",")))
        elif option == "--workdir":
            workdir = value
        elif option in ("-u", "--user"):
            uid, gid = value.split(":")
            user = (int(uid), int(gid))
        else:
            raise AssertionError(f"docker option the test does not translate: {option}")
    image, args = rest[0], rest[1:]
    return run_with_runc(image, args, mounts, workdir=workdir, user=user)


def test_pre_commit_docker_image_hook(image, tmp_path, monkeypatch):
    from pre_commit import lang_base
    from pre_commit.languages import docker as pre_commit_docker
    from ruamel.yaml import YAML

    # pre-commit asks the docker daemon whether it is rootless (then it passes no -u); there is
    # no daemon here, so answer as a rootful daemon does: the hook runs as the caller's UID:GID.
    monkeypatch.setattr(pre_commit_docker, "_is_rootless", lambda: False)
    hooks = {hook["id"]: hook for hook in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["initify-lint-docker"]
    assert hook["language"] == "docker_image"
    assert hook["files"] == hooks["initify-lint"]["files"]
    repo = tmp_path / "repo"
    (repo / "web").mkdir(parents=True)
    (repo / "web" / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python3 app.py\n")
    (repo / "web" / "app.py").write_text("print('hi')\n")
    os.chmod(repo, 0o777)
    monkeypatch.chdir(repo)
    entry = hook["entry"].replace("initify:latest", image, 1)  # the tag this test built
    argv = list(pre_commit_docker.docker_cmd(color=False) + lang_base.hook_cmd(entry, ())) + ["web/Dockerfile"]
    assert argv[argv.index("-u") + 1] == f"{os.getuid()}:{os.getgid()}" and "--workdir" in argv
    result = docker_run_to_runc(argv)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "web/Dockerfile:2:1: IN101" in result.stdout
    (repo / "web" / "Dockerfile").write_text('FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["python3", "app.py"]\n')
    assert docker_run_to_runc(argv).returncode == 0

"""Stop time and outcome of every sample before and after `initify build`, in one run.

Before: the sample's context built as it is (`buildah bud`). After: the same untouched context
built with `initify build`. Both are stopped with `initify verify --runtime runc` the docker way
(SIGTERM or the image STOPSIGNAL, SIGKILL after 10 s). The systemd stand-in is stopped the
Kubernetes way with the sample pod manifest, before and after `initify fix` added its preStop;
its image gets a `kill` program, as every systemd image has one (the debootstrap base has none).

Needs root, buildah, runc and debootstrap (the base image is cached as in the tests).
Run: python3 bench/stop.py
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import imagekit  # noqa: E402

SAMPLES = ROOT / "samples"
GRACE = "10"
KILL = """#!/usr/bin/python3
import os, signal, sys
name, pid = sys.argv[1].lstrip("-").upper(), int(sys.argv[2])
name = name[3:] if name.startswith("SIG") else name
number = int(name) if name.isdigit() else signal.SIGRTMIN + int(name[5:] or 0) if name.startswith("RTMIN") else getattr(signal, "SIG" + name)
os.kill(pid, number)
"""


def initify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "initify"] + list(args), capture_output=True, text=True, cwd=str(ROOT))


def measure(image: str, *extra: str) -> str:
    result = initify("verify", image, "--runtime", "runc", "--grace", GRACE, "--startup", "2", *extra)
    if result.returncode not in (0, 1):
        return "error: " + result.stderr.strip()[-80:]
    seconds = re.search(r"stop time:\s+([\d.]+) s", result.stdout).group(1)
    status = re.search(r"exit status:\s+(.*)", result.stdout).group(1)
    outcome = "killed" if result.returncode == 1 else "stopped"
    return f"{float(seconds):.2f} s, {outcome} (exit {status})"


def docker_sample(name: str, base: str, made: List[str]) -> Tuple[str, str]:
    context = SAMPLES / name
    plain, fixed = f"localhost/initify-bench-stop:{name}-plain", f"localhost/initify-bench-stop:{name}-fixed"
    made += [plain, fixed]
    imagekit.build_image(context, plain, build_args={"BASE": base})
    built = initify("build", "-t", fixed, "--build-arg", "BASE=" + base, str(context))
    if built.returncode != 0:
        return measure(plain), "initify build failed: " + built.stderr.strip()[-80:]
    return measure(plain), measure(fixed)


def standin_sample(base: str, made: List[str], work: Path) -> Tuple[str, str]:
    sample = SAMPLES / "systemd-nginx"
    context = work / "standin"
    shutil.copytree(sample / "systemd-standin", context)
    (context / "kill").write_text(KILL)
    (context / "kill").chmod(0o755)
    (context / "Dockerfile").write_text((context / "Dockerfile").read_text() + "COPY kill /usr/bin/kill\n")
    image = "localhost/initify-bench-stop:systemd-standin"
    made.append(image)
    imagekit.build_image(context, image, build_args={"BASE": base})
    manifests = work / "manifests"
    manifests.mkdir()
    for name in ("Dockerfile", "openshift-pod.yaml"):
        shutil.copy(sample / name, manifests / name)
    before = measure(image, "--as", "kubernetes", "--manifest", str(manifests / "openshift-pod.yaml"))
    initify("fix", "--unsafe-fixes", str(manifests / "Dockerfile"), str(manifests / "openshift-pod.yaml"))
    after = measure(image, "--as", "kubernetes", "--manifest", str(manifests / "openshift-pod.yaml"))
    return before, after


def main() -> int:
    missing = imagekit.missing_tools("buildah", "runc")
    if missing:
        print("not installed: " + ", ".join(missing), file=sys.stderr)
        return 2
    base = imagekit.base_image()
    made: List[str] = []
    work = Path(tempfile.mkdtemp(prefix="initify-bench-stop-"))
    rows = []
    try:
        for name in ("python-shell-form", "entrypoint-no-exec", "multi-process"):
            rows.append((name + " (docker stop)",) + docker_sample(name, base, made))
        rows.append(("systemd-standin (pod delete, preStop from `initify fix`)",) + standin_sample(base, made, work))
    finally:
        for image in made:
            imagekit.remove_image(image)
        shutil.rmtree(work, ignore_errors=True)
    print(f"grace {GRACE} s; stop time is from the stop request to the exit")
    print()
    print("| sample | before | after |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

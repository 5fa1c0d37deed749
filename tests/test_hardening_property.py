"""Property (issue 16, "Done means"): random bytes, random YAML and random Dockerfile lines in a
tree that also holds FIFOs and symlinks (into the tree, to nothing, and out of it to a secret
and to a FIFO). For `lint`, `fix --diff` and `fix`, run through the real command line:

- no traceback, and the exit status is 0, 1 or 2;
- nothing outside the tree is read (the secret never shows, the FIFO outside never blocks) or
  written (the outside folder is byte for byte the same);
- every file is either untouched or fully fixed: a second `fix` changes nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clirun import invoke

SECRET = "OUTSIDE-SECRET-5f1c"
NAMES = ["Dockerfile", "Containerfile", "app.Dockerfile", "pod.yaml", "deploy.yml", "compose.yaml", "entry.sh",
         ".initify.toml"]
LINES = st.sampled_from([
    "FROM python:3.12-slim", "FROM alpine:3.20 AS base", "FROM base", "CMD python app.py", 'CMD ["python", "app.py"]',
    "ENTRYPOINT []", 'ENTRYPOINT ["/entry.sh"]', "COPY entry.sh /entry.sh", "STOPSIGNAL SIGRTMIN+3", "STOPSIGNAL 99",
    'CMD ["sh", "-c", "python a.py & python b.py; wait"]', "CMD [[[[", "RUN <<EOF", "EOF", "FROBNICATE x", "\\",
    "#!/bin/sh", "python prepare.py", 'exec "$@"', "SHELL [\"/bin/bash\", \"-c\"]", "ARG X=1", "CMD $X",
])
YAML_PIECES = st.sampled_from([
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n"
    "    command: [\"sh\", \"-c\", \"python app.py\"]\n",
    "---\n", "a: &a [1, 2]\nb: [*a, *a]\n", "key: 1\nkey: 2\n", "services:\n  web:\n    build: .\n"
    "    command: sh -c 'python app.py'\n", "spec: [\n", "x: {{ .Values.y }}\n", "\t- bad\n",
    "services:\n  web:\n    build:\n      context: ../outside\n", "select = [\"IN999\"]\n", "images = 5\n",
])
CONTENT = st.one_of(
    st.lists(LINES, max_size=8).map(lambda lines: "\n".join(lines) + "\n").map(str.encode),
    st.lists(YAML_PIECES, max_size=4).map("".join).map(str.encode),
    st.binary(max_size=64),
)
ENTRY = st.one_of(
    st.tuples(st.just("file"), st.sampled_from(NAMES), CONTENT),
    st.tuples(st.just("fifo"), st.sampled_from(NAMES), st.just(b"")),
    st.tuples(st.just("link-out"), st.sampled_from(NAMES), st.sampled_from([b"secret", b"fifo"])),
    st.tuples(st.just("link-in"), st.sampled_from(NAMES), st.sampled_from(NAMES).map(str.encode)),
    st.tuples(st.just("dangling"), st.sampled_from(NAMES), st.just(b"")),
)
TREE = st.lists(st.tuples(st.sampled_from(["", "a", "a/b", "c"]), ENTRY), min_size=1, max_size=8)


def build(root: Path, outside: Path, tree) -> None:
    for folder, (kind, name, data) in tree:
        where = root / folder
        where.mkdir(parents=True, exist_ok=True)
        path = where / name
        if os.path.lexists(path):
            continue
        if kind == "file":
            path.write_bytes(data)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "link-out":
            path.symlink_to(outside / data.decode())
        elif kind == "link-in":
            path.symlink_to(data.decode())
        else:
            path.symlink_to(where / "missing-target")


def snapshot(root: Path) -> dict:
    state = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            state[str(path)] = ("link", os.readlink(path))
        elif path.is_fifo():
            state[str(path)] = ("fifo", None)
        elif path.is_file():
            state[str(path)] = ("file", path.read_bytes())
    return state


def check(result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert SECRET not in result.output


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(TREE)
def test_random_trees(tree):
    base = Path(tempfile.mkdtemp(prefix="initify-property-"))

    def hung(number, frame):
        raise AssertionError(f"initify hung on the tree {tree!r} (a FIFO or device read?)")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)  # a hang fails this example instead of the whole run
    try:
        outside = base / "outside"
        outside.mkdir()
        (outside / "secret").write_text(f"FROM {SECRET}\n{SECRET}: x\n")
        (outside / "Dockerfile").write_text(f"FROM {SECRET}\n")
        os.mkfifo(outside / "fifo")
        root = base / "tree"
        root.mkdir()
        build(root, outside, tree)
        outside_before = snapshot(outside)
        for args in (["lint", "."], ["lint", "--format", "sarif", "."], ["fix", "--diff", "."]):
            check(invoke(args, root, catch_exceptions=True))
        before = snapshot(root)
        check(invoke(["fix", "--unsafe-fixes", "."], root, catch_exceptions=True))
        after = snapshot(root)
        assert set(after) - set(before) <= {p for p in after if "/.initify/" in p or p.endswith("/.dockerignore")}
        check(invoke(["fix", "--unsafe-fixes", "."], root, catch_exceptions=True))
        assert snapshot(root) == after, "a second fix changed something: the first left a file half-fixed"
        assert snapshot(outside) == outside_before
        assert not [p for p in root.rglob(".initify-*")]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(base, ignore_errors=True)

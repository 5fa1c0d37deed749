"""`initify build`: build an image with the `initify fix` fixes applied, never touching the user's files.

1. Plan the fixes in memory (`initify.commands.fix.plan`), with the init chosen from the real base image
   (does it have python3? which package manager?) when buildah has it locally.
2. Copy the build context into a temporary folder (honouring `.dockerignore`/`.containerignore`,
   which is copied too so the engine applies its exact rules), put the fixed Dockerfile and the
   fixed or new files (entrypoint scripts, the init) there.
3. Run `buildah bud` or `podman build` (argument list, streamed output, a progress line per step).
4. Read the built image's config and check it against the plan.

The temporary folder is removed on success, on failure and on Ctrl-C.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Tuple

from initify.knowledge import loader as knowledge
from initify.image import runtime
from initify.knowledge import signals
from initify.errors import InputError
from initify.dockerfile.ignore import IGNORE_FILES, ignore_file as find_ignore_file, ignored, read_ignore

_STEP = re.compile(r"^STEP (\d+)(?:/(\d+))?: (.*)$")
_PYTHON3 = ("usr/bin/python3", "usr/local/bin/python3", "bin/python3")
_PACKAGE_MANAGERS = (("apt", "usr/bin/apt-get"), ("apk", "sbin/apk"), ("microdnf", "usr/bin/microdnf"), ("dnf", "usr/bin/dnf"), ("yum", "usr/bin/yum"))


class BuildFailed(Exception):
    def __init__(self, status: int, lines: List[str]) -> None:
        super().__init__(status)
        self.status = status
        self.lines = lines


@dataclass
class BuildOptions:
    context: str = "."
    dockerfile: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    engine: str = "buildah"
    init: str = "auto"
    fix: bool = True
    unsafe_fixes: bool = True  # nothing of the user's is rewritten, so the init goes in too
    target: Optional[str] = None
    build_args: Dict[str, str] = field(default_factory=dict)
    engine_args: List[str] = field(default_factory=list)


@dataclass
class BaseProbe:
    image: str
    found: bool  # the image is in the local store
    python3: bool = False
    package_manager: Optional[str] = None


@dataclass
class Outcome:
    image: str  # first tag, else the image id
    image_id: str
    config: Dict[str, object]
    applied: List[str]  # "Dockerfile:11 IN101 (exact argv)"
    remaining: List[str]
    expected: Dict[str, object]  # what the fixed Dockerfile says: Entrypoint, Cmd, StopSignal
    mismatches: List[str]
    init: str
    init_reason: str

    @property
    def pid1(self) -> List[str]:
        return list(self.config.get("Entrypoint") or []) + list(self.config.get("Cmd") or [])  # type: ignore[call-overload]


# --- inputs ----------------------------------------------------------------------------------


def find_dockerfile(context: str, dockerfile: Optional[str]) -> str:
    if dockerfile is not None:
        if not os.path.isfile(dockerfile):
            raise InputError(dockerfile, "no such file")
        return os.path.abspath(dockerfile)
    for name in ("Containerfile", "Dockerfile"):
        path = os.path.join(context, name)
        if os.path.isfile(path):
            return os.path.abspath(path)
    raise InputError(context, "no Containerfile or Dockerfile in the build context (use -f)")


def _final_facts(text: str, path: str, options: BuildOptions, context: str):
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile import facts as facts_module

    facts = facts_module.analyse_image(dockerfile_module.parse(text, path), target=options.target,
                                       context_dir=context, build_args=options.build_args)
    if facts is None:
        raise InputError(path, f"no build stage named {options.target!r}" if options.target else "no FROM instruction")
    return facts


def probe_base(image: str) -> BaseProbe:
    """Look inside a local image: python3? which package manager? (found=False when not local).

    The image facts read the store directly (and a registry with `--image-facts registry`); only
    a store initify cannot read itself (another storage driver) is looked at through a buildah
    working container."""
    if image.lower() == "scratch":
        return BaseProbe(image, True)
    from initify.image import facts as image_facts

    info = image_facts.resolve(image)
    if info.origin in (image_facts.LOCAL, image_facts.REGISTRY):
        return BaseProbe(image, True, info.value("python3") is True, str(info.value("package_manager") or "") or None)
    if image_facts.current().mode == "off":
        return BaseProbe(image, False)
    buildah = runtime.find_tool("buildah")
    made = subprocess.run([buildah, "from", "--pull=never", "--quiet", image], capture_output=True, text=True)
    if made.returncode != 0:
        return BaseProbe(image, False)
    work = made.stdout.strip()
    try:
        root = runtime.run([buildah, "mount", work]).stdout.strip()
        python3 = any(os.path.lexists(os.path.join(root, p)) for p in _PYTHON3)
        manager = next((name for name, p in _PACKAGE_MANAGERS if os.path.lexists(os.path.join(root, p))), None)
        return BaseProbe(image, True, python3, manager)
    finally:
        subprocess.run([buildah, "umount", work], capture_output=True)
        subprocess.run([buildah, "rm", work], capture_output=True)


def choose_init(requested: str, probe: BaseProbe) -> Tuple[str, str]:
    """(init for FixOptions.init, why)."""
    if requested != "auto":
        return requested, f"--init {requested}"
    if not probe.found:
        return "auto", f"{probe.image} is not local: chosen from its name"
    if probe.python3:
        return "python", f"{probe.image} has python3"
    if probe.package_manager is not None:
        return "tini", f"{probe.image} has no python3; tini from {probe.package_manager}"
    return "none", f"{probe.image} has neither python3 nor a known package manager"


def copy_context(source: str, destination: str, rules: List[Tuple[bool, str]]) -> None:
    """Copy the context, skipping what the ignore rules exclude (symlinks copied as links)."""
    negations = any(not exclude for exclude, _ in rules)
    os.makedirs(destination, exist_ok=True)
    for folder, dirs, files in os.walk(source):
        relative_folder = os.path.relpath(folder, source)
        keep_dirs = []
        for name in dirs:
            relative = os.path.normpath(os.path.join(relative_folder, name))
            full = os.path.join(folder, name)
            if os.path.islink(full):
                files.append(name)
            elif negations or not ignored(rules, relative):
                keep_dirs.append(name)
                os.makedirs(os.path.join(destination, relative), exist_ok=True)
                shutil.copystat(full, os.path.join(destination, relative))
        dirs[:] = keep_dirs
        for name in files:
            relative = os.path.normpath(os.path.join(relative_folder, name))
            if ignored(rules, relative) and os.path.basename(relative) not in IGNORE_FILES:
                continue
            target = os.path.join(destination, relative)
            full = os.path.join(folder, name)
            if os.path.islink(full):
                os.symlink(os.readlink(full), target)
            elif os.path.isfile(full):  # a FIFO, socket or device cannot go into an image: not copied
                shutil.copy2(full, target)


# --- the build -------------------------------------------------------------------------------


def engine_command(options: BuildOptions, engine: str, dockerfile: str, context: str, iidfile: str) -> List[str]:
    args = [engine, "bud" if options.engine == "buildah" else "build", "--iidfile", iidfile, "-f", dockerfile]
    if not any(a == "--isolation" or a.startswith("--isolation=") for a in options.engine_args) and "BUILDAH_ISOLATION" not in os.environ:
        args += ["--isolation", "chroot"]  # works without a daemon or user namespaces
    for tag in options.tags:
        args += ["-t", tag]
    if options.target:
        args += ["--target", options.target]
    for name, value in options.build_args.items():
        args += ["--build-arg", f"{name}={value}"]
    return args + list(options.engine_args) + [context]


def run_engine(args: List[str], say: Callable[[str], None], echo: Callable[[str], None]) -> None:
    """Run the engine; a progress line per STEP, every other line echoed; BuildFailed on failure."""
    last: Deque[str] = collections.deque(maxlen=15)
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            last.append(line)
            step = _STEP.match(line)
            if step:
                say(f"[{step.group(1)}/{step.group(2) or '?'}] {step.group(3)}")
            else:
                echo(line)
        status = process.wait()
    except BaseException:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        raise
    if status != 0:
        raise BuildFailed(status, list(last))


def _expected(facts) -> Dict[str, object]:
    """Entrypoint, Cmd and StopSignal the Dockerfile itself sets for the shipped stage (not what
    it inherits from the base image: that may come from the knowledge table, not the base pulled)."""
    expected: Dict[str, object] = {}
    if facts.entrypoint is not None and not facts.entrypoint.inherited:
        expected["Entrypoint"] = list(facts.entrypoint.argv)
    if (facts.cmd is not None and not facts.cmd.inherited and not facts.cmd_dropped
            and (facts.entrypoint is None or facts.cmd.instruction in facts.final.instructions)):
        expected["Cmd"] = list(facts.cmd.argv)
    if facts.stopsignal is not None and not facts.stopsignal.inherited and facts.stopsignal.name is not None:
        expected["StopSignal"] = facts.stopsignal.name
    return expected


def _mismatches(expected: Dict[str, object], config: Dict[str, object]) -> List[str]:
    found = []
    for key, value in expected.items():
        actual = config.get(key)
        if key == "StopSignal":
            actual = signals.normalise(str(actual)) if actual else None
        elif actual is not None:
            actual = list(actual)  # type: ignore[call-overload]
        if actual != value:
            found.append(f"{key}: planned {value!r}, built {actual!r}")
    return found


def build(options: BuildOptions, say: Callable[[str], None] = lambda line: None,
          echo: Callable[[str], None] = lambda line: None) -> Outcome:
    """Plan, copy, build, inspect. InputError, runtime.ToolMissing or BuildFailed on failure."""
    from initify.commands import fix as fix_module

    engine = runtime.find_tool(options.engine)
    runtime.find_tool("buildah")  # inspect and the base probe use buildah's store (shared with podman)
    context = os.path.abspath(options.context)
    if not os.path.isdir(context):
        raise InputError(options.context, "build context is not a folder")
    dockerfile = find_dockerfile(context, options.dockerfile)
    from initify.discover import read_bytes

    original = read_bytes(dockerfile).decode("utf-8", errors="replace")
    base = _final_facts(original, dockerfile, options, context).base_image
    probe = probe_base(base) if options.fix else None
    init, init_reason = choose_init(options.init, probe) if probe is not None else ("none", "--no-fix")
    probed = knowledge.Base(base, probe.python3, probe.package_manager) if probe is not None and probe.found else None
    applied: List[str] = []
    remaining: List[str] = []
    files: Dict[str, str] = {}  # absolute path -> new text
    modes: Dict[str, int] = {}
    text = original
    if options.fix:
        plan = fix_module.plan([dockerfile], fix_module.FixOptions(
            target=options.target, context=context, build_args=dict(options.build_args),
            unsafe_fixes=options.unsafe_fixes, init=init, fail_level="never", base=probed))
        for error in plan.errors:
            raise InputError(error.path, error.message, error.line)
        for state in plan.changed():
            if state.path == dockerfile:
                text = state.text
            elif not state.path.startswith(context + os.sep):
                raise InputError(state.display, "a fix changes a file outside the build context")
            else:
                files[state.path] = state.text
                if state.original is None:
                    modes[state.path] = state.mode if state.mode is not None else 0o644
                else:
                    modes[state.path] = os.stat(state.path).st_mode & 0o7777
        for item in plan.applied:
            note = f" ({item.fix.note})" if item.fix.note else ""
            applied.append(f"{os.path.basename(item.finding.path)}:{item.finding.line} {item.finding.code}{note}")
        for finding in plan.remaining:
            remaining.append(f"{os.path.basename(finding.path)}:{finding.line} {finding.code} {finding.message}")
    expected = _expected(_final_facts(text, dockerfile, options, context))
    workdir = tempfile.mkdtemp(prefix="initify-build-")
    try:
        copy = os.path.join(workdir, "context")
        ignore_file = find_ignore_file(context)
        # buildah also reads <Dockerfile>.dockerignore next to -f; the copy keeps the context's one.
        copy_context(context, copy, read_ignore(ignore_file) if ignore_file else [])
        for path, content in files.items():
            target = os.path.join(copy, os.path.relpath(path, context))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.islink(target):
                os.unlink(target)
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
            os.chmod(target, modes[path])
        if ignore_file and files:
            with open(os.path.join(copy, os.path.basename(ignore_file)), "a", encoding="utf-8") as handle:
                handle.write("\n" + "".join(f"!{os.path.relpath(p, context)}\n" for p in files))
        new_dockerfile = os.path.join(workdir, os.path.basename(dockerfile))
        with open(new_dockerfile, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        iidfile = os.path.join(workdir, "iid")
        run_engine(engine_command(options, engine, new_dockerfile, copy, iidfile), say, echo)
        with open(iidfile, encoding="utf-8") as handle:
            image_id = handle.read().strip()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    image = options.tags[0] if options.tags else image_id
    config = runtime.image_config(image)
    return Outcome(image, image_id, config, applied, remaining, expected, _mismatches(expected, config), init, init_reason)


def summary(outcome: Outcome) -> List[str]:
    lines = [f"fixed: {item}" for item in outcome.applied] or ["fixed: nothing"]
    lines += [f"left: {item}" for item in outcome.remaining]
    stop = outcome.config.get("StopSignal") or "SIGTERM (default)"
    lines += [
        f"image: {outcome.image} ({outcome.image_id[:19]})",
        f"init: {outcome.init} ({outcome.init_reason})",
        f"PID 1: {' '.join(outcome.pid1) or '(none)'}",
        f"stop signal: {stop}",
    ]
    lines += [f"MISMATCH {item}" for item in outcome.mismatches]
    return lines

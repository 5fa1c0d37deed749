"""What a Kubernetes container runs as PID 1 and how it is stopped: the subjects of the IN2xx rules.

A container rule (TARGET "container") receives a `ContainerFacts`, a pod rule (TARGET "pod") a
`PodFacts`. PID 1 comes from the manifest where it overrides the image and from the paired
Dockerfile's facts where it does not:

- `command` replaces the image ENTRYPOINT and drops its CMD: argv = command + args;
- `args` alone replaces CMD: argv = ENTRYPOINT + args (needs the image; unknown otherwise);
- neither: the image's own argv (unknown without a paired Dockerfile).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple

from initify.dockerfile import facts as facts_module
from initify.knowledge import signals
from initify.dockerfile.facts import EXEC, ImageFacts, Step
from initify.record import Record

if TYPE_CHECKING:  # only for annotations: a Dockerfile-only run should not load the YAML readers
    from initify.engine import Hit
    from initify.kubernetes.manifests import Container, Hook, ManifestFile, PodSpec

FALLBACK_K8S_VERSION = "1.37"
DEFAULT_GRACE_SECONDS = 30
SLEEP_ACTION_SINCE = (1, 30)  # preStop `sleep` handler on by default (beta)
STOP_SIGNAL_SINCE = (1, 33)  # lifecycle.stopSignal, alpha gate ContainerStopSignals
MULTI_SERVICE_SECONDS = 100  # systemd's DefaultTimeoutStopSec is 90 s, plus a margin
RUNNING_ROLES = ("container", "sidecar")  # containers still running when the pod is deleted


# --------------------------------------------------------------------------------------------
# Kubernetes versions
# --------------------------------------------------------------------------------------------


def newest_known_version() -> str:
    """The newest Kubernetes version kubernetes-validate ships schemas for (without importing it)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        return FALLBACK_K8S_VERSION
    folder = os.path.join(os.path.dirname(spec.origin), "kubernetes-json-schema")
    versions = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = re.match(r"^v(\d+)\.(\d+)", name)
        if match:
            versions.append((int(match.group(1)), int(match.group(2))))
    if not versions:
        return FALLBACK_K8S_VERSION
    major, minor = max(versions)
    return f"{major}.{minor}"


def parse_version(text: str) -> Tuple[int, int]:
    """`1.33` -> (1, 33); ValueError for anything else."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if match is None:
        raise ValueError(f"Kubernetes version must look like 1.33, not {text!r}")
    return int(match.group(1)), int(match.group(2))


# --------------------------------------------------------------------------------------------
# Launch chains
# --------------------------------------------------------------------------------------------


def step_key(step: Step) -> Tuple[str, str, Optional[str], Optional[str]]:
    """What makes two steps the same process: kind, program, `-c` text, script file."""
    script = step.context_script.image_path if step.context_script is not None else None
    return step.kind, step.argv[0] if step.argv else "", step.script, script


def is_systemd(step: Optional[Step]) -> bool:
    return step is not None and step.kind == "init" and step.init is not None and step.init.key == "systemd"


def systemd_assumed(step: Optional[Step]) -> bool:
    """systemd is taken for this step only because `/sbin/init` (or `/usr/sbin/init`) is systemd on
    most distributions: what it is in the image is not known (BusyBox init on Alpine, openrc...)."""
    return is_systemd(step) and getattr(step, "init_fact", None) is None


def assumed_clause(step: Step, image: str) -> str:
    """The one clause a systemd finding adds when systemd is only assumed (see systemd_assumed)."""
    where = f"in {image}" if image else "in this image"
    return f"taking {step.argv[0]} to be systemd: what it is {where} is not known"


def is_multi_service(step: Optional[Step]) -> bool:
    """An init that starts services from its own configuration (systemd, supervisord, runit) and
    stops them one by one on its stop signal, each with its own timeout: it needs a long grace
    period. BusyBox init (`stops_promptly`) signals them all at once and is done in a second."""
    return (step is not None and step.kind == "init" and step.init is not None and not step.init.supervises_argv
            and not step.init.stops_promptly)


def image_argv_with_args(image: ImageFacts, args: List[str]) -> List[str]:
    """argv when only CMD is replaced: exec-form ENTRYPOINT + args; a shell-form one ignores them."""
    entrypoint = image.entrypoint
    if entrypoint is None:
        return list(args)
    if entrypoint.form != EXEC:
        return list(entrypoint.argv)
    return list(entrypoint.argv) + list(args)


def minimal_base(image: Optional[ImageFacts], info: object = None) -> Optional[str]:
    """The base image when it has neither a shell nor a `kill` (scratch, distroless); else None.

    `info` (initify.image.facts.ImageInfo) is the image of an unpaired container."""
    if image is not None:
        info = image.base_info
    if info is None:
        return None
    reference = image.base_image if image is not None else info.reference  # type: ignore[attr-defined]
    sh, kill = info.get("sh"), info.get("kill")  # type: ignore[attr-defined]
    if sh is not None and kill is not None and not sh.value and not kill.value:
        return reference
    if image is not None and (reference.lower() == "scratch" or "distroless" in reference.lower()) and sh is None:
        return reference
    return None


def kill_command(image: Optional[ImageFacts], signal: str, info: object = None) -> Tuple[Optional[List[str]], bool]:
    """(preStop exec command that sends `signal` to PID 1 with a `kill` this image has, known).

    A kill program (`/bin/kill`, BusyBox's applet) is run directly; without one, the shell's
    builtin through `/bin/sh -c`; neither: None (no preStop exec can work). `known` is False when
    the image's tools are not known (then the plain `kill` is proposed)."""
    if image is not None:
        info = image.base_info
    spelled = kill_spelling(signal)
    plain = ["kill", spelled, "1"]
    kill = info.get("kill") if info is not None else None  # type: ignore[attr-defined]
    if kill is None:
        return plain, False
    if kill.value:
        return plain, True
    sh = info.get("sh")  # type: ignore[attr-defined]
    if sh is not None and not sh.value:
        return None, True
    return ["/bin/sh", "-c", f"kill {spelled} 1"], sh is not None


# --------------------------------------------------------------------------------------------
# Lifecycle hooks
# --------------------------------------------------------------------------------------------


def _hook_commands(argv: List[str]) -> List[List[str]]:
    """Simple commands a preStop exec runs: argv itself, or the commands of a `sh -c` script."""
    if not argv:
        return []
    found = facts_module.shell_c_script(argv)
    if found is None or os.path.basename(argv[0]) not in ("sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"):
        return [argv]
    commands = []
    for piece in re.split(r"[;&|\n]+", found[1]):
        try:
            words = shlex.split(piece, comments=True)
        except ValueError:
            continue
        if words:
            commands.append(words)
    return commands


def _kill_to_pid1(words: List[str]) -> Optional[str]:
    """The signal `kill [-SIG|-s SIG|-n N] ... 1` sends to PID 1, or None."""
    if os.path.basename(words[0]) != "kill":
        return None
    signal = "SIGTERM"
    targets = []
    index = 1
    while index < len(words):
        word = words[index]
        if word in ("-s", "-n", "--signal") and index + 1 < len(words):
            signal = words[index + 1]
            index += 2
            continue
        if word.startswith("-") and len(word) > 1 and word != "--":
            signal = word[1:]
        elif word != "--":
            targets.append(word)
        index += 1
    if "1" not in targets:
        return None
    return signals.normalise(signal)


def prestop_signal(hook: Optional[Hook]) -> Optional[str]:
    """The signal a preStop exec hook sends to PID 1 with `kill`, if it does."""
    if hook is None or hook.action != "exec" or not hook.command:
        return None
    for words in _hook_commands(hook.command):
        found = _kill_to_pid1(words)
        if found is not None:
            return found
    return None


_SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _sleep_seconds(words: List[str]) -> Optional[int]:
    if os.path.basename(words[0]) != "sleep" or len(words) < 2:
        return None
    total = 0
    for word in words[1:]:
        match = re.fullmatch(r"(\d+)(?:\.\d+)?([smhd]?)", word)
        if match is None:
            return None
        total += int(match.group(1)) * _SLEEP_UNITS[match.group(2)]
    return total


def prestop_sleep(hook: Optional[Hook]) -> Optional[int]:
    """Seconds a preStop hook sleeps: `sleep.seconds`, or `sleep N` commands run by exec."""
    if hook is None:
        return None
    if hook.action == "sleep":
        return hook.sleep_seconds
    if hook.action != "exec" or not hook.command:
        return None
    sleeps = [s for s in (_sleep_seconds(words) for words in _hook_commands(hook.command)) if s is not None]
    return sum(sleeps) if sleeps else None


def shell_keeps_signals(analysis: object) -> bool:
    """Whether a `sh -c` script that does not exec still stops on SIGTERM (see shell.stops_on_term)."""
    from initify.dockerfile.shell import stops_on_term

    return stops_on_term(analysis)


def made_by_override(step: Step, source: str, replaces_all: str, replaces_args: str, image_chain: List[Step]) -> bool:
    """Whether a manifest put `step` in the launch chain: its `replaces_all` key (Kubernetes
    `command`, compose `entrypoint`) decided argv, or its `replaces_args` key (`args`, compose
    `command`) did and the image alone would not run `step`."""
    if source == replaces_all:
        return True
    if source == replaces_args:
        return step_key(step) not in {step_key(s) for s in image_chain}
    return False


def shells_without_exec(subject: object) -> Iterator[Step]:
    """The `sh -c` steps a manifest put in the launch chain whose script neither execs its last
    command nor stops on SIGTERM by itself (for ContainerFacts and compose ServiceFacts alike)."""
    for step in subject.chain:  # type: ignore[attr-defined]
        if step.kind != "shell" or step.script is None or not subject.manifest_made(step):  # type: ignore[attr-defined]
            continue
        analysis = step.analysis
        if getattr(analysis, "ok", False) and not analysis.ends_with_exec and not shell_keeps_signals(analysis):
            yield step


def kill_spelling(signal: str) -> str:
    """`SIGRTMIN+3` -> `-RTMIN+3`, as the `kill` option."""
    return "-" + (signal[3:] if signal.startswith("SIG") else signal)


# --------------------------------------------------------------------------------------------
# Subjects
# --------------------------------------------------------------------------------------------


class ContainerFacts(Record):
    __slots__ = ("manifest", "pod", "container", "image", "dockerfile", "k8s_version", "argv", "source", "chain",
                 "image_chain", "stop_signal_field", "image_info")

    def __init__(self, manifest: ManifestFile, pod: PodSpec, container: Container, image: Optional[ImageFacts],
                 dockerfile: Optional[str], k8s_version: Tuple[int, int], argv: Optional[List[str]] = None,
                 source: str = "unknown", chain: Optional[List[Step]] = None,
                 image_chain: Optional[List[Step]] = None, stop_signal_field: bool = False) -> None:
        self.manifest = manifest
        self.pod = pod
        self.container = container
        self.image = image  # the paired Dockerfile's facts, None when unpaired
        self.dockerfile = dockerfile  # the paired Dockerfile's path
        self.k8s_version = k8s_version
        self.argv: List[str] = [] if argv is None else argv  # what the runtime starts ([] when unknown)
        self.source = source  # "command" | "args" | "image" | "unknown": who decided argv
        self.chain: List[Step] = [] if chain is None else chain
        self.image_chain: List[Step] = [] if image_chain is None else image_chain  # what the image alone would run
        self.stop_signal_field = stop_signal_field  # `initify fix --stopsignal-field`: IN201 fixes with lifecycle.stopSignal
        # initify.image.facts.ImageInfo of the container's image reference when no Dockerfile is paired
        self.image_info: object = None

    @property
    def path(self) -> str:
        return self.manifest.path

    @property
    def running(self) -> bool:
        """An app container or a sidecar: it is running, and stopped, when the pod is deleted."""
        return self.container.role in RUNNING_ROLES

    @property
    def windows(self) -> bool:
        return self.pod.os_name == "windows" or (self.image is not None and self.image.windows)

    @property
    def pid1(self) -> Optional[Step]:
        return facts_module.pid1_of(self.chain)

    @property
    def systemd(self) -> bool:
        return is_systemd(self.pid1)

    @property
    def systemd_assumed(self) -> bool:
        """PID 1 is `/sbin/init` of an image whose init is not known (see systemd_assumed())."""
        return systemd_assumed(self.pid1)

    @property
    def image_reference(self) -> str:
        """The image the container runs: the paired Dockerfile's base, else `image:`."""
        return self.image.base_image if self.image is not None else (self.container.image or "")

    @property
    def manifest_line(self) -> int:
        """Line of the key that decided argv: `command`, else `args`, else the container."""
        return self.container.line_of(self.source) if self.source in ("command", "args") else self.container.line

    def manifest_made(self, step: Step) -> bool:
        """Whether `step` is there because of the manifest (not inherited unchanged from the image)."""
        return made_by_override(step, self.source, "command", "args", self.image_chain)

    @property
    def image_stop_signal(self) -> Optional[str]:
        if self.image is None:
            if self.image_info is not None and self.image_info.value("stopsignal"):  # type: ignore[attr-defined]
                return signals.normalise(str(self.image_info.value("stopsignal")))  # type: ignore[attr-defined]
            return None
        if self.image.stopsignal is None:
            return None
        return self.image.stopsignal.name

    @property
    def image_stop_signal_spelling(self) -> Optional[str]:
        """The image STOPSIGNAL as written in its config (runtimes parse that text, not the name)."""
        if self.image is None:
            value = self.image_info.value("stopsignal") if self.image_info is not None else None  # type: ignore[attr-defined]
            return str(value) if value else None
        stop = self.image.stopsignal
        if stop is None:
            return None
        return stop.name if stop.unresolved or "$" in stop.raw else stop.raw.strip()

    @property
    def image_known(self) -> bool:
        """Whether what the image runs and sets is known: a paired Dockerfile, or the image's config."""
        return self.image is not None or (self.image_info is not None and self.image_info.config_known)  # type: ignore[attr-defined]

    def kill_command(self, signal: str) -> Tuple[Optional[List[str]], bool]:
        return kill_command(self.image, signal, self.image_info)

    @property
    def minimal_base(self) -> Optional[str]:
        return minimal_base(self.image, self.image_info)

    @property
    def wanted_signal(self) -> Optional[str]:
        """The signal PID 1 must get to stop cleanly: SIGRTMIN+3 for systemd, else the image's."""
        if self.systemd:
            return "SIGRTMIN+3"
        return self.image_stop_signal

    def stop_signal_line(self) -> int:
        lifecycle = self.container.node.get("lifecycle")
        from initify.kubernetes.manifests import key_line

        return key_line(lifecycle, "stopSignal", self.container.line_of("lifecycle")) if lifecycle is not None else self.container.line


class PodFacts(Record):
    __slots__ = ("manifest", "pod", "containers", "k8s_version")

    def __init__(self, manifest: ManifestFile, pod: PodSpec, containers: List[ContainerFacts],
                 k8s_version: Tuple[int, int]) -> None:
        self.manifest = manifest
        self.pod = pod
        self.containers = containers
        self.k8s_version = k8s_version

    @property
    def grace_seconds(self) -> int:
        grace = self.pod.termination_grace_period
        return DEFAULT_GRACE_SECONDS if grace is None else grace


def container_facts(
    manifest: ManifestFile,
    pod: PodSpec,
    container: Container,
    image: Optional[ImageFacts],
    dockerfile: Optional[str],
    k8s_version: Tuple[int, int],
) -> ContainerFacts:
    subject = ContainerFacts(manifest, pod, container, image, dockerfile, k8s_version)
    info = None
    if image is None and container.image and "$" not in container.image and "{{" not in container.image:
        from initify.image import facts as image_facts

        info = subject.image_info = image_facts.resolve(container.image)
    configured: Optional[List[str]] = None  # ENTRYPOINT + CMD from the unpaired image's config
    if info is not None and info.config_known:
        configured = list(info.value("entrypoint")) + list(info.value("cmd"))  # type: ignore[call-overload]
        subject.image_chain = facts_module.build_chain(None, configured, None, True, image=info) if configured else []
    if image is not None:
        subject.image_chain = image.chain
    if container.command:
        subject.argv, subject.source = container.command + (container.args or []), "command"
    elif container.args:
        if image is None:
            if info is None or not info.known("entrypoint"):
                return subject  # the image's ENTRYPOINT is unknown, so is PID 1
            # `args` follow the image's ENTRYPOINT; an image with none (busybox, alpine) runs them as the command
            subject.argv, subject.source = list(info.value("entrypoint")) + list(container.args), "args"  # type: ignore[call-overload]
        else:
            subject.argv, subject.source = image_argv_with_args(image, container.args), "args"
    elif image is not None:
        subject.argv, subject.source, subject.chain = list(image.pid1_argv), "image", image.chain
        return subject
    elif configured:
        subject.argv, subject.source, subject.chain = configured, "image", subject.image_chain
        return subject
    if subject.argv:
        subject.chain = facts_module.build_chain(image, subject.argv, None, True, image=info)
    return subject


def pod_facts(manifest: ManifestFile, pod: PodSpec, containers: List[ContainerFacts], k8s_version: Tuple[int, int]) -> PodFacts:
    return PodFacts(manifest, pod, containers, k8s_version)


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _splitlines(text: str) -> List[str]:
    """The lines of a manifest, split once per text (not once per finding). Never changed."""
    return text.splitlines()


def hit_at(text: str, line: int, message: str, severity: Optional[str] = None) -> "Hit":
    """A hit spanning the YAML line `line` from its key (after any `- `) to the end of the line."""
    from initify.engine import Hit

    lines = _splitlines(text)
    content = lines[line - 1] if 0 < line <= len(lines) else ""
    stripped = content.rstrip()
    start = len(stripped) - len(stripped.lstrip(" "))
    if stripped[start:start + 2] == "- ":
        start += 2
        while start < len(stripped) and stripped[start] == " ":
            start += 1
    return Hit(line, start + 1, line, max(len(stripped), start) + 1, message, severity=severity)

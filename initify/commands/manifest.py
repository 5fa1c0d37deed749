"""`initify manifest`: render a Kubernetes manifest whose stop settings fit a Dockerfile's image.

Two steps, kept apart so each can be read (and tested) alone:

1. `decide` turns the image's facts into a plain dict of decisions: which signal stops PID 1 and
   how it is delivered (a preStop `kill -SIG 1`, or `lifecycle.stopSignal` + `os.name: linux`),
   the grace period, `tty` for systemd, the OpenShift service account; each with the reason
   that the templates write as a YAML comment;
2. `render` fills the jinja2 templates in `templates/` (found through `data_dir`, so an
   installed wheel works) with those decisions.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from initify.knowledge import loader as knowledge
from initify.knowledge import signals
from initify.errors import InputError
from initify.dockerfile.facts import ImageFacts
from initify.kubernetes.pods import (
    DEFAULT_GRACE_SECONDS,
    MULTI_SERVICE_SECONDS,
    STOP_SIGNAL_SINCE,
    is_multi_service,
    is_systemd,
    kill_command,
    kill_spelling,
    minimal_base,
    newest_known_version,
    parse_version,
)

KINDS = {"Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass
class ManifestOptions:
    dockerfile: str
    image: str
    kind: str = "Deployment"
    name: Optional[str] = None  # default: from the image's repository
    k8s_version: Optional[str] = None  # default: the newest kubernetes-validate knows
    openshift: bool = False
    stopsignal_field: bool = False
    target: Optional[str] = None


def default_name(image: str) -> str:
    """`ghcr.io/acme/My_App:1.2@sha256:...` -> `my-app`."""
    repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    name = re.sub(r"[^a-z0-9-]+", "-", repository.lower()).strip("-")[:63].strip("-")
    return name or "app"


def _kind(text: str) -> str:
    for kind in KINDS:
        if kind.lower() == text.strip().lower():
            return kind
    raise InputError("--kind", f"unknown kind {text!r} (one of {', '.join(KINDS)})")


def _pid1_text(facts: ImageFacts) -> str:
    pid1 = facts.pid1
    if pid1 is None:
        return "unknown (the base image decides)" if facts.inherits_unknown_entrypoint else "unknown"
    return json.dumps(pid1.argv, ensure_ascii=False)


def stop_signal(facts: ImageFacts) -> Tuple[Optional[str], str, Optional[str]]:
    """(the signal PID 1 needs, why, its spelling in the image's STOPSIGNAL or None when the image
    does not set it); (None, why, None) when the runtime default SIGTERM is right."""
    pid1 = facts.pid1
    own = facts.stopsignal.raw.strip() if facts.stopsignal is not None and facts.stopsignal.name else None
    if own is not None and "$" in own:
        own = facts.stopsignal.name  # type: ignore[union-attr]
    if is_systemd(pid1):
        in_image = own if facts.stopsignal is not None and facts.stopsignal.name == "SIGRTMIN+3" else None
        return ("SIGRTMIN+3", "PID 1 is systemd, which halts only on SIGRTMIN+3 (on SIGTERM it re-executes itself, "
                "daemon-reexec)", in_image)
    if facts.stopsignal is not None and facts.stopsignal.name:
        if facts.stopsignal.inherited:
            return facts.stopsignal.name, f"The base image {facts.base_image} sets STOPSIGNAL {facts.stopsignal.name}", own
        return facts.stopsignal.name, f"The Dockerfile sets STOPSIGNAL {facts.stopsignal.name}", own
    known = knowledge.load()
    info = facts.base_info
    known_here = info is not None and info.known("stopsignal")  # type: ignore[attr-defined]
    inherited = None if known_here else known.image_stop_signal(facts.base_image)
    if inherited is not None:
        return inherited, f"The base image {facts.base_image} sets STOPSIGNAL {inherited}", inherited
    if pid1 is not None and pid1.kind == "program" and pid1.argv:
        daemon = known.daemon_for(pid1.argv[0])
        if daemon is not None:
            return daemon.stop_signal, f"PID 1 is {daemon.key}, whose graceful stop signal is {daemon.stop_signal}", None
    return None, "PID 1 stops on SIGTERM, the runtime default", None


def decide(facts: ImageFacts, options: ManifestOptions, kind: str, name: str, version: Tuple[int, int]) -> Dict[str, Any]:
    """What the manifest needs, and why, as a plain dict the templates read."""
    pid1 = facts.pid1
    systemd = is_systemd(pid1)
    signal, signal_reason, spelling = stop_signal(facts)
    if signal == "SIGTERM":
        signal = None
    minimal = minimal_base(facts)
    prestop, _ = kill_command(facts, signal) if signal else (None, False)
    if signal and prestop is None and minimal is None:
        minimal = facts.base_image  # no shell and no kill in it: no preStop exec can work
    new_enough = version >= STOP_SIGNAL_SINCE
    comments: Dict[str, List[str]] = {"signal": [], "grace": [], "tty": [], "openshift": [], "service_account": []}
    delivery = "none"
    if facts.windows:
        signal_reason = "A Windows image: only SIGTERM or SIGKILL can stop it"
        signal = None
    if signal is not None:
        comments["signal"].append(signal_reason + ".")
        if spelling is not None and signals.runtime_risk(spelling) is None and not (options.stopsignal_field and new_enough):
            delivery = "image"
            comments["signal"].append("The runtime sends the image STOPSIGNAL: every containerd and CRI-O since 2017 "
                                      "does for a SIG-prefixed name, so no hook is needed.")
        elif options.stopsignal_field and new_enough:
            delivery = "field"
            comments["signal"].append("Sent with lifecycle.stopSignal (alpha gate ContainerStopSignals; containerd >= 2.3 or CRI-O >= 1.33), which needs spec.os.name.")
        elif minimal is not None and new_enough:
            delivery = "field"
            comments["signal"].append(f"No preStop exec hook: the base image {minimal} has no `kill`; lifecycle.stopSignal (alpha gate ContainerStopSignals) sends {signal} instead.")
        elif minimal is not None:
            comments["signal"].append(f"No preStop exec hook: the base image {minimal} has no `kill`, and lifecycle.stopSignal needs Kubernetes >= 1.33;")
            comments["signal"].append("the pod relies on the runtime honouring the image STOPSIGNAL.")
        else:
            delivery = "prestop"
            comments["signal"].append("The preStop hook sends it to PID 1 in case the runtime ignores the image STOPSIGNAL (containerd < 1.6, CRI-O 1.18 to 1.22.1).")
    elif minimal is not None:
        comments["signal"].append(f"No preStop exec hook: the base image {minimal} has no shell and no `kill`; PID 1 stops on SIGTERM anyway.")
    if is_multi_service(pid1) and pid1 is not None and pid1.init is not None:
        grace = MULTI_SERVICE_SECONDS
        comments["grace"].append(f"PID 1 is {pid1.init.key}, which stops every service it started (systemd allows each unit 90 s by default).")
    else:
        grace = DEFAULT_GRACE_SECONDS
        comments["grace"].append("The Kubernetes default: PID 1 needs no longer to stop.")
    if systemd:
        comments["tty"].append("systemd writes boot and shutdown messages to /dev/console, which without a TTY goes nowhere.")
    service_account = None
    if options.openshift and systemd:
        service_account = f"{name}-anyuid"[:253]
        comments["openshift"] = [
            "OpenShift: systemd must run as UID 0, which the default restricted-v2 SCC forbids.",
            "Let this service account use the anyuid SCC (in the namespace you deploy to):",
            f"  oc adm policy add-scc-to-user anyuid -z {service_account} -n NAMESPACE",
        ]
        comments["service_account"] = ["OpenShift: systemd runs as UID 0; this service account may use the anyuid SCC (see above)."]
    elif options.openshift:
        comments["openshift"] = ["OpenShift: nothing extra; PID 1 is not systemd, so the default restricted-v2 SCC fits."]
    os_name = "windows" if facts.windows else ("linux" if delivery == "field" else None)
    return {
        "kind": kind,
        "api_version": KINDS[kind],
        "name": name,
        "image": options.image,
        "dockerfile": comment_text(os.path.basename(options.dockerfile)),
        "k8s_version": f"{version[0]}.{version[1]}",
        "pid1": comment_text(_pid1_text(facts)),
        "stop_signal": signal,
        "delivery": delivery,  # "prestop" | "field" | "image" (the runtime sends it) | "none"
        "prestop_command": prestop if delivery == "prestop" and signal else None,
        "grace": grace,
        "tty": systemd,
        "os_name": os_name,
        "service_account": service_account,
        "restart_policy": "OnFailure" if kind == "Job" else None,
        "comments": comments,
    }


def _environment():  # type: ignore[no-untyped-def]
    import jinja2

    from initify.resources import data_dir

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["q"] = quoted
    environment.filters["comment"] = _comment
    environment.filters["flow"] = lambda values: "[" + ", ".join(quoted(v) for v in values) + "]"
    return environment


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quoted(value: object) -> str:
    """A YAML double-quoted scalar for `value`. Every character that is not printable (control
    characters, and U+0085, U+2028, U+2029, which YAML reads as line breaks) is escaped."""
    text = json.dumps(str(value), ensure_ascii=False)
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def comment_text(text: str) -> str:
    """`text` safe inside a YAML comment: on one line whatever line breaks it holds (newline,
    CR, U+0085, U+2028, ...), other unprintable characters escaped, so a file name or a command
    cannot end the comment and inject YAML."""
    return "".join(char if char.isprintable() else " " if char.isspace() else _escape(char) for char in str(text))


def _comment(lines: List[str], indent: int) -> str:
    """Reasons as YAML comment lines (each ends in a newline); nothing for no reasons."""
    pad = " " * indent
    return "".join(pad + "# " + comment_text(line) + "\n" for line in lines)


def render(decisions: Dict[str, Any]) -> str:
    template = _environment().get_template(f"{decisions['kind'].lower()}.yaml.j2")
    text = template.render(d=decisions)
    check_round_trip(text, decisions)
    return text


def check_round_trip(text: str, decisions: Dict[str, Any]) -> None:
    """Parse the rendered manifest and compare it with what was meant: exactly the objects of
    the template (the ServiceAccount with --openshift, then the workload), with the intended
    kind, name, image and stop settings. Whatever a value smuggled in fails here, not in a
    cluster."""
    from ruamel.yaml import YAML

    try:
        documents = [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]
    except Exception as error:  # any parse failure means the template and a value clashed
        raise InputError("manifest", f"the rendered manifest does not parse ({type(error).__name__}); not written") from None
    kinds = (["ServiceAccount"] if decisions["service_account"] else []) + [decisions["kind"]]
    problem = None
    if [doc.get("kind") if isinstance(doc, dict) else None for doc in documents] != kinds:
        problem = "unexpected objects"
    else:
        workload = documents[-1]
        spec = workload.get("spec", {})
        pod = spec.get("template", {}).get("spec", {}) if decisions["kind"] != "Pod" else spec
        containers = pod.get("containers") or [{}]
        container = containers[0]
        lifecycle = container.get("lifecycle") or {}
        expected_command = decisions["prestop_command"]
        actual_command = lifecycle.get("preStop", {}).get("exec", {}).get("command")
        if workload.get("metadata", {}).get("name") != decisions["name"] or len(containers) != 1:
            problem = "unexpected name or containers"
        elif container.get("image") != decisions["image"] or container.get("name") != decisions["name"]:
            problem = "unexpected image"
        elif expected_command is not None and actual_command != expected_command:
            problem = "unexpected preStop command"
        elif pod.get("hostPID") or pod.get("hostNetwork") or pod.get("hostIPC") or pod.get("terminationGracePeriodSeconds") != decisions["grace"]:
            problem = "unexpected pod settings"
    if problem is not None:
        raise InputError("manifest", f"the rendered manifest does not round-trip ({problem}); not written")


def manifest(options: ManifestOptions) -> str:
    """The rendered manifest; InputError for a bad Dockerfile, kind, name or version."""
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile import facts as facts_module

    kind = _kind(options.kind)
    text_version = options.k8s_version or newest_known_version()
    try:
        version = parse_version(text_version)
    except ValueError as error:
        raise InputError("--k8s-version", str(error)) from None
    name = options.name if options.name is not None else default_name(options.image)
    if len(name) > 63 or not _NAME.fullmatch(name):
        raise InputError("--name", f"{name!r} is not a valid name (lower-case letters, digits and '-', at most 63)")
    if not options.image.strip() or any(c.isspace() for c in options.image):
        raise InputError("--image", f"not an image reference: {options.image!r}")
    facts = facts_module.analyse_image(dockerfile_module.read(options.dockerfile), target=options.target)
    if facts is None:
        raise InputError(options.dockerfile, "no FROM instruction" if options.target is None else f"no stage named {options.target!r}")
    return render(decide(facts, options, kind, name, version))


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename. Only a
    regular file (or a new one) is replaced: a device node or a symlink is refused, not turned
    into a regular file; a missing folder is an InputError."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        raise InputError(path, "not a regular file; refusing to replace it (use -o - for standard output)")
    if not os.path.isdir(folder):
        raise InputError(path, f"cannot write: no such folder {folder}")
    handle, temporary = tempfile.mkstemp(prefix=".initify-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

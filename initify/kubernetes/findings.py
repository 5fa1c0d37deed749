"""`initify lint` for Kubernetes manifests and compose files, paired with the Dockerfiles they run.

Called by `initify.commands.lint.run` after every Dockerfile of the invocation was linted (their facts are
reused for pairing). Helm templates are skipped with a note, YAML without Kubernetes workloads or
compose services silently; a YAML syntax error is an InputError (exit 2).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple, Union

from initify import config as config_module
from initify import discover, engine
from initify.kubernetes import pairing
from initify.kubernetes import pods
from initify.compose import services
from initify.compose.files import ComposeFile, load_compose
from initify.errors import InputError
from initify.kubernetes.manifests import ManifestFile, load_manifest

if TYPE_CHECKING:
    from initify.dockerfile.facts import ImageFacts
    from initify.options import Options, Result

Loaded = Union[ManifestFile, ComposeFile]


def _analyser(images: Dict[str, Optional["ImageFacts"]], options: "Options") -> pairing.Analyse:
    """Facts of a Dockerfile: reused when it was linted with the same settings, else read and
    analysed once per (path, compose build settings)."""
    from initify.dockerfile import parser as dockerfile_module

    return pairing.analyser(options, dockerfile_module.read, linted=images)


def _load(entries: List[Tuple[str, str, engine.Selection]], result: Optional["Result"],
          texts: Optional[Dict[str, str]] = None) -> List[Tuple[Loaded, engine.Selection]]:
    """Load each entry (from disk, or from `texts`, standard input, by its name). One that does
    not parse is an IN001 finding in `result` (without a result, the InputError is raised)."""
    loaded: List[Tuple[Loaded, engine.Selection]] = []
    for path, kind, selection in entries:
        text = (texts or {}).get(path)
        try:
            if kind == discover.COMPOSE:
                compose_file = load_compose(path, text, round_trip=False)
                if compose_file.services:
                    loaded.append((compose_file, selection))
                continue
            manifest = load_manifest(path, text, round_trip=False)
        except InputError as error:
            if result is None:
                raise
            result.add_parse_error(error)
            continue
        except RecursionError:
            if result is None:
                raise InputError(path, "nested too deeply to read") from None
            result.add_parse_error(InputError(path, "nested too deeply to read"))
            continue
        if manifest.helm:
            if result is not None:
                result.notes.append(f"{path}: skipped, a Helm template rather than plain YAML")
        elif manifest.pods:
            loaded.append((manifest, selection))
    return loaded


def _manifests_on_disk(root: str) -> Dict[str, List[Optional[str]]]:
    """Each Kubernetes manifest under `root` -> the images of its application containers (files
    that do not parse are skipped: the run that lints them reports them)."""
    found: Dict[str, List[Optional[str]]] = {}
    for path, _, _ in _cheap_candidates([(p, discover.MANIFEST, engine.Selection()) for p in discover.discover([root], [discover.MANIFEST])]):
        try:
            manifest = load_manifest(path, round_trip=False)
        except (InputError, RecursionError):
            continue
        found[path] = [c.image for pod in manifest.pods for c in pod.containers if c.role == "container"]
    return found


def _cheap_candidates(entries: List[Tuple[str, str, engine.Selection]]) -> List[Tuple[str, str, engine.Selection]]:
    """The entries whose text could hold a workload or compose services (a plain substring test,
    so CI workflows and values files are not parsed)."""
    kept = []
    for entry in entries:
        try:
            text = discover.read_bytes(entry[0]).decode("utf-8", errors="replace")
        except InputError:  # not a regular file, too large: the run that names it says so
            continue
        if "containers" in text or "services" in text:
            kept.append(entry)
    return kept


def pair_images(loaded: List[Tuple[Loaded, engine.Selection]], images: Dict[str, Optional["ImageFacts"]], options: "Options",
                root: Optional[str] = None) -> pairing.Pairing:
    """Pairing for `loaded`; with `root` (the linted paths' common folder), files outside it and
    outside every configuration's folder are never read."""
    configured: Dict[str, Tuple[str, Dict[str, str]]] = {}
    roots = [root] if root is not None else []
    for item, _ in loaded:
        config = config_module.find_config(item.path)
        if config.path is not None and config.root not in roots and roots:
            roots.append(config.root)
        if config.images and config.path is not None:
            configured[config.path] = (config.root, config.images)
    linted = [path for path, found in images.items() if found is not None]
    result = pairing.Pairing(analyse=_analyser(images, options))
    result.explicit = pairing.explicit_images(options.images, list(configured.values()))
    manifest_images = {
        item.path: [container.image for pod in item.pods for container in pod.containers if container.role == "container"]
        for item, _ in loaded
        if isinstance(item, ManifestFile)
    }
    pairing.automatic(linted, manifest_images, result, disk_manifests=_manifests_on_disk)
    result.roots = roots
    return result


def k8s_version(options: "Options") -> Tuple[int, int]:
    text = options.k8s_version or pods.newest_known_version()
    try:
        return pods.parse_version(text)
    except ValueError as error:
        raise InputError("--k8s-version", str(error)) from None


def findings_for(
    item: Loaded,
    selection: engine.Selection,
    paired: pairing.Pairing,
    version: Tuple[int, int],
    stop_signal_field: bool = False,
) -> List[engine.Finding]:
    """Findings of one manifest or compose file, suppressions applied (used by lint and fix)."""
    found: List[engine.Finding] = []
    if isinstance(item, ManifestFile):
        for pod in item.pods:
            subjects = []
            for container in pod.containers:
                image = paired.for_container(container.image, container.role == "container", item.path)
                subject = pods.container_facts(
                    item, pod, container,
                    image.facts if image else None, image.path if image else None, version,
                )
                subject.stop_signal_field = stop_signal_field
                subjects.append(subject)
                found.extend(engine.run_rules("container", subject, item.path, selection))
            found.extend(engine.run_rules("pod", pods.pod_facts(item, pod, subjects, version), item.path, selection))
    else:
        for service in item.services:
            image = paired.for_service(item.path, service)
            subject = services.service_facts(item, service, image.facts if image else None, image.path if image else None)
            found.extend(engine.run_rules("compose-service", subject, item.path, selection))
    suppressions = engine.read_suppressions(item.text)
    kept = [f for f in found if not suppressions.suppressed(f)]
    targets = ("container", "pod") if isinstance(item, ManifestFile) else ("compose-service",)
    return kept + engine.check_suppressions(suppressions, targets, selection, item.path)


def _load_beside(entries: List[Tuple[str, str, engine.Selection]]) -> List[Tuple[Loaded, engine.Selection]]:
    """Workload manifests and compose files among YAML files the user did not name: a file that
    cannot hold one (by a cheap look at its text) is not parsed, one that does not parse is left
    to the run that names it."""
    loaded: List[Tuple[Loaded, engine.Selection]] = []
    for entry in _cheap_candidates(entries):
        try:
            loaded.extend(_load([entry], None))
        except InputError:
            continue
    return loaded


def _pairs_with(item: Loaded, paired: pairing.Pairing, dockerfiles: Set[str]) -> bool:
    """Whether a container or service of `item` runs the image one of `dockerfiles` builds."""
    unpaired = set(paired.unpaired)  # asking must not add to the run's unpaired note
    found: List[Optional[pairing.Paired]] = []
    try:
        if isinstance(item, ManifestFile):
            found = [paired.for_container(c.image, c.role == "container", item.path) for pod in item.pods for c in pod.containers]
        else:
            found = [paired.for_service(item.path, service) for service in item.services]
    except InputError:
        found = []
    paired.unpaired = unpaired
    return any(image is not None and os.path.abspath(image.path) in dockerfiles for image in found)


def lint_yaml_files(
    entries: List[Tuple[str, str, engine.Selection]],
    images: Dict[str, Optional["ImageFacts"]],
    options: "Options",
    result: "Result",
    beside: Sequence[Tuple[str, str, engine.Selection]] = (),
    changed: Optional[Set[str]] = None,
    texts: Optional[Dict[str, str]] = None,
    root: Optional[str] = None,
) -> None:
    """Lint `entries`; of `beside` (YAML files near the Dockerfiles named on the command line,
    absolute paths in `changed`), only the files whose containers run one of those images."""
    version = k8s_version(options)
    loaded = _load(entries, result, texts)
    nearby = _load_beside(list(beside)) if beside and changed else []
    paired = pair_images(loaded + nearby, images, options, root)
    judged = loaded + [(item, selection) for item, selection in nearby if _pairs_with(item, paired, changed or set())]
    for item, selection in judged:
        result.files += 1
        try:
            result.findings.extend(findings_for(item, selection, paired, version))
        except InputError as error:  # a Dockerfile it pairs with does not parse, a compose stage is missing
            result.add_parse_error(error, count=False)
    result.notes.extend(note for note in paired.notes if note not in result.notes)
    note = paired.unpaired_note()
    if note is not None:
        result.notes.append(note)
    shared = _shared_namespace_only(loaded + nearby, paired)
    if shared:
        result.findings[:] = [
            f for f in result.findings if not (f.code in PID1_ONLY_CODES and os.path.abspath(f.path) in shared)
        ]


# Dockerfile findings about a program as PID 1 that are moot when every pod running the image
# shares its process namespace: the pause container is PID 1 then, reaps, and the program gets
# the default action of SIGTERM like any other process.
PID1_ONLY_CODES = frozenset({"IN111"})


def _shared_namespace_only(loaded: List[Tuple[Loaded, engine.Selection]], paired: pairing.Pairing) -> Set[str]:
    """Absolute paths of the Dockerfiles whose image runs only in pods with `shareProcessNamespace: true`."""
    sharing: Set[str] = set()
    not_sharing: Set[str] = set()
    for item, _ in loaded:
        if not isinstance(item, ManifestFile):
            continue
        for pod in item.pods:
            for container in pod.containers:
                image = paired.for_container(container.image, container.role == "container", item.path)
                if image is not None:
                    (sharing if pod.share_process_namespace else not_sharing).add(os.path.abspath(image.path))
    return sharing - not_sharing

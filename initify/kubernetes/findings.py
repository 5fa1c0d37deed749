"""`initify lint` for Kubernetes manifests and compose files, paired with the Dockerfiles they run.

Called by `initify.commands.lint.run` after every Dockerfile of the invocation was linted (their facts are
reused for pairing). Helm templates are skipped with a note, YAML without Kubernetes workloads or
compose services silently; a YAML syntax error is an InputError (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Union

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


def _load(entries: List[Tuple[str, str, engine.Selection]], result: "Result") -> List[Tuple[Loaded, engine.Selection]]:
    """Every file of `entries` that parses; one that does not is an IN001 finding."""
    loaded: List[Tuple[Loaded, engine.Selection]] = []
    for path, kind, selection in entries:
        try:
            if kind == discover.COMPOSE:
                compose_file = load_compose(path)
                if compose_file.services:
                    loaded.append((compose_file, selection))
                continue
            manifest = load_manifest(path)
        except InputError as error:
            result.add_parse_error(error)
            continue
        if manifest.helm:
            result.notes.append(f"{path}: skipped, a Helm template rather than plain YAML")
        elif manifest.pods:
            loaded.append((manifest, selection))
    return loaded


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
    pairing.automatic(linted, manifest_images, result)
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
    return [f for f in found if not suppressions.suppressed(f)]


def lint_yaml_files(
    entries: List[Tuple[str, str, engine.Selection]],
    images: Dict[str, Optional["ImageFacts"]],
    options: "Options",
    result: "Result",
    root: Optional[str] = None,
) -> None:
    version = k8s_version(options)
    loaded = _load(entries, result)
    paired = pair_images(loaded, images, options, root)
    for item, selection in loaded:
        result.files += 1
        try:
            result.findings.extend(findings_for(item, selection, paired, version))
        except InputError as error:  # a Dockerfile it pairs with does not parse, a compose stage is missing
            result.add_parse_error(error, count=False)
    result.notes.extend(paired.notes)

"""`initify audit`: lint the live workloads of a cluster, read from `kubectl get ... -o yaml`.

kubectl prints a `kind: List` whose items are the objects as the API server stores them: status,
uid, ownerReferences and defaulted fields included. Each workload is linted like an unpaired
manifest (PID 1 is known where `command` sets it) and reported under `NAMESPACE/Kind/NAME`, so the
report groups per namespace and workload in every output format of lint.

An object a controller of the same List made is skipped: the controller's template was reported
already, and its pods would repeat every finding once per replica. A ReplicaSet's pods are
matched to their Deployment by the `pod-template-hash` label (ReplicaSets are not in a
`kubectl get deployments,pods` List), a CronJob's Jobs by the `NAME-<digits>` name the CronJob
controller gives them.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Set, Tuple

from initify import engine
from initify.errors import InputError
from initify.kubernetes import pods
from initify.kubernetes.manifests import ManifestFile, PodSpec, is_mapping, is_sequence, load_manifest, scalar_text
from initify.options import Result

Key = Tuple[str, str, str]  # (namespace, kind, name)


def read_input(source: str) -> Tuple[str, Optional[bytes]]:
    """(name, content) of the List: stdin for `-` or a named pipe (read once within the size
    cap), else a regular file, read by `load_manifest` (content None). A bad path is an
    InputError (exit 2); content that does not parse is IN001 (see `run`)."""
    from initify import discover

    if source == "-":
        return "<stdin>", discover.read_stream(discover.STDIN)
    if discover.is_stream(source):
        return source, discover.read_stream(source)
    if not os.path.lexists(source):
        raise InputError(source, "no such file")
    if not discover.is_regular(source):
        raise InputError(source, "not a regular file; not read")
    return source, None


def _load(name: str, data: Optional[bytes]) -> ManifestFile:
    if data is None:
        return load_manifest(name, round_trip=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(name, f"not UTF-8 text (byte {error.start})") from None
    return load_manifest(name, text, round_trip=False)


def _metadata(resource: Any) -> Any:
    metadata = resource.get("metadata") if is_mapping(resource) else None
    return metadata if is_mapping(metadata) else {}


def _key(resource: Any) -> Key:
    metadata = _metadata(resource)
    return (scalar_text(metadata.get("namespace")) or "default", scalar_text(resource.get("kind")) or "",
            scalar_text(metadata.get("name")) or "")


def _controller(resource: Any) -> Optional[Any]:
    """The ownerReference with `controller: true`, if any."""
    owners = _metadata(resource).get("ownerReferences")
    for owner in owners if is_sequence(owners) else []:
        if is_mapping(owner) and owner.get("controller") is True:
            return owner
    return None


def _listed_owner(resource: Any, uids: Set[str], keys: Set[Key]) -> Optional[str]:
    """`Kind/name` of the controller in the List that made `resource`, or None."""
    owner = _controller(resource)
    if owner is None:
        return None
    namespace = _key(resource)[0]
    kind, name = scalar_text(owner.get("kind")) or "", scalar_text(owner.get("name")) or ""
    if scalar_text(owner.get("uid")) in uids or (namespace, kind, name) in keys:
        return f"{kind}/{name}"
    if kind == "ReplicaSet":  # a Deployment's ReplicaSet is named DEPLOYMENT-<pod-template-hash>
        labels = _metadata(resource).get("labels")
        template_hash = scalar_text(labels.get("pod-template-hash")) if is_mapping(labels) else None
        if template_hash and name.endswith("-" + template_hash):
            deployment = name[: -len(template_hash) - 1]
            if (namespace, "Deployment", deployment) in keys:
                return f"Deployment/{deployment}"
    if kind == "Job":  # a CronJob's Job is named CRONJOB-<scheduled minute>
        match = re.fullmatch(r"(.+)-\d+", name)
        if match and (namespace, "CronJob", match.group(1)) in keys:
            return f"CronJob/{match.group(1)}"
    return None


def workloads(manifest: ManifestFile) -> Tuple[List[PodSpec], List[str]]:
    """The pod specs to report, and a note per object skipped because its controller is listed."""
    uids = {scalar_text(_metadata(pod.resource).get("uid")) or "" for pod in manifest.pods} - {""}
    keys = {_key(pod.resource) for pod in manifest.pods}
    kept: List[PodSpec] = []
    skipped: List[str] = []
    for pod in manifest.pods:
        owner = _listed_owner(pod.resource, uids, keys)
        if owner is None:
            kept.append(pod)
        else:
            namespace, kind, name = _key(pod.resource)
            skipped.append(f"{namespace}/{kind}/{name} (made by {owner})")
    return kept, skipped


def run(source: str, selection: engine.Selection, k8s_version: Optional[str]) -> Result:
    """Findings of every listed workload that no listed controller made."""
    from initify.kubernetes.findings import k8s_version as version_of
    from initify.options import Options

    name, data = read_input(source)
    result = Result()
    try:
        manifest = _load(name, data)
    except InputError as error:  # the List does not parse: IN001, in every format, exit 2
        result.add_parse_error(error)
        return result
    except RecursionError:
        result.add_parse_error(InputError(name, "nested too deeply to read"))
        return result
    if manifest.helm:
        raise InputError(manifest.path, "a Helm template, not the output of `kubectl get -o yaml`")
    version = version_of(Options(k8s_version=k8s_version))
    kept, skipped = workloads(manifest)
    for pod in kept:
        path = "/".join(_key(pod.resource))
        subjects = []
        for container in pod.containers:
            subject = pods.container_facts(manifest, pod, container, None, None, version)
            subjects.append(subject)
            result.findings.extend(engine.run_rules("container", subject, path, selection))
        result.findings.extend(engine.run_rules("pod", pods.pod_facts(manifest, pod, subjects, version), path, selection))
        result.files += 1
    for finding in result.findings:
        finding.fix = None  # nothing to write back to: these are live objects
        finding.fixable = False
    if skipped:
        result.notes.append(f"{len(skipped)} object(s) skipped, their controller is in the list: " + ", ".join(skipped))
    result.findings = engine.sort_findings(result.findings)
    return result

"""Read an image from a registry with skopeo (`--image-facts registry`), cached by digest.

1. `skopeo inspect docker://REF`: the manifest digest;
2. `skopeo inspect --config docker://REF@DIGEST`: Entrypoint, Cmd, StopSignal, Env...;
3. `skopeo copy docker://REF@DIGEST oci:TMP`: the layers, whose tar listings (never unpacked)
   give the file system: symlinks, hard links, whiteouts.

skopeo itself reads registries.conf (short names, mirrors) and the auth files (`skopeo login`,
`$REGISTRY_AUTH_FILE`), so initify passes neither. TLS verification is switched off only for a
registry on a loopback address (127.0.0.0/8, ::1, localhost), as a local test registry serves
plain HTTP.

The answer is cached in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, then
initify/registry/): one file per digest, and the reference -> digest map, so a second run asks
no registry at all. A tag moved on the registry is seen once that cache entry is removed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import posixpath
import subprocess
import tarfile
import tempfile
from typing import Dict, Optional, Tuple

from initify.image.files import DIR, FILE, LINK, Tree, facts_from_tree

CACHE_VERSION = 1
_OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")


class RegistryError(Exception):
    """The registry could not be asked (skopeo missing, unreachable, unauthorised, no such image)."""


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "initify", "registry")


def registry_host(reference: str) -> Optional[str]:
    """The registry part of a reference (None for a short name such as `alpine:3`)."""
    first = reference.split("/", 1)[0]
    if "/" in reference and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def is_loopback(host: Optional[str]) -> bool:
    if host is None:
        return False
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def repository(reference: str) -> str:
    """`host:5000/app:1@sha256:...` -> `host:5000/app` (skopeo takes a tag or a digest, not both)."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


# --- the cache -------------------------------------------------------------------------------


def _write_json(path: str, data: object) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream)
    os.replace(temporary, path)  # atomic: a reader sees the old file or the new one


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _digest_path(digest: str) -> str:
    return os.path.join(cache_dir(), digest.replace(":", "-") + ".json")


def cached(reference: str) -> Optional[Tuple[Dict[str, Tuple[object, str]], Optional[str], str]]:
    """The cached answer for `reference` (found by the reference, or by its digest), else None."""
    digest = reference.split("@", 1)[1] if "@" in reference else None
    if digest is None:
        references = _read_json(os.path.join(cache_dir(), "references.json")) or {}
        digest = references.get(reference)
    if not digest:
        return None
    entry = _read_json(_digest_path(digest))
    if entry is None or entry.get("version") != CACHE_VERSION:
        return None
    found = {name: (value, source) for name, (value, source) in entry["facts"].items()}
    return found, entry.get("os_id"), digest


def _remember(reference: str, digest: str, found: Dict[str, Tuple[object, str]], os_id: Optional[str]) -> None:
    _write_json(_digest_path(digest), {"version": CACHE_VERSION, "facts": found, "os_id": os_id})
    if "@" not in reference:
        path = os.path.join(cache_dir(), "references.json")
        references = _read_json(path) or {}
        references[reference] = digest
        _write_json(path, references)


# --- skopeo ----------------------------------------------------------------------------------


def _skopeo(args, timeout: float = 600) -> subprocess.CompletedProcess:
    from initify.image import runtime

    try:
        skopeo = runtime.find_tool("skopeo")
    except runtime.ToolMissing:
        raise RegistryError("skopeo not found: install the skopeo package (apt-get install skopeo)") from None
    result = subprocess.run([skopeo, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["failed"]
        raise RegistryError(f"skopeo {args[0]}: {lines[-1]}")
    return result


class TarTree(Tree):
    """The merged listing of an image's layer tarballs (bottom layer first when built)."""

    def __init__(self) -> None:
        self.entries: Dict[str, Tuple[str, Optional[str], object]] = {"/": (DIR, None, "/")}
        self.contents: Dict[str, bytes] = {}

    def add_layer(self, path: str) -> None:
        with tarfile.open(path, mode="r:*") as archive:
            members = archive.getmembers()
            for member in members:  # whiteouts of this layer hide what lower layers put there
                name = "/" + posixpath.normpath(member.name).lstrip("./").lstrip("/")
                folder, base = posixpath.split(name)
                if base == ".wh..wh..opq":
                    prefix = folder.rstrip("/") + "/"
                    for key in [k for k in self.entries if k.startswith(prefix)]:
                        del self.entries[key]
                elif base.startswith(".wh."):
                    hidden = posixpath.join(folder, base[4:])
                    for key in [k for k in self.entries if k == hidden or k.startswith(hidden + "/")]:
                        del self.entries[key]
            for member in members:
                name = "/" + posixpath.normpath(member.name).lstrip("./").lstrip("/")
                if posixpath.basename(name).startswith(".wh."):
                    continue
                name = posixpath.normpath(name)
                if member.issym():
                    self.entries[name] = (LINK, member.linkname, None)
                elif member.islnk():
                    target = "/" + posixpath.normpath(member.linkname).lstrip("./").lstrip("/")
                    found = self.entries.get(target)
                    self.entries[name] = (FILE, None, found[2] if found else target)
                elif member.isdir():
                    self.entries[name] = (DIR, None, name)
                else:
                    self.entries[name] = (FILE, None, name)
                    if name in _OS_RELEASE and member.isfile() and member.size < 65536:
                        extracted = archive.extractfile(member)
                        if extracted is not None:
                            self.contents[name] = extracted.read()

    def entry(self, path: str):
        return self.entries.get(posixpath.normpath(path))

    def read(self, path: str, limit: int = 65536) -> Optional[bytes]:
        data = self.contents.get(path)
        return data[:limit] if data is not None else None


def _layers(oci_dir: str):
    """Blob paths of the layers of the single image in an OCI layout, bottom first."""
    index = _read_json(os.path.join(oci_dir, "index.json")) or {}
    manifests = index.get("manifests") or []
    if not manifests:
        raise RegistryError("skopeo copy wrote no image")

    def blob(digest: str) -> str:
        algorithm, value = digest.split(":", 1)
        return os.path.join(oci_dir, "blobs", algorithm, value)

    manifest = _read_json(blob(manifests[0]["digest"])) or {}
    return [blob(layer["digest"]) for layer in manifest.get("layers") or []]


def read_image(reference: str) -> Tuple[Dict[str, Tuple[object, str]], Optional[str], str]:
    """(fact name -> (value, source), /etc/os-release ID, digest) of a registry image.
    RegistryError when it cannot be read."""
    hit = cached(reference)
    if hit is not None:
        return hit
    tls = ["--tls-verify=false"] if is_loopback(registry_host(reference)) else []
    source = f"docker://{reference}"
    if "@" in reference:
        digest = reference.split("@", 1)[1]
    else:
        inspected = json.loads(_skopeo(["inspect", *tls, "--no-tags", source]).stdout)
        digest = inspected["Digest"]
        hit = cached(f"{repository(reference)}@{digest}")
        if hit is not None:
            _remember(reference, digest, hit[0], hit[1])
            return hit
    pinned = f"docker://{repository(reference)}@{digest}"
    config = json.loads(_skopeo(["inspect", *tls, "--config", pinned]).stdout)
    with tempfile.TemporaryDirectory(prefix="initify-layers-") as folder:
        target = os.path.join(folder, "image")
        copy_tls = ["--src-tls-verify=false"] if tls else []
        _skopeo(["copy", "--quiet", *copy_tls, pinned, f"oci:{target}"])
        tree = TarTree()
        try:
            for layer in _layers(target):
                tree.add_layer(layer)
        except (tarfile.TarError, OSError) as error:
            raise RegistryError(f"{reference}: cannot list a layer: {error}") from None
    found, os_id = facts_from_tree(tree, dict(config.get("config") or {}), f"registry image {reference}@{digest[:19]}")
    _remember(reference, digest, found, os_id)
    return found, os_id, digest

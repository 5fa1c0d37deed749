"""Read an image from the local containers-storage (what `buildah images` lists) without a container.

The store is read directly: `<driver>-images/images.json` names the images and their top layer,
the config is the image's big-data file, `<driver>-layers/layers.json` chains the layers, and
each layer's files are a folder (`overlay/<id>/diff`, or `vfs/dir/<id>` holding the whole root).
Overlay whiteouts (a 0/0 character device, a `.wh.` file, an opaque folder) hide lower files.
Only reading: nothing is mounted, nothing is locked, no tool is run.

The store is the one containers/storage uses: graphroot and driver from storage.conf
(`$CONTAINERS_STORAGE_CONF`, else /etc/containers/storage.conf, else the defaults).
"""

from __future__ import annotations

import binascii
import json
import os
import re
import stat
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from initify.image.files import DIR, FILE, LINK, Tree, facts_from_tree

DRIVERS = ("overlay", "vfs")


class StorageError(Exception):
    """The store exists but cannot be read (bad JSON, a driver initify does not read)."""


def _storage_conf() -> Dict[str, str]:
    """graphroot and driver of the [storage] table of storage.conf (a two-key scan: the TOML
    parser would cost every lint ~4 ms of imports)."""
    path = os.environ.get("CONTAINERS_STORAGE_CONF") or "/etc/containers/storage.conf"
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return {}
    section = re.split(r"^\s*\[", text, flags=re.M)
    storage = next((part for part in section if part.startswith("storage]")), "")
    found = re.findall(r'^\s*(graphroot|driver)\s*=\s*"([^"]*)"', storage, re.M)
    return {key: value for key, value in found if value}


def store_root() -> Tuple[str, Optional[str]]:
    """(graphroot, driver or None to detect) as containers/storage would pick them."""
    conf = _storage_conf()
    if os.geteuid() == 0:
        root = conf.get("graphroot", "/var/lib/containers/storage")
    else:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        root = os.path.join(data, "containers", "storage")
    return root, conf.get("driver")


def _load_json(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise StorageError(f"{path}: {error}") from None
    return data if isinstance(data, list) else []


def candidates(reference: str) -> List[str]:
    """The names `reference` may be stored under (short names as buildah qualifies them)."""
    name = reference.strip()
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    qualified = "/" in name and ("." in first or ":" in first or first == "localhost")
    if qualified:
        return [name]
    found = [f"localhost/{name}", f"docker.io/{name}"]
    if "/" not in name:
        found.insert(1, f"docker.io/library/{name}")
    return [name] + found


class LayerTree(Tree):
    """Layer folders, top first."""

    def __init__(self, folders: List[str]) -> None:
        self.folders = folders

    def _host(self, folder: str, path: str) -> str:
        return os.path.join(folder, path.lstrip("/"))

    def _hidden_below(self, folder: str, path: str) -> bool:
        """Whether this layer hides `path` of lower layers (a `.wh.` file or an opaque parent)."""
        parent, name = os.path.split(self._host(folder, path))
        if os.path.lexists(os.path.join(parent, ".wh." + name)):
            return True
        if os.path.lexists(os.path.join(parent, ".wh..wh..opq")):
            return True
        for attribute in ("trusted.overlay.opaque", "user.overlay.opaque"):
            try:
                if os.getxattr(parent, attribute, follow_symlinks=False) == b"y":
                    return True
            except OSError:
                continue
        return False

    def entry(self, path: str):
        for folder in self.folders:
            host = self._host(folder, path)
            try:
                info = os.lstat(host)
            except OSError:
                if self._hidden_below(folder, path):
                    return None
                continue
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                return None  # an overlay whiteout: deleted in this layer
            if stat.S_ISLNK(info.st_mode):
                return LINK, os.readlink(host), None
            return (DIR if stat.S_ISDIR(info.st_mode) else FILE), None, (info.st_dev, info.st_ino)
        return None

    def read(self, path: str, limit: int = 65536) -> Optional[bytes]:
        for folder in self.folders:
            host = self._host(folder, path)
            if os.path.lexists(host):
                try:
                    with open(host, "rb") as handle:
                        return handle.read(limit)
                except OSError:
                    return None
        return None


def _stamp(root: str) -> Tuple[int, ...]:
    """When the store's image and layer lists last changed: an image built or removed since the
    last read (a long-running language server, a test that rebuilds a tag) is seen."""
    stamps = []
    for driver in DRIVERS:
        for path in (f"{driver}-images/images.json", f"{driver}-layers/layers.json"):
            try:
                stamps.append(os.stat(os.path.join(root, path)).st_mtime_ns)
            except OSError:
                stamps.append(0)
    return tuple(stamps)


@lru_cache(maxsize=4)
def _store(root: str, driver: Optional[str], stamp: Tuple[int, ...] = ()) -> Tuple[str, list, Dict[str, dict]]:
    drivers = [driver] if driver else [d for d in DRIVERS if os.path.isdir(os.path.join(root, f"{d}-images"))]
    if not drivers:
        return "", [], {}
    chosen = drivers[0]
    if chosen not in DRIVERS:
        raise StorageError(f"storage driver {chosen!r}: initify reads overlay and vfs stores only")
    images = _load_json(os.path.join(root, f"{chosen}-images", "images.json"))
    layers: Dict[str, dict] = {}
    for name in ("layers.json", "volatile-layers.json"):
        for layer in _load_json(os.path.join(root, f"{chosen}-layers", name)):
            layers[layer.get("id", "")] = layer
    return chosen, images, layers


def _find(images: list, reference: str) -> Optional[dict]:
    wanted = candidates(reference)
    digest = reference.split("@", 1)[1] if "@" in reference else None
    for name in wanted:
        for image in images:
            if name in (image.get("names") or []):
                return image
    for image in images:
        if digest is not None and (image.get("digest") == digest or digest in (image.get("digests") or [])):
            return image
        if len(reference) >= 12 and image.get("id", "").startswith(reference.lower().replace("sha256:", "")):
            return image
    return None


def read_image(reference: str) -> Optional[Tuple[Dict[str, Tuple[object, str]], Optional[str], Optional[str]]]:
    """(fact name -> (value, source), /etc/os-release ID, digest) of a locally stored image, or
    None when the store does not hold it."""
    root, driver = store_root()
    if not os.path.isdir(root):
        return None
    chosen, images, layers = _store(root, driver, _stamp(root))
    image = _find(images, reference)
    if image is None:
        return None
    image_id = image["id"]
    key = "=" + binascii.b2a_base64(f"sha256:{image_id}".encode(), newline=False).decode()
    config_path = os.path.join(root, f"{chosen}-images", image_id, key)
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = dict(json.load(handle).get("config") or {})
    except (OSError, ValueError) as error:
        raise StorageError(f"config of {reference}: {error}") from None
    folders: List[str] = []
    layer_id = image.get("layer")
    while layer_id and len(folders) < 200:
        if chosen == "overlay":
            folders.append(os.path.join(root, "overlay", layer_id, "diff"))
        else:
            folders.append(os.path.join(root, "vfs", "dir", layer_id))
            break  # a vfs layer holds the whole root file system
        layer_id = layers.get(layer_id, {}).get("parent")
    where = f"local image {reference}"
    found, os_id = facts_from_tree(LayerTree(folders), config, where)
    return found, os_id, image.get("digest")

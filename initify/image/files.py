"""An image's file system as its layers describe it, and the facts initify reads from it.

Two readers give the same view: `initify.image.storage` (layer folders of containers-storage)
and `initify.image.registry` (the layer tarballs skopeo copies). Both answer `entry(path)` for a
path whose parent folders are already resolved; `Tree.resolve` follows symlinks itself, inside
the image, so an absolute link never points at the host.
"""

from __future__ import annotations

import posixpath
import re
from typing import Dict, List, Optional, Tuple

DIR, FILE, LINK = "dir", "file", "link"

_KILL = ("/bin/kill", "/usr/bin/kill", "/usr/local/bin/kill", "/sbin/kill")
_PYTHON3 = ("/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3")
_TINI = ("/usr/bin/tini", "/sbin/tini", "/usr/local/bin/tini", "/tini", "/usr/bin/tini-static", "/bin/tini")
_DUMB_INIT = ("/usr/bin/dumb-init", "/usr/local/bin/dumb-init", "/bin/dumb-init")
_MANAGERS = (("apt", "/usr/bin/apt-get"), ("apk", "/sbin/apk"), ("microdnf", "/usr/bin/microdnf"),
             ("dnf", "/usr/bin/dnf"), ("yum", "/usr/bin/yum"))
_SHELLS = ("dash", "bash", "busybox")
_INITS = {"systemd": "systemd", "busybox": "busybox", "openrc-init": "openrc"}


class Tree:
    """A merged view of an image's layers (subclasses provide `entry` and `read`)."""

    def entry(self, path: str) -> Optional[Tuple[str, Optional[str], object]]:
        """(kind, symlink target or None, identity) of `path` (parents resolved), None if absent.
        `identity` is equal for hard links to one file (a BusyBox image links every applet)."""
        raise NotImplementedError

    def read(self, path: str, limit: int = 65536) -> Optional[bytes]:
        """The first bytes of a regular file at the resolved path (None if absent)."""
        raise NotImplementedError

    def resolve(self, path: str, depth: int = 0) -> Optional[str]:
        """The image path `path` leads to, every symlink followed inside the image; None if absent."""
        parts = [part for part in path.split("/") if part not in ("", ".")]
        current = "/"
        for index, part in enumerate(parts):
            if part == "..":
                current = posixpath.dirname(current) or "/"
                continue
            candidate = posixpath.join(current, part)
            found = self.entry(candidate)
            if found is None:
                return None
            kind, target, _ = found
            if kind == LINK and target is not None:
                if depth > 40:
                    return None
                base = target if target.startswith("/") else posixpath.join(current, target)
                rest = "/".join(parts[index + 1:])
                return self.resolve(posixpath.join(base, rest) if rest else base, depth + 1)
            current = candidate
        return current

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None

    def same_file(self, first: str, second: str) -> bool:
        a, b = self.resolve(first), self.resolve(second)
        if a is None or b is None:
            return False
        if a == b:
            return True
        entry_a, entry_b = self.entry(a), self.entry(b)
        return entry_a is not None and entry_b is not None and entry_a[2] is not None and entry_a[2] == entry_b[2]


def _program(tree: Tree, path: str, names: Tuple[str, ...]) -> Optional[str]:
    """Which of `names` the program at `path` is: by the name its links lead to, else by being
    the same file as /bin/NAME or /usr/bin/NAME (hard links)."""
    resolved = tree.resolve(path)
    if resolved is None:
        return None
    base = posixpath.basename(resolved)
    if base in names:
        return base
    for name in names:
        for folder in ("/bin", "/usr/bin", "/sbin"):
            if tree.same_file(path, f"{folder}/{name}"):
                return name
    return None


def os_release_id(tree: Tree) -> Optional[str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        resolved = tree.resolve(path)
        data = tree.read(resolved) if resolved else None
        if data:
            match = re.search(rb'^ID="?([A-Za-z0-9._-]+)"?\s*$', data, re.M)
            if match:
                return match.group(1).decode("ascii").lower()
    return None


def facts_from_tree(tree: Tree, config: Dict[str, object], where: str) -> Tuple[Dict[str, Tuple[object, str]], Optional[str]]:
    """(fact name -> (value, source), /etc/os-release ID) of an image's files and config.

    `where` names the image in each source ("local image localhost/app:1"). /sbin/init that is
    absent says nothing (the Dockerfile may install it): that fact is left to the table."""
    found: Dict[str, Tuple[object, str]] = {}
    if tree.exists("/bin/sh"):
        shell = _program(tree, "/bin/sh", _SHELLS)
        if shell is not None:
            found["sh"] = (shell, f"{where}: /bin/sh is {shell}")
    else:
        found["sh"] = ("", f"{where}: no /bin/sh")
    for init_path in ("/sbin/init", "/usr/sbin/init"):
        if tree.exists(init_path):
            name = _program(tree, init_path, tuple(_INITS))
            if name is not None:
                found["init"] = (_INITS[name], f"{where}: {init_path} is {name}")
            break
    kill = next((path for path in _KILL if tree.exists(path)), "")
    found["kill"] = (kill, f"{where}: {kill} exists" if kill else f"{where}: no kill program ({', '.join(_KILL[:2])})")
    python3 = next((path for path in _PYTHON3 if tree.exists(path)), None)
    found["python3"] = (python3 is not None, f"{where}: {python3}" if python3 else f"{where}: no python3")
    tini = next((path for path in _TINI if tree.exists(path)), None)
    found["tini"] = (tini is not None, f"{where}: {tini}" if tini else f"{where}: no tini")
    dumb = next((path for path in _DUMB_INIT if tree.exists(path)), None)
    found["dumb_init"] = (dumb is not None, f"{where}: {dumb}" if dumb else f"{where}: no dumb-init")
    manager = next((name for name, path in _MANAGERS if tree.exists(path)), "")
    found["package_manager"] = (manager, f"{where}: {manager} found" if manager else f"{where}: no apt-get, apk, dnf, microdnf or yum")
    found["entrypoint"] = (list(config.get("Entrypoint") or []), f"{where}: config Entrypoint")  # type: ignore[call-overload]
    found["cmd"] = (list(config.get("Cmd") or []), f"{where}: config Cmd")  # type: ignore[call-overload]
    found["stopsignal"] = (str(config.get("StopSignal") or ""), f"{where}: config StopSignal")
    return found, os_release_id(tree)


def paths_of(items: List[str]) -> str:
    return ", ".join(items)

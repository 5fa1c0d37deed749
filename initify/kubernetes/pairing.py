"""Pair manifest containers and compose services with the Dockerfile that builds their image.

Three ways, in this order:

1. explicit: `--image REF=path/to/Dockerfile` (repeatable, paths relative to the current folder)
   or `images = { REF = "path" }` in the configuration (paths relative to the config file);
   the command line wins over the configuration for the same REF;
2. a compose service with `build:` pairs with its own Dockerfile (`context` + `dockerfile`,
   relative to the compose file), analysed as compose builds it: from that context, at
   `build.target`, with `build.args` (over any `--build-arg`);
3. automatic: when no explicit pairing is configured, exactly one Dockerfile is linted and the
   Kubernetes manifests name exactly one application image (containers, not init containers or
   sidecars), every container running that image is paired with that Dockerfile. Otherwise a
   manifest that names exactly one application image is paired with the Dockerfile beside it,
   when its folder holds exactly one of the linted Dockerfiles (the usual project layout: one
   image, its Dockerfile and its manifests in one folder). For the manifests left unpaired, one
   note says pairing is ambiguous.

   The same rules read the disk where the linted set says nothing, so that linting one changed
   manifest (`pre-commit run --files k8s/pod.yaml`) judges it as linting the whole project does:
   with no Dockerfile linted, "the one Dockerfile" is the one Dockerfile found under the current
   folder (or the manifest's folder when it lies outside); and a manifest's folder with no linted
   Dockerfile offers the Dockerfiles in it on disk.

Containers and compose services judged without a Dockerfile are recorded (`unpaired`): the run
ends with one note listing their images (`unpaired_note`), so a missing pairing is never silent.

How a REF matches an image reference (`ref_matches`): a digest is ignored; `docker.io/` and
`docker.io/library/` are dropped; a REF without a tag matches every tag, one with a tag only that
tag; a REF without a registry host matches the same repository on any registry.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Dict, List, NamedTuple, Optional, Set, Tuple

from initify.dockerfile import facts as facts_module
from initify.errors import InputError
from initify.dockerfile.facts import ImageFacts
from initify.record import Record

if TYPE_CHECKING:
    from initify.compose.files import ComposeService
    from initify.options import Options
    from initify.dockerfile.model import Dockerfile


class Build(NamedTuple):
    """How a compose service builds its image; the command line's settings apply otherwise."""

    context: str  # absolute build context folder
    target: Optional[str]  # the stage built; None: the last one
    args: Tuple[Tuple[str, str], ...]  # build args, over the command line's --build-arg


# Facts of the image a Dockerfile builds: with `Build` as compose builds it, with None as the
# command line says (--target, --context, --build-arg).
Analyse = Callable[[str, Optional[Build]], Optional[ImageFacts]]


def build_settings(options: Options, build: Optional[Build]) -> Tuple[Optional[str], Optional[str], Dict[str, str]]:
    """(target, context folder, build args) to analyse a Dockerfile with: compose's `build`
    settings when given, else the command line's `--target`, `--context` and `--build-arg`."""
    if build is None:
        return options.target, options.context, dict(options.build_args)
    return build.target, build.context, {**options.build_args, **dict(build.args)}


def analyser(options: Options, read: Callable[[str], Dockerfile],
             planned_files: Callable[[], Dict[str, str]] = dict,
             linted: Optional[Dict[str, Optional[ImageFacts]]] = None) -> Analyse:
    """Facts of a Dockerfile, analysed once per (path, compose build settings), for lint and fix.

    `read` parses the Dockerfile (from disk, or as `initify fix` plans it), `planned_files` gives
    the context files as planned; with the command line's settings (no `Build`), a Dockerfile
    this run already linted (`linted`, by absolute path) is reused."""
    cache: Dict[Tuple[str, Optional[Build]], Optional[ImageFacts]] = {}

    def analyse(path: str, build: Optional[Build] = None) -> Optional[ImageFacts]:
        key = os.path.abspath(path)
        if build is None and linted is not None and key in linted:
            return linted[key]
        if (key, build) not in cache:
            target, context, args = build_settings(options, build)
            cache[key, build] = facts_module.analyse_image(read(path), target=target, context_dir=context,
                                                           build_args=args, planned_files=planned_files())
        return cache[key, build]

    return analyse


class ImageRef(NamedTuple):
    registry: Optional[str]
    repository: str
    tag: Optional[str]


def parse_ref(text: str) -> ImageRef:
    ref = text.strip().split("@", 1)[0]
    registry: Optional[str] = None
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, ref = first, rest
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = None
        if ref.startswith("library/"):
            ref = ref[len("library/"):]
    tag: Optional[str] = None
    name, colon, maybe_tag = ref.rpartition(":")
    if colon and "/" not in maybe_tag:
        ref, tag = name, maybe_tag
    return ImageRef(registry, ref, tag)


def ref_matches(key: str, image: str) -> bool:
    """Whether configured REF `key` names container image `image` (see the module docstring)."""
    wanted, actual = parse_ref(key), parse_ref(image)
    if wanted.repository != actual.repository:
        return False
    if wanted.registry is not None and wanted.registry != actual.registry:
        return False
    return wanted.tag is None or wanted.tag == (actual.tag or "latest")


class Paired(Record):
    __slots__ = ("path", "facts")

    def __init__(self, path: str, facts: ImageFacts) -> None:
        self.path = path  # the Dockerfile
        self.facts = facts


class Pairing(Record):
    """Decides which Dockerfile each container or service runs; `notes` go to stderr."""

    __slots__ = ("analyse", "explicit", "automatic", "automatic_image", "beside", "notes", "unpaired", "ambiguity", "roots")

    def __init__(self, analyse: Analyse, explicit: Optional[List[Tuple[str, str]]] = None,
                 automatic: Optional[str] = None, automatic_image: Optional[str] = None,
                 beside: Optional[Dict[str, Tuple[str, str]]] = None, notes: Optional[List[str]] = None) -> None:
        self.analyse = analyse  # reads and analyses a Dockerfile (cached by the caller)
        self.explicit: List[Tuple[str, str]] = [] if explicit is None else explicit  # (REF, Dockerfile path)
        self.automatic = automatic  # the one Dockerfile for automatic pairing
        self.automatic_image = automatic_image  # the one application image it pairs with
        self.beside: Dict[str, Tuple[str, str]] = {} if beside is None else beside  # manifest -> (Dockerfile, image) in its folder
        self.notes: List[str] = [] if notes is None else notes
        self.unpaired: Set[str] = set()  # images of application containers/services judged without a Dockerfile
        self.ambiguity: Optional[str] = None  # why automatic pairing gave up, for the unpaired note

        # Folders files may be read from (the linted paths' common folder, each configuration's
        # folder); empty: anywhere. A compose `build` that points elsewhere is not read, so an
        # untrusted change cannot make initify print a file from outside the project.
        self.roots: List[str] = []

    def unpaired_note(self) -> Optional[str]:
        """One note for the whole run naming every image judged on its manifest alone."""
        from initify.image import facts as image_facts

        # An image read for real (local storage, a registry), or one the knowledge table says
        # what it runs, was judged with what it sets: only the others are blind.
        seen = image_facts.current().seen

        def known(image: str) -> bool:
            info = seen.get(image.strip())
            if info is None:
                return False
            real = info.origin in (image_facts.LOCAL, image_facts.REGISTRY)
            return real or any(info.get(name) is not None for name in ("entrypoint", "cmd", "stopsignal"))

        images = sorted(image for image in self.unpaired if not known(image))
        if not images:
            return None
        why = f" ({self.ambiguity})" if self.ambiguity else ""
        return (f"{len(images)} image(s) judged without a Dockerfile (what the image sets is unknown): "
                f"{', '.join(images)}{why}; pair with --image REF=path/to/Dockerfile or `images` in the configuration")

    def allowed(self, path: str) -> bool:
        from initify.discover import inside

        return not self.roots or any(inside(path, root) for root in self.roots)

    def _load(self, path: str, build: Optional[Build] = None) -> Optional[Paired]:
        facts = self.analyse(path, build)
        for note in facts.notes if facts is not None else []:
            if note not in self.notes:
                self.notes.append(note)
        return Paired(path, facts) if facts is not None else None

    def explicit_for(self, image: Optional[str]) -> Optional[Paired]:
        if image is None:
            return None
        for key, path in self.explicit:
            if ref_matches(key, image):
                return self._load(path)
        return None

    def for_container(self, image: Optional[str], application: bool, manifest_path: Optional[str] = None) -> Optional[Paired]:
        found = self.explicit_for(image)
        if found is not None:
            return found
        if application and self.automatic is not None and image == self.automatic_image:
            return self._load(self.automatic)
        beside = self.beside.get(os.path.abspath(manifest_path)) if manifest_path else None
        if application and beside is not None and image == beside[1]:
            return self._load(beside[0])
        if application:
            self.unpaired.add(image or "<no image>")
        return None

    def for_service(self, compose_path: str, service: "ComposeService") -> Optional[Paired]:
        found = self.explicit_for(service.image)
        context = service.build_context
        if found is None and context is None:
            self.unpaired.add(service.image or f"<service {service.name} without image>")
        if found is not None or context is None:
            return found
        if "://" in context or context.startswith("git@"):
            return None  # a remote build context: nothing to read
        folder = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(compose_path)), context))
        path = os.path.normpath(os.path.join(folder, service.dockerfile or "Dockerfile"))
        if not self.allowed(folder) or not self.allowed(path):
            note = f"{compose_path}: service {service.name} builds from outside the project; not read, the service is not paired"
            if note not in self.notes:
                self.notes.append(note)
            return None
        if not os.path.isfile(path):
            self.notes.append(f"{compose_path}: no Dockerfile at {os.path.relpath(path)}, the service is not paired")
            return None
        build = Build(folder, service.build_target, tuple(sorted(service.build_args.items())))
        found = self._load(path, build)
        if found is None and service.build_target is not None:
            raise InputError(compose_path, f"service {service.name}: no build stage named {service.build_target!r} in {path}", service.line_of("build"))
        return found


def explicit_images(cli: Dict[str, str], configured: List[Tuple[str, Dict[str, str]]]) -> List[Tuple[str, str]]:
    """(REF, absolute Dockerfile path): command line first, then each config (root, images)."""
    pairs: List[Tuple[str, str]] = []
    for ref, path in cli.items():
        pairs.append((ref, _existing(os.path.abspath(path), "--image " + ref)))
    from initify.discover import inside

    for root, images in configured:
        for ref, path in images.items():
            if ref not in cli:
                full = os.path.normpath(os.path.join(root, path))
                if not inside(full, root):
                    raise InputError(full, f"images.{ref}: outside the configuration's folder {root}; not read")
                pairs.append((ref, _existing(full, f"images.{ref}")))
    return pairs


def _existing(path: str, what: str) -> str:
    if not os.path.isfile(path):
        raise InputError(path, f"no such Dockerfile (from {what})")
    return path


def _project_root(manifest_paths: List[str]) -> str:
    """Where `initify lint` with no path would look: the current folder, unless a manifest lies
    outside it (then the manifests' common folder)."""
    cwd = os.getcwd()
    folders = [os.path.dirname(os.path.abspath(path)) for path in manifest_paths]
    if all(folder == cwd or folder.startswith(cwd.rstrip(os.sep) + os.sep) for folder in folders):
        return cwd
    return os.path.commonpath(folders)


def dockerfiles_on_disk(folder: str, recursive: bool) -> List[str]:
    """The Dockerfiles `initify lint` would find in `folder` (and below it when `recursive`)."""
    from initify import discover

    if not os.path.isdir(folder):
        return []
    if recursive:
        return list(discover.discover([folder], [discover.DOCKERFILE]))
    # As discovery does: regular files only, no symlink out of the folder (nothing read outside it).
    return sorted(os.path.join(folder, entry.name) for entry in os.scandir(folder)
                  if discover.wanted_dockerfile(entry.name) and discover.is_regular(entry.path) and discover.inside(entry.path, folder))


def automatic(dockerfiles: List[str], manifest_images: Dict[str, List[Optional[str]]], pairing: Pairing,
              disk: Callable[[str, bool], List[str]] = dockerfiles_on_disk,
              disk_manifests: Callable[[str], Dict[str, List[Optional[str]]]] = lambda root: {}) -> None:
    """Set up automatic pairing (one Dockerfile for all, else by folder), or add one ambiguity note.

    `manifest_images` maps each Kubernetes manifest to the images of its application containers;
    `dockerfiles` are the linted ones, `disk` lists the others (see the module docstring).
    """
    manifest_images = {path: images for path, images in manifest_images.items() if images}
    if pairing.explicit or not manifest_images:
        return
    every = sorted({image or "<no image>" for images in manifest_images.values() for image in images})
    candidates = dockerfiles
    if not dockerfiles:  # as linting the whole project would decide: its Dockerfiles and manifests
        root = _project_root(list(manifest_images))
        candidates = disk(root, True)
        if len(candidates) == 1:
            project = {**disk_manifests(root), **manifest_images}
            every = sorted({image or "<no image>" for images in project.values() if images for image in images})
    if len(candidates) == 1 and len(every) == 1 and every[0] != "<no image>":
        pairing.automatic, pairing.automatic_image = candidates[0], every[0]
        return
    unpaired = []
    for path, images in sorted(manifest_images.items()):
        folder = os.path.dirname(os.path.abspath(path))
        beside = [d for d in dockerfiles if os.path.dirname(os.path.abspath(d)) == folder] or disk(folder, False)
        distinct = set(images)
        if len(beside) == 1 and len(distinct) == 1 and images[0] is not None:
            pairing.beside[os.path.abspath(path)] = (beside[0], images[0])
        else:
            unpaired.append(path)
    if unpaired and candidates:
        pairing.ambiguity = (
            f"pairing is ambiguous for {len(unpaired)} manifest(s): {len(candidates)} Dockerfile(s), "
            f"{len(every)} application image(s), first {unpaired[0]}"
        )

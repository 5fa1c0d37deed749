"""What a compose service runs as PID 1 and how it is stopped: the subject of the IN3xx rules.

Compose follows `docker run`: `entrypoint` replaces the image ENTRYPOINT and clears its CMD;
`command` replaces CMD only; `init: true` puts docker-init (tini) in front as PID 1. A string
`command`/`entrypoint` is split into words (no shell runs it), so only an explicit `sh -c` is a
shell wrapper. Without a paired Dockerfile the service is judged from its `image:` as manifest
containers are (initify.image.facts: the real image, else the knowledge table): its ENTRYPOINT,
CMD and STOPSIGNAL, which shell /bin/sh is, what /sbin/init is. Where the image's ENTRYPOINT is
not known, a `command` is taken as what PID 1 runs (no ENTRYPOINT, or one that execs "$@"), and
a service with neither `command` nor `entrypoint` has an unknown PID 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from initify.dockerfile import facts as facts_module
from initify.knowledge import signals
from initify.dockerfile.facts import ImageFacts, Step
from initify.kubernetes.pods import image_argv_with_args, is_multi_service, is_systemd, made_by_override, systemd_assumed
from initify.record import Record

if TYPE_CHECKING:  # only for annotations (see pods.py)
    from initify.compose.files import ComposeFile, ComposeService

DEFAULT_STOP_GRACE_SECONDS = 10.0
DOCKER_INIT = ["docker-init", "--"]


class ServiceFacts(Record):
    __slots__ = ("compose", "service", "image", "dockerfile", "argv", "source", "pid1_known", "chain", "image_chain",
                 "image_info")

    def __init__(self, compose: ComposeFile, service: ComposeService, image: Optional[ImageFacts],
                 dockerfile: Optional[str], argv: Optional[List[str]] = None, source: str = "unknown",
                 pid1_known: bool = False, chain: Optional[List[Step]] = None,
                 image_chain: Optional[List[Step]] = None) -> None:
        self.compose = compose
        self.service = service
        self.image = image
        self.dockerfile = dockerfile
        self.argv: List[str] = [] if argv is None else argv
        self.source = source  # "entrypoint" | "command" | "image" | "unknown"
        self.pid1_known = pid1_known  # False: nothing says what PID 1 is (unpaired image, no override)
        self.chain: List[Step] = [] if chain is None else chain
        self.image_chain: List[Step] = [] if image_chain is None else image_chain
        # initify.image.facts.ImageInfo of `image:` when no Dockerfile of the run builds it
        self.image_info: object = None

    @property
    def path(self) -> str:
        return self.compose.path

    @property
    def image_reference(self) -> str:
        """The image the service runs: the paired Dockerfile's base, else `image:` ('' when neither)."""
        if self.image is not None:
            return self.image.base_image
        return self.service.image or ""

    @property
    def image_stop_signal(self) -> Optional[str]:
        """The STOPSIGNAL of the image (None: it sets none, or that is not known; see image_stop_signal_known)."""
        if self.image is not None:
            return self.image.stopsignal.name if self.image.stopsignal is not None else None
        fact = self.image_info.get("stopsignal") if self.image_info is not None else None  # type: ignore[attr-defined]
        return signals.normalise(str(fact.value)) if fact is not None and fact.value else None

    @property
    def image_stop_signal_known(self) -> bool:
        return self.image is not None or (self.image_info is not None and self.image_info.known("stopsignal"))  # type: ignore[attr-defined]

    @property
    def pid1(self) -> Optional[Step]:
        return facts_module.pid1_of(self.chain) if self.pid1_known else None

    @property
    def systemd(self) -> bool:
        """systemd runs as PID 1, or right behind `init: true` (where it refuses to start)."""
        return any(is_systemd(step) for step in self.chain) if self.pid1_known else False

    @property
    def systemd_step(self) -> Optional[Step]:
        """The systemd step of the chain (PID 1, or right behind `init: true`), None without one."""
        return next((step for step in self.chain if is_systemd(step)), None) if self.pid1_known else None

    @property
    def systemd_assumed(self) -> bool:
        """systemd is `/sbin/init` of an image whose init is not known (see pods.systemd_assumed)."""
        return systemd_assumed(self.systemd_step)

    @property
    def multi_service(self) -> bool:
        return any(is_multi_service(step) for step in self.chain) if self.pid1_known else False

    @property
    def grace_seconds(self) -> float:
        grace = self.service.stop_grace_period
        return DEFAULT_STOP_GRACE_SECONDS if grace is None else grace

    @property
    def manifest_line(self) -> int:
        """Line of the key that decided argv: `entrypoint`, else `command`, else the service."""
        return self.service.line_of(self.source) if self.source in ("entrypoint", "command") else self.service.line

    def manifest_made(self, step: Step) -> bool:
        return made_by_override(step, self.source, "entrypoint", "command", self.image_chain)


def service_facts(compose: ComposeFile, service: ComposeService, image: Optional[ImageFacts], dockerfile: Optional[str]) -> ServiceFacts:
    subject = ServiceFacts(compose, service, image, dockerfile)
    info = None
    if image is None and service.image and "$" not in service.image:
        from initify.image import facts as image_facts

        info = subject.image_info = image_facts.resolve(service.image)
    configured: Optional[List[str]] = None  # ENTRYPOINT + CMD from the unpaired image's config
    if info is not None and info.config_known:
        configured = list(info.value("entrypoint")) + list(info.value("cmd"))  # type: ignore[call-overload]
        subject.image_chain = facts_module.build_chain(None, configured, None, True, image=info) if configured else []
    if image is not None:
        subject.image_chain = image.chain
    if service.entrypoint is not None:
        subject.argv, subject.source = service.entrypoint + (service.command or []), "entrypoint"
        subject.pid1_known = True
    elif service.command is not None:
        subject.source = "command"
        if image is not None:
            subject.argv, subject.pid1_known = image_argv_with_args(image, service.command), True
        elif info is not None and info.known("entrypoint"):  # `command` follows the image's ENTRYPOINT
            subject.argv, subject.pid1_known = list(info.value("entrypoint")) + list(service.command), True  # type: ignore[call-overload]
        else:  # the image's ENTRYPOINT is not known: assume none, or one that execs "$@"
            subject.argv, subject.pid1_known = list(service.command), True
    elif image is not None:
        subject.argv, subject.source, subject.pid1_known = list(image.pid1_argv), "image", True
    elif configured:
        subject.argv, subject.source, subject.pid1_known = configured, "image", True
    if subject.argv and service.init and subject.pid1_known:
        subject.argv = DOCKER_INIT + subject.argv
    if subject.argv:
        if subject.source == "image" and not service.init:
            subject.chain = image.chain if image is not None else subject.image_chain
        else:
            subject.chain = facts_module.build_chain(image, subject.argv, None, True, image=info)
    return subject

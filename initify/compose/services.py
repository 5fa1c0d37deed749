"""What a compose service runs as PID 1 and how it is stopped: the subject of the IN3xx rules.

Compose follows `docker run`: `entrypoint` replaces the image ENTRYPOINT and clears its CMD;
`command` replaces CMD only; `init: true` puts docker-init (tini) in front as PID 1. A string
`command`/`entrypoint` is split into words (no shell runs it), so only an explicit `sh -c` is a
shell wrapper. Without a paired Dockerfile, a `command` is taken as what PID 1 runs: the
unknown image is assumed to have no ENTRYPOINT, or one that execs "$@".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from initify.dockerfile import facts as facts_module
from initify.dockerfile.facts import ImageFacts, Step
from initify.kubernetes.pods import image_argv_with_args, is_multi_service, is_systemd, made_by_override
from initify.record import Record

if TYPE_CHECKING:  # only for annotations (see pods.py)
    from initify.compose.files import ComposeFile, ComposeService

DEFAULT_STOP_GRACE_SECONDS = 10.0
DOCKER_INIT = ["docker-init", "--"]


class ServiceFacts(Record):
    __slots__ = ("compose", "service", "image", "dockerfile", "argv", "source", "pid1_known", "chain", "image_chain")

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

    @property
    def path(self) -> str:
        return self.compose.path

    @property
    def pid1(self) -> Optional[Step]:
        return facts_module.pid1_of(self.chain) if self.pid1_known else None

    @property
    def systemd(self) -> bool:
        """systemd runs as PID 1, or right behind `init: true` (where it refuses to start)."""
        return any(is_systemd(step) for step in self.chain) if self.pid1_known else False

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
    if image is not None:
        subject.image_chain = image.chain
    if service.entrypoint is not None:
        subject.argv, subject.source = service.entrypoint + (service.command or []), "entrypoint"
        subject.pid1_known = True
    elif service.command is not None:
        subject.source = "command"
        if image is not None:
            subject.argv, subject.pid1_known = image_argv_with_args(image, service.command), True
        else:  # assume the unknown image has no ENTRYPOINT, or one that execs "$@"
            subject.argv, subject.pid1_known = list(service.command), True
    elif image is not None:
        subject.argv, subject.source, subject.pid1_known = list(image.pid1_argv), "image", True
    if subject.argv and service.init and subject.pid1_known:
        subject.argv = DOCKER_INIT + subject.argv
    if subject.argv:
        if subject.source == "image" and not service.init:
            subject.chain = image.chain if image is not None else []
        else:
            info = None
            if image is None and service.image and "$" not in service.image:
                from initify.image import facts as image_facts

                info = image_facts.resolve(service.image)  # which shell /bin/sh is in the unpaired image
            subject.chain = facts_module.build_chain(image, subject.argv, None, True, image=info)
    return subject

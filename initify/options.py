"""What every command is asked and what it answers: Options (lint), FixOptions (fix), Result.

These types sit below the commands so that the layers they call (pairing, manifest findings)
can take them without importing a command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from initify import engine
from initify.record import Record

if TYPE_CHECKING:
    from initify.config import Config
    from initify.errors import InputError
    from initify.knowledge.loader import Base


class Options(Record):
    """What the command line asks of `initify lint` (and, through FixOptions, of `initify fix`)."""

    __slots__ = ("select", "ignore", "fail_level", "target", "context", "build_args", "images", "k8s_version")

    def __init__(self, select: Optional[List[str]] = None, ignore: Optional[List[str]] = None,
                 fail_level: Optional[str] = None, target: Optional[str] = None, context: Optional[str] = None,
                 build_args: Optional[Dict[str, str]] = None, images: Optional[Dict[str, str]] = None,
                 k8s_version: Optional[str] = None) -> None:
        self.select = select
        self.ignore: List[str] = [] if ignore is None else ignore
        self.fail_level = fail_level
        self.target = target
        self.context = context
        self.build_args: Dict[str, str] = {} if build_args is None else build_args
        self.images: Dict[str, str] = {} if images is None else images  # --image REF=Dockerfile
        self.k8s_version = k8s_version  # "1.33"; None: the newest kubernetes-validate knows


class FixOptions(Options):
    """`initify lint`'s options plus what only `initify fix` takes."""

    __slots__ = ("unsafe_fixes", "init", "base", "stopsignal_field")

    def __init__(self, unsafe_fixes: bool = False, init: str = "auto", base: Optional["Base"] = None,
                 stopsignal_field: bool = False, **lint_options: Any) -> None:
        super().__init__(**lint_options)
        self.unsafe_fixes = unsafe_fixes
        self.init = init  # auto | python | tini | dumb-init | none
        self.base = base  # the real base image's python3/package manager, when probed
        self.stopsignal_field = stopsignal_field  # IN201 fixes with lifecycle.stopSignal (Kubernetes >= 1.33)


class Result(Record):
    """What `initify lint` found: findings, how many files were read, notes, the fail level."""

    __slots__ = ("findings", "files", "notes", "fail_level")

    def __init__(self) -> None:
        self.findings: List[engine.Finding] = []
        self.files = 0
        self.notes: List[str] = []
        self.fail_level = "warning"

    def add_parse_error(self, error: "InputError", count: bool = True) -> None:
        """Report a file that could not be read or parsed as an IN001 finding (once per place),
        so the run goes on with the other files. `count`: the file was not counted yet."""
        finding = engine.parse_error(error)
        if any(f.code == finding.code and f.path == finding.path and f.line == finding.line for f in self.findings):
            return
        self.findings.append(finding)
        if count:
            self.files += 1

    def parse_errors(self) -> List[engine.Finding]:
        return [f for f in self.findings if f.code == engine.PARSE_ERROR]


def selection_for(path: str, options: Options, config: "Config") -> engine.Selection:
    """The rules that apply to `path`: the command line's select/ignore over its configuration's."""
    select = options.select or config.select or ["ALL"]
    ignore = list(config.ignore) + config.ignores_for(path) + list(options.ignore)
    return engine.Selection(select=select, ignore=ignore, severity=config.severity)

"""`initify lint`: discover files, parse them, derive facts, run rules, filter findings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from initify import config as config_module
from initify import discover, engine
from initify.errors import InputError
from initify.record import Record

if TYPE_CHECKING:
    from initify.facts import ImageFacts
    from initify.knowledge import Base
    from initify.model import Dockerfile

TEMPLATE_SUFFIXES = (".tmpl", ".tpl", ".j2", ".jinja", ".jinja2", ".template", ".gotmpl")


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


class Result(Record):
    __slots__ = ("findings", "files", "notes", "fail_level")

    def __init__(self) -> None:
        self.findings: List[engine.Finding] = []
        self.files = 0
        self.notes: List[str] = []
        self.fail_level = "warning"


def selection_for(path: str, options: Options, config: config_module.Config) -> engine.Selection:
    select = options.select or config.select or ["ALL"]
    ignore = list(config.ignore) + config.ignores_for(path) + list(options.ignore)
    return engine.Selection(select=select, ignore=ignore, severity=config.severity)


def _template_text(path: str) -> bool:
    """Whether a file holds Go/Jinja template markup (`{{ ... }}`) rather than plain Dockerfile."""
    try:
        with open(path, "rb") as handle:
            return b"{{" in handle.read()
    except OSError:
        return False


def lint_dockerfile(path: str, options: Options, selection: engine.Selection, result: Result) -> Optional["ImageFacts"]:
    """Lint one Dockerfile; return its facts (for pairing with manifests) or None."""
    from initify import dockerfile as dockerfile_module

    template_note = f"{path}: skipped, a template rather than a Dockerfile"
    if path.endswith(TEMPLATE_SUFFIXES) and _template_text(path):
        result.notes.append(template_note)
        return None
    try:
        parsed = dockerfile_module.read(path)
    except InputError:
        if _template_text(path):
            result.notes.append(template_note)
            return None
        raise
    result.files += 1
    facts, found = image_findings(parsed, options, selection, options.context)
    result.findings.extend(found)
    return facts


def image_findings(
    parsed: "Dockerfile",
    options: Options,
    selection: engine.Selection,
    context_dir: Optional[str],
    fix_init: str = "auto",
    fix_base: Optional["Base"] = None,
    planned_files: Optional[Dict[str, str]] = None,
) -> Tuple[Optional["ImageFacts"], List[engine.Finding]]:
    """Facts of a parsed Dockerfile and its findings, suppressions applied (for lint and fix).

    `fix_init`/`fix_base` tell the IN106 fix which init to inject (`initify fix --init`, and what
    `initify build` found in the real base image); `planned_files` are the files as `initify fix`
    plans them so far."""
    from initify import facts as facts_module

    facts = facts_module.analyse_image(parsed, target=options.target, context_dir=context_dir,
                                       build_args=options.build_args, planned_files=planned_files)
    if facts is None:
        if options.target is not None and any(i.keyword == "FROM" for i in parsed.instructions):
            raise InputError(parsed.path, f"no build stage named {options.target!r}")
        return None, []
    facts.fix_init = fix_init
    facts.fix_base = fix_base
    found = engine.run_rules("dockerfile", facts, parsed.path, selection)
    suppressions = engine.read_suppressions(parsed.text, [i.start_line for i in parsed.instructions])
    return facts, [f for f in found if not suppressions.suppressed(f)]


def run(paths: Sequence[str], options: Options) -> Result:
    """Lint every file under `paths`. Raises InputError on unreadable or unparsable input."""
    result = Result()
    files = list(discover.discover(list(paths) or ["."], [discover.DOCKERFILE, discover.MANIFEST, discover.COMPOSE]))
    levels = []
    images: Dict[str, Optional["ImageFacts"]] = {}  # absolute Dockerfile path -> facts
    yaml_files: List[Tuple[str, str, engine.Selection]] = []
    for path in files:
        config = config_module.find_config(path)
        if config.fail_level:
            levels.append(config.fail_level)
        selection = selection_for(path, options, config)
        kind = discover.kind_of(path)
        if kind == discover.DOCKERFILE:
            images[os.path.abspath(path)] = lint_dockerfile(path, options, selection, result)
        else:
            yaml_files.append((path, kind, selection))
    if yaml_files:
        from initify import manifest_lint

        manifest_lint.lint_yaml_files(yaml_files, images, options, result)
    if options.fail_level:
        result.fail_level = options.fail_level
    elif levels:
        result.fail_level = levels[0]
    else:
        cwd_config = config_module.find_config(os.getcwd())
        result.fail_level = cwd_config.fail_level or "warning"
    result.findings = engine.sort_findings(result.findings)
    return result

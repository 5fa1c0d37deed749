"""`initify lint`: discover files, parse them, derive facts, run rules, filter findings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from initify import config as config_module
from initify import discover, engine
from initify.errors import InputError
from initify.options import Options, Result, selection_for

if TYPE_CHECKING:
    from initify.dockerfile.facts import ImageFacts


def lint_dockerfile(path: str, options: Options, selection: engine.Selection, result: Result) -> Optional["ImageFacts"]:
    """Lint one Dockerfile; return its facts (for pairing with manifests) or None."""
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile.findings import image_findings

    template_note = f"{path}: skipped, a template rather than a Dockerfile"
    if path.endswith(dockerfile_module.TEMPLATE_SUFFIXES) and dockerfile_module.template_text(path):
        result.notes.append(template_note)
        return None
    try:
        parsed = dockerfile_module.read(path)
        facts, found = image_findings(parsed, options, selection, options.context)
    except InputError as error:
        if dockerfile_module.template_text(path):
            result.notes.append(template_note)
            return None
        result.add_parse_error(error)
        return None
    except RecursionError:
        result.add_parse_error(InputError(path, "nested too deeply to read"))
        return None
    result.files += 1
    result.findings.extend(found)
    return facts



def run(paths: Sequence[str], options: Options) -> Result:
    """Lint every file under `paths`. A file that cannot be read or parsed is an IN001 finding
    and the others are still linted; a bad path or configuration raises InputError."""
    with engine.LintOnly():
        return _run(paths, options)


def _run(paths: Sequence[str], options: Options) -> Result:
    result = Result()
    skipped: List[InputError] = []
    files = list(discover.discover(list(paths) or ["."], [discover.DOCKERFILE, discover.MANIFEST, discover.COMPOSE], skipped))
    for error in skipped:
        result.add_parse_error(error)
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
        from initify.kubernetes import findings as yaml_findings

        yaml_findings.lint_yaml_files(yaml_files, images, options, result, discover.project_root(list(paths) or ["."]))
    if options.fail_level:
        result.fail_level = options.fail_level
    elif levels:
        result.fail_level = levels[0]
    else:
        cwd_config = config_module.find_config(os.getcwd())
        result.fail_level = cwd_config.fail_level or "warning"
    result.findings = engine.sort_findings(result.findings)
    return result

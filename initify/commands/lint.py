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


def lint_dockerfile(path: str, options: Options, selection: engine.Selection, result: Result,
                    text: Optional[str] = None) -> Optional["ImageFacts"]:
    """Lint one Dockerfile (read from `path`, or `text` read from standard input and named
    `path`); return its facts (for pairing with manifests) or None."""
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile.findings import image_findings

    template_note = f"{path}: skipped, a template rather than a Dockerfile"
    from_disk = text is None
    if from_disk and path.endswith(dockerfile_module.TEMPLATE_SUFFIXES) and dockerfile_module.template_text(path):
        result.notes.append(template_note)
        return None
    try:
        if text is None:
            parsed, context = dockerfile_module.read(path), options.context
        else:
            parsed = dockerfile_module.parse(text, path)
            context = options.context or (os.path.dirname(os.path.abspath(path)) if path != discover.STDIN else None)
        facts, found = image_findings(parsed, options, selection, context)
    except InputError as error:
        if from_disk and dockerfile_module.template_text(path):
            result.notes.append(template_note)
            return None
        result.add_parse_error(error)
        return None
    except RecursionError:
        result.add_parse_error(InputError(path, "nested too deeply to read"))
        return None
    result.files += 1
    result.findings.extend(found)
    add_notes(result.notes, facts)
    return facts


def add_notes(notes: List[str], facts: Optional["ImageFacts"]) -> None:
    """The notes of a Dockerfile's facts (a context script too large to read), each once."""
    for note in facts.notes if facts is not None else []:
        if note not in notes:
            notes.append(note)


def beside_named_dockerfiles(paths: Sequence[str], linted: Sequence[str]) -> List[str]:
    """YAML files under the folder of each Dockerfile named on the command line that this run
    does not lint already: a changed Dockerfile changes what its manifests do, so pre-commit's
    `--files Dockerfile` must judge them too (the caller keeps only those paired with it)."""
    seen = {os.path.abspath(path) for path in linted}
    found: List[str] = []
    for path in paths:
        if not os.path.isfile(path) or discover.kind_of(path) != discover.DOCKERFILE:
            continue
        folder = os.path.dirname(path) or "."
        for candidate in discover.discover([folder], [discover.MANIFEST, discover.COMPOSE]):
            candidate = os.path.normpath(candidate)
            if os.path.abspath(candidate) not in seen:
                seen.add(os.path.abspath(candidate))
                found.append(candidate)
    return found


def _read_stream(path: str) -> str:
    """A named pipe (`/dev/stdin`, `<(...)`), read once and within the size cap: it cannot be
    sniffed, then read again. Text that is not UTF-8 is an IN001 finding, as for a file."""
    data = discover.read_stream(path)
    from initify.dockerfile.parser import _decode

    return _decode(data, path)


def run(paths: Sequence[str], options: Options, stdin_text: Optional[str] = None,
        stdin_filename: Optional[str] = None, show_fixes: bool = False) -> Result:
    """Lint every file under `paths` (`-`: `stdin_text`, read as `stdin_filename` says or as its
    content looks). A file or input that cannot be read or parsed is an IN001 finding and the
    others are still linted; a bad path or configuration raises InputError. A YAML fix is
    checked (its document parsed again, as `fix` does) only for `show_fixes`, which prints it."""
    if show_fixes:
        return _run(paths, options, stdin_text, stdin_filename)
    with engine.LintOnly():
        return _run(paths, options, stdin_text, stdin_filename)


def _run(paths: Sequence[str], options: Options, stdin_text: Optional[str], stdin_filename: Optional[str]) -> Result:
    result = Result()
    skipped: List[InputError] = []
    charts: List[str] = []
    streams = [(stdin_filename or discover.STDIN, stdin_text or "", stdin_filename)] if discover.STDIN in paths else []
    for path in paths:
        if discover.is_stream(path):
            try:
                streams.append((path, _read_stream(path), None))
            except InputError as error:
                result.add_parse_error(error)
    on_disk = [path for path in paths if path != discover.STDIN and not discover.is_stream(path)]
    files = list(discover.discover(on_disk or ([] if paths else ["."]), [discover.DOCKERFILE, discover.MANIFEST, discover.COMPOSE], charts, skipped))
    result.notes.extend(discover.chart_note(chart) for chart in charts)
    for error in skipped:
        result.add_parse_error(error)
    levels = []
    images: Dict[str, Optional["ImageFacts"]] = {}  # absolute Dockerfile path -> facts
    yaml_files: List[Tuple[str, str, engine.Selection]] = []
    texts: Dict[str, str] = {}
    for name, text, given_name in streams:  # standard input, /dev/stdin, a pipe: read once
        selection = selection_for(name, options, config_module.find_config(name if given_name or name != discover.STDIN else os.getcwd()))
        kind = discover.stdin_kind(text, given_name or (name if name != discover.STDIN else None))
        if kind == discover.DOCKERFILE:
            images[os.path.abspath(name)] = lint_dockerfile(name, options, selection, result, text)
        else:
            texts[name] = text
            yaml_files.append((name, kind, selection))
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
    beside = [(path, discover.kind_of(path), selection_for(path, options, config_module.find_config(path)))
              for path in beside_named_dockerfiles(paths, files)]
    if yaml_files or beside:
        from initify.kubernetes import findings as yaml_findings

        changed = {os.path.abspath(path) for path in paths if os.path.abspath(path) in images}
        yaml_findings.lint_yaml_files(yaml_files, images, options, result, beside, changed, texts,
                                      discover.project_root(list(paths) or ["."]))
    if options.fail_level:
        result.fail_level = options.fail_level
    elif levels:
        result.fail_level = levels[0]
    else:
        cwd_config = config_module.find_config(os.getcwd())
        result.fail_level = cwd_config.fail_level or "warning"
    result.findings = engine.sort_findings(result.findings)
    return result

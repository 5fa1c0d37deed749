"""Output formats for findings: text, json, sarif (GitHub code scanning) and github (workflow commands)."""

from __future__ import annotations

import json
import os
from typing import Callable, Dict, List

from initify import __version__
from initify.engine import Finding, all_rules

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


SAFE_MARK = "[*]"  # `initify fix` repairs it
UNSAFE_MARK = "[~]"  # only `initify fix --unsafe-fixes` does (the fix changes behaviour; see the rule doc)


def fix_mark(finding: Finding) -> str:
    """The marker of a fixable finding: safe and unsafe fixes look different."""
    if not finding.fixable:
        return ""
    return UNSAFE_MARK if finding.fix is not None and not finding.fix.safe else SAFE_MARK


def text(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    lines = []
    for finding in findings:
        location = f"{finding.path}:{finding.line}:{finding.column}:"
        code = finding.code
        if colour:
            location = f"{_BOLD}{location}{_RESET}"
            code = f"{_COLOURS[finding.severity]}{code}{_RESET}"
        mark = fix_mark(finding)
        fix = f" {mark}" if mark else ""
        lines.append(f"{location} {code}{fix} {finding.message}")
    counts = {level: sum(1 for f in findings if f.severity == level) for level in ("error", "warning", "info")}
    if findings:
        safe = sum(1 for f in findings if fix_mark(f) == SAFE_MARK)
        unsafe = sum(1 for f in findings if fix_mark(f) == UNSAFE_MARK)
        summary = (
            f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''} "
            f"({counts['error']} error, {counts['warning']} warning, {counts['info']} info)"
        )
        if safe:
            summary += f"; {safe} marked {SAFE_MARK} can be fixed with `initify fix`"
        if unsafe:
            summary += f"; {unsafe} marked {UNSAFE_MARK} only with `initify fix --unsafe-fixes`"
    else:
        summary = f"All checks passed ({files} file{'s' if files != 1 else ''})."
    lines.append(summary)
    return "\n".join(lines) + "\n"


def as_json(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    return json.dumps([finding.as_dict() for finding in findings], indent=2) + "\n"


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule_doc(code: str) -> str:
    from initify.resources import data_dir

    try:
        with open(os.path.join(data_dir("rules"), f"{code}.md"), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def sarif(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    rules = list(all_rules().values())
    index = {rule.code: position for position, rule in enumerate(rules)}
    descriptors = []
    for rule in rules:
        doc = _rule_doc(rule.code)
        descriptors.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": doc or rule.summary, "markdown": doc or rule.summary},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                "properties": {"tags": ["containers", "signals"]},
            }
        )
    results = []
    for finding in findings:
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(finding.path)},
                            "region": {
                                "startLine": finding.line,
                                "startColumn": finding.column,
                                "endLine": finding.end_line,
                                "endColumn": finding.end_column,
                            },
                        }
                    }
                ],
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "initify",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/initify/",
                        "rules": descriptors,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative to the working folder where possible, forward slashes."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    relative = relative.replace(os.sep, "/")
    return relative[2:] if relative.startswith("./") else relative


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    command = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for finding in findings:
        properties = ",".join(
            [
                f"file={_escape_property(finding.path)}",
                f"line={finding.line}",
                f"col={finding.column}",
                f"endLine={finding.end_line}",
                f"title={_escape_property(finding.code + ' ' + finding.name)}",
            ]
        )
        lines.append(f"::{command[finding.severity]} {properties}::{_escape_data(finding.code + ' ' + finding.message)}")
    return "".join(line + "\n" for line in lines)


FORMATS: Dict[str, Callable[..., str]] = {"text": text, "json": as_json, "sarif": sarif, "github": github}

"""Output formats for findings: text, json, json-lines, sarif (GitHub code scanning), github
(workflow commands), junit (CI test reports) and gitlab (GitLab Code Quality); plus the
`--statistics` table and the `--show-fixes` lines."""

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


def text(findings: List[Finding], colour: bool = False, files: int = 0, summary_line: bool = True,
         show_fixes: bool = False) -> str:
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
        if show_fixes and finding.fix is not None:
            lines.extend(fix_lines(finding))
    if not summary_line:
        return "".join(line + "\n" for line in lines)
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
                        "informationUri": "https://pypi.org/project/initify-lint/",
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


def _github_path(path: str) -> str:
    """GitHub matches an annotation's file against repository paths: `Dockerfile`, not
    `./Dockerfile` (what `initify lint .` finds), and relative when under the working folder."""
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else relative.replace(os.sep, "/")
    return path[2:] if path.startswith("./") else path


def github(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    command = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for finding in findings:
        properties = ",".join(
            [
                f"file={_escape_property(_github_path(finding.path))}",
                f"line={finding.line}",
                f"col={finding.column}",
                f"endLine={finding.end_line}",
                f"title={_escape_property(finding.code + ' ' + finding.name)}",
            ]
        )
        lines.append(f"::{command[finding.severity]} {properties}::{_escape_data(finding.code + ' ' + finding.message)}")
    return "".join(line + "\n" for line in lines)


def json_lines(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    """One JSON object per line (the fields of `--format json`), for streaming tools."""
    return "".join(json.dumps(finding.as_dict()) + "\n" for finding in findings)


def junit(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    """JUnit XML, which CI systems show as test results: one test suite per file with findings,
    one failing test case per finding; a run without findings is one passing test case."""
    from xml.etree import ElementTree

    root = ElementTree.Element("testsuites", name="initify", tests=str(max(len(findings), 1)), failures=str(len(findings)))
    by_path: Dict[str, List[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, found in by_path.items():
        suite = ElementTree.SubElement(root, "testsuite", name=path, tests=str(len(found)), failures=str(len(found)))
        for finding in found:
            case = ElementTree.SubElement(suite, "testcase", name=f"{finding.code} {finding.name} {path}:{finding.line}:{finding.column}",
                                          classname=f"initify.{finding.code}", file=path, line=str(finding.line))
            failure = ElementTree.SubElement(case, "failure", message=finding.message, type=finding.severity)
            failure.text = f"{path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
    if not findings:
        suite = ElementTree.SubElement(root, "testsuite", name="initify", tests="1", failures="0")
        ElementTree.SubElement(suite, "testcase", name=f"initify lint ({files} file{'s' if files != 1 else ''})", classname="initify")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def gitlab(findings: List[Finding], colour: bool = False, files: int = 0) -> str:
    """GitLab Code Quality (a JSON array of issues). The fingerprint hashes path, code and message
    (plus a counter for repeats), not the line, so an issue keeps its identity when lines move."""
    import hashlib

    issues = []
    seen: Dict[str, int] = {}
    for finding in findings:
        key = f"{_uri(finding.path)}\0{finding.code}\0{finding.message}"
        seen[key] = seen.get(key, 0) + 1
        issues.append({
            "description": f"{finding.code} {finding.message}",
            "check_name": finding.code,
            "fingerprint": hashlib.sha256(f"{key}\0{seen[key]}".encode("utf-8")).hexdigest(),
            "severity": _GITLAB_SEVERITY[finding.severity],
            "location": {"path": _uri(finding.path), "lines": {"begin": finding.line, "end": finding.end_line}},
        })
    return json.dumps(issues, indent=2) + "\n"


def statistics(findings: List[Finding], as_json_output: bool = False) -> str:
    """`--statistics`: how many findings of each code, most frequent first, `[*]` when fixable."""
    counts: Dict[str, List[Finding]] = {}
    for finding in findings:
        counts.setdefault(finding.code, []).append(finding)
    rows = sorted(counts.items(), key=lambda item: (-len(item[1]), item[0]))
    if as_json_output:
        return json.dumps([
            {"code": code, "name": found[0].name, "count": len(found), "fixable": sum(1 for f in found if f.fixable)}
            for code, found in rows
        ], indent=2) + "\n"
    width = max((len(str(len(found))) for _, found in rows), default=1)
    lines = [
        f"{len(found):>{width}}  {code}  {'[*]' if any(f.fixable for f in found) else '   '} {found[0].name}"
        for code, found in rows
    ]
    return "".join(line + "\n" for line in lines)


def fix_lines(finding: Finding) -> List[str]:
    """`--show-fixes`: the fix of a finding, indented under it: its safety, its note and the lines
    it would change (`-` old, `+` new), read from the files as they are now."""
    fix = finding.fix
    if fix is None:
        return []
    safety = "safe" if fix.safe else "unsafe, needs --unsafe-fixes"
    lines = [f"    fix ({safety})" + (f": {fix.note}" if fix.note else "")]
    for edit in fix.edits:
        where = "" if edit.path == finding.path else f" in {edit.path}"
        if edit.whole_file:
            lines.append(f"      creates or replaces {edit.path}")
            continue
        old = _file_lines(edit.path)[edit.start_line - 1:edit.end_line] if edit.end_line >= edit.start_line else []
        lines.append(f"      @ line {edit.start_line}{where}")
        lines.extend(f"      - {line}" for line in old)
        new = edit.text.split("\n")
        if new[-1] == "":
            new.pop()
        lines.extend(f"      + {line.rstrip(chr(13))}" for line in new)
    return lines


def _file_lines(path: str) -> List[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [line.rstrip("\r") for line in handle.read().split("\n")]
    except OSError:
        return []


FORMATS: Dict[str, Callable[..., str]] = {
    "text": text, "json": as_json, "json-lines": json_lines, "sarif": sarif, "github": github,
    "junit": junit, "gitlab": gitlab,
}

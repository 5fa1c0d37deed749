"""The rule engine: load rule modules, run them on facts, filter, suppress and sort findings.

A rule is one module in `initify/checks/` that defines:

    CODE = "IN101"                  # fixed code
    NAME = "shell-form-cmd"         # fixed kebab-case name
    SEVERITY = "error"              # default: "error", "warning" or "info"
    TARGET = "dockerfile"           # what `check` receives: "dockerfile" -> ImageFacts
    SUMMARY = "one line for `initify rules`"
    FIXABLE = False                 # whether `initify fix` can repair it
    def check(facts) -> Iterable[Hit]
    FIXES = True                    # optional: hits carry their own `Fix` (edits), see below
    FIX_SAFETY = "safe"             # optional, for `initify rules`: safe | unsafe | safe/unsafe | none

A rule that can repair what it finds attaches a `Fix` (a list of `Edit`s plus safe/unsafe) to
its Hit; `initify fix` (initify/commands/fix.py) applies them with `apply_line_edits`. Its
documentation is `rules/<CODE>.md`. Adding a rule means adding those two files and a test file;
the engine finds modules by listing the package, so nothing here changes.

Where the engine sits in the pipeline (parse -> facts -> rules -> findings with edits -> report or
apply): the readers and fact builders live in `initify/dockerfile/`, `initify/kubernetes/` and
`initify/compose/`; the rules in `initify/checks/`; the commands that drive the pipeline in
`initify/commands/`; reporting in `initify/reporters.py`.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
from functools import lru_cache
from types import ModuleType
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

from initify.dockerfile.model import Instruction
from initify.errors import InputError
from initify.record import Record

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class Edit(NamedTuple):
    """One change to one file, computed by a rule and applied by `initify fix`.

    Line edits replace physical lines `start_line..end_line` (1-based, inclusive, line endings
    included) with `text`; `end_line = start_line - 1` inserts `text` before `start_line`.
    A whole-file edit (`whole_file=True`) creates or replaces `path` with `text`; `mode` is the
    permission bits for a new file (an existing file keeps its own mode).
    """

    path: str
    start_line: int = 0
    end_line: int = 0
    text: str = ""
    whole_file: bool = False
    mode: Optional[int] = None


class Fix(NamedTuple):
    """Edits that repair one finding. `safe` fixes keep behaviour exactly (see each rule's
    **Fix safety**); unsafe ones are applied only with `--unsafe-fixes`. `note` says what the
    fix did, for the report."""

    edits: Tuple[Edit, ...]
    safe: bool
    note: str = ""
    after_others: bool = False  # apply only once no other fix applies (the others may remove the need)


# Whether fixes are checked as well as found. `initify lint` only shows that a finding can be
# fixed ([*]); checking a YAML fix means parsing its document again, which lint skips (unless
# --show-fixes prints the edits: then they are checked, to show what `initify fix` applies).
_CHECK_FIXES = True


def checking_fixes() -> bool:
    return _CHECK_FIXES


class LintOnly:
    """`with LintOnly():` rules find fixes without checking them (lint never applies them)."""

    def __enter__(self) -> None:
        global _CHECK_FIXES
        self.previous = _CHECK_FIXES
        _CHECK_FIXES = False

    def __exit__(self, *exc: object) -> None:
        global _CHECK_FIXES
        _CHECK_FIXES = self.previous


def _line_offsets(text: str) -> List[int]:
    """offsets[n-1] is where physical line n starts; one extra entry for the end of the text."""
    offsets = [0]
    find = text.find
    position = find("\n")
    while position >= 0:
        offsets.append(position + 1)
        position = find("\n", position + 1)
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets


def apply_line_edits(text: str, edits: Sequence[Edit]) -> Tuple[str, List[Edit]]:
    """Apply line edits that do not overlap; return the new text and the edits left out.

    `text` is without BOM; lines end at "\\n" (so CRLF stays inside the line). Edits are taken
    in the given order; one that overlaps an earlier accepted edit is left for the next pass.
    """
    offsets = _line_offsets(text)
    accepted: List[Tuple[int, int, Edit]] = []
    skipped: List[Edit] = []
    for edit in edits:
        if edit.start_line < 1 or edit.start_line > len(offsets) or edit.end_line > len(offsets) - 1:
            skipped.append(edit)
            continue
        start = offsets[edit.start_line - 1]
        end = offsets[edit.end_line] if edit.end_line >= edit.start_line else start
        clash = any(
            (start < other_end and other_start < end) or (start == end == other_start == other_end)
            for other_start, other_end, _ in accepted
        )
        if clash:
            skipped.append(edit)
            continue
        accepted.append((start, end, edit))
    for start, end, edit in sorted(accepted, key=lambda item: (item[0], item[1]), reverse=True):
        text = text[:start] + edit.text + text[end:]
    return text, skipped


class Hit(Record):
    """What a rule reports: a place and a message. The engine adds code, severity and path."""

    __slots__ = ("line", "column", "end_line", "end_column", "message", "fixable", "severity", "fix")

    def __init__(self, line: int, column: int, end_line: int, end_column: int, message: str,
                 fixable: Optional[bool] = None, severity: Optional[str] = None, fix: Optional[Fix] = None) -> None:
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.message = message
        self.fixable = fixable  # None: the rule's FIXABLE
        self.severity = severity  # None: the rule's SEVERITY (a configured severity still wins)
        self.fix = fix  # how to repair it, when the rule knows


class Finding(Record):
    """A hit of one rule in one file, as reported: the rule's code, name and severity added."""

    __slots__ = ("code", "name", "severity", "path", "line", "column", "end_line", "end_column", "message",
                 "fixable", "fix")

    def __init__(self, code: str, name: str, severity: str, path: str, line: int, column: int, end_line: int,
                 end_column: int, message: str, fixable: bool, fix: Optional[Fix] = None) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.message = message
        self.fixable = fixable
        self.fix = fix

    def as_dict(self) -> Dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fixable": self.fixable,
        }


def hit(instruction: Instruction, message: str, fixable: Optional[bool] = None, fix: Optional[Fix] = None) -> Hit:
    """A hit covering a whole instruction, continuation lines and heredoc bodies included."""
    lines = instruction.raw.rstrip("\r\n").split("\n")
    last = lines[-1].rstrip("\r")
    end_column = len(last) + 1 if len(lines) > 1 else instruction.column + len(last.strip())
    return Hit(instruction.start_line, instruction.column, instruction.end_line, end_column, message, fixable, fix=fix)


class Rule(NamedTuple):
    code: str
    name: str
    severity: str
    target: str
    summary: str
    fixable: bool
    module: ModuleType
    fix_safety: str = "none"  # "safe", "unsafe", "safe/unsafe" (depends on the case, see the doc) or "none"

    def check(self, subject: object) -> Iterable[Hit]:
        return self.module.check(subject)


def _submodules(package: ModuleType) -> List[Tuple[str, bool]]:
    """(name, is a package) for each module in a package's folders, sorted by name: what
    pkgutil.iter_modules finds there, without importing pkgutil (~1.5 ms of a pre-commit run)."""
    suffixes = tuple(importlib.machinery.all_suffixes())
    found: Dict[str, bool] = {}
    for folder in package.__path__:
        for entry in os.scandir(folder):
            name = entry.name
            if entry.is_dir():
                if name.isidentifier() and os.path.exists(os.path.join(entry.path, "__init__.py")):
                    found[name] = True
            elif name.endswith(suffixes):
                module = name.split(".")[0]
                if module.isidentifier() and module != "__init__":
                    found.setdefault(module, False)
    return sorted(found.items())


def _rule_packages() -> List[ModuleType]:
    """The subpackages of initify.checks (importing one is cheap: it only names its TARGETS)."""
    from initify import checks

    return [importlib.import_module(f"initify.checks.{name}") for name, is_package in _submodules(checks) if is_package]


def _load_rules(package: ModuleType) -> List[Rule]:
    rules = []
    for name, _ in _submodules(package):
        module = importlib.import_module(f"{package.__name__}.{name}")
        if not hasattr(module, "CODE"):
            continue
        rules.append(
            Rule(
                code=module.CODE,
                name=module.NAME,
                severity=module.SEVERITY,
                target=module.TARGET,
                summary=module.SUMMARY,
                fixable=bool(getattr(module, "FIXABLE", False)),
                module=module,
                fix_safety=getattr(module, "FIX_SAFETY", "safe" if getattr(module, "FIXABLE", False) else "none"),
            )
        )
    return rules


def _by_code(rules: Iterable[Rule]) -> Dict[str, Rule]:
    found: Dict[str, Rule] = {}
    for rule in rules:
        if rule.code in found:
            raise RuntimeError(f"two rule modules define {rule.code}")
        found[rule.code] = rule
    return dict(sorted(found.items()))


@lru_cache(maxsize=None)
def rules_for(target: str) -> Dict[str, Rule]:
    """The rules that take `target`, importing only the subpackages that declare it."""
    packages = [p for p in _rule_packages() if target in getattr(p, "TARGETS", ())]
    return _by_code(rule for package in packages for rule in _load_rules(package) if rule.target == target)


@lru_cache(maxsize=1)
def all_rules() -> Dict[str, Rule]:
    """Every rule, keyed by code, in code order."""
    return _by_code(rule for package in _rule_packages() for rule in _load_rules(package))


def find_rule(code_or_name: str) -> Optional[Rule]:
    wanted = code_or_name.strip()
    for rule in all_rules().values():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            return rule
    return None


def matches(code: str, selectors: Iterable[str], name: Optional[str] = None) -> bool:
    """`IN1` selects IN101..IN110, `IN106` one rule, `ALL` every rule; names work too.

    Pass the rule's `name` when you have it: looking it up loads every rule module.
    """
    for selector in selectors:
        selector = selector.strip()
        if not selector:
            continue
        if selector.upper() == "ALL" or code.startswith(selector.upper()):
            return True
        if name is None:
            rule = all_rules().get(code)
            name = rule.name if rule is not None else ""
        if selector.lower() == name:
            return True
    return False


# --------------------------------------------------------------------------------------------
# Suppression comments
# --------------------------------------------------------------------------------------------

# Compiled on first use (re caches it): most files hold no suppression comment at all.
_SUPPRESS = r"#\s*initify:\s*(ignore-file|ignore)\b\s*(?:=\s*([\w\-, ]+))?"


class SuppressionComment(Record):
    """One `# initify: ignore=...` or `ignore-file=...` comment, and what it suppressed so far.

    `codes` are the selectors as written (empty: every rule); `target` is the line a line comment
    applies to (None for ignore-file, or when no instruction follows). `used` collects the
    selectors that suppressed a finding ("*" for a comment without codes), so IN002
    (unused-suppression) can report the rest once every rule has run.
    """

    __slots__ = ("line", "column", "end_column", "kind", "codes", "target", "used", "text", "codes_span")

    def __init__(self, line: int, column: int, end_column: int, kind: str, codes: List[str],
                 target: Optional[int], text: Optional[str], codes_span: Tuple[int, int] = (0, 0)) -> None:
        self.line = line
        self.column = column  # 1-based column of the `#`
        self.end_column = end_column
        self.kind = kind  # "ignore" | "ignore-file"
        self.codes = codes
        self.target = target
        self.used: Set[str] = set()
        self.text = text  # the physical line as `apply_line_edits` counts lines ("\r" kept), None if unsure
        self.codes_span = codes_span  # where the codes stand in `text`

    def applies_to(self, line: int) -> bool:
        return self.kind == "ignore-file" or self.target == line

    def suppress(self, finding: "Finding") -> bool:
        """Whether this comment suppresses `finding`; records the selector that did."""
        if not self.applies_to(finding.line):
            return False
        if not self.codes:
            self.used.add("*")
            return True
        hit_any = False
        for code in self.codes:
            if matches(finding.code, [code], finding.name):
                self.used.add(code)
                hit_any = True
        return hit_any


class Suppressions(Record):
    __slots__ = ("comments",)

    def __init__(self, comments: Optional[List[SuppressionComment]] = None) -> None:
        self.comments: List[SuppressionComment] = [] if comments is None else comments

    def suppressed(self, finding: Finding) -> bool:
        # Every comment is asked (no short cut), so each one that applies records its use.
        return any([comment.suppress(finding) for comment in self.comments])


def read_suppressions(text: str, instruction_lines: Optional[Sequence[int]] = None) -> Suppressions:
    """Scan `# initify: ignore=...` (applies to the next instruction) and `ignore-file=...`.

    `instruction_lines` are the start lines of instructions; a comment applies to the first one
    after it. Without them (YAML files) a comment applies to the next line.
    """
    result = Suppressions()
    if "initify" not in text:
        return result
    starts = sorted(instruction_lines) if instruction_lines is not None else None
    physical = text.lstrip("\ufeff").split("\n")
    for number, line in enumerate(text.splitlines(), start=1):
        if "initify" not in line:
            continue
        match = re.search(_SUPPRESS, line, re.IGNORECASE)
        if match is None or not line.lstrip().startswith("#"):
            continue
        kind, codes_text = match.group(1).lower(), match.group(2)
        codes = [code.strip() for code in (codes_text or "").split(",") if code.strip()]
        target: Optional[int] = None
        if kind == "ignore":
            target = number + 1
            if starts is not None:
                following = [start for start in starts if start > number]
                target = following[0] if following else None
        column = len(line) - len(line.lstrip()) + 1
        raw = physical[number - 1] if number <= len(physical) else None
        if raw is not None and raw.rstrip("\r").lstrip("\ufeff") != line.lstrip("\ufeff"):
            raw = None  # line numbers differ (a form feed...): no fix, the report stays right
        span = match.span(2) if codes_text is not None else (match.end(), match.end())
        result.comments.append(SuppressionComment(number, column, len(line.rstrip()) + 1, kind, codes, target, raw, span))
    return result


class SuppressionFacts(Record):
    """What IN002 (unused-suppression) judges: one file's suppression comments after every rule
    ran, and which rules ran on it (a selector of a rule that was not selected may be needed by
    another run, so it is not reported)."""

    __slots__ = ("path", "comments", "ran", "applicable", "all_enabled")

    def __init__(self, path: str, comments: List[SuppressionComment], ran: List["Rule"], applicable: List["Rule"],
                 all_enabled: bool) -> None:
        self.path = path
        self.comments = comments
        self.ran = ran  # enabled rules that judged this file
        self.applicable = applicable  # every rule that can judge this kind of file
        self.all_enabled = all_enabled


def check_suppressions(suppressions: Suppressions, targets: Sequence[str], selection: "Selection",
                       path: str) -> List["Finding"]:
    """Findings of the rules on suppression comments (IN002), run after the file's other rules.

    Costs nothing for a file without suppression comments, the common case."""
    if not suppressions.comments:
        return []
    applicable = [rule for target in targets for rule in rules_for(target).values()]
    ran = [rule for rule in applicable if selection.enabled(rule)]
    subject = SuppressionFacts(path, suppressions.comments, ran, applicable, len(ran) == len(applicable))
    found = run_rules("suppressions", subject, path, selection)
    return [finding for finding in found if not suppressions.suppressed(finding)]


# --------------------------------------------------------------------------------------------
# Running rules
# --------------------------------------------------------------------------------------------


class Selection(Record):
    """Which rules run and at what severity (from config and command line)."""

    __slots__ = ("select", "ignore", "severity")

    def __init__(self, select: Sequence[str] = ("ALL",), ignore: Sequence[str] = (),
                 severity: Optional[Dict[str, str]] = None) -> None:
        self.select = select
        self.ignore = ignore
        self.severity = severity

    def enabled(self, rule: Rule) -> bool:
        return matches(rule.code, self.select, rule.name) and not matches(rule.code, self.ignore, rule.name)

    def severity_of(self, rule: Rule, hit_severity: Optional[str] = None) -> str:
        for key, value in (self.severity or {}).items():
            if matches(rule.code, [key], rule.name):
                return value
        return hit_severity or rule.severity


def run_rules(target: str, subject: object, path: str, selection: Selection) -> List[Finding]:
    findings = []
    for rule in rules_for(target).values():
        if not selection.enabled(rule):
            continue
        for found in rule.check(subject):
            findings.append(
                Finding(
                    code=rule.code,
                    name=rule.name,
                    severity=selection.severity_of(rule, found.severity),
                    path=path,
                    line=found.line,
                    column=found.column,
                    end_line=found.end_line,
                    end_column=found.end_column,
                    message=found.message,
                    fixable=_fixable(rule, found),
                    fix=found.fix,
                )
            )
    return findings


PARSE_ERROR = "IN001"


def parse_error(error: InputError) -> Finding:
    """The IN001 finding for a file that could not be read or parsed. It is reported whatever
    the selection or suppressions say: a file nobody read must not pass."""
    rule = rules_for("file")[PARSE_ERROR]
    found = next(iter(rule.check(error)))
    return Finding(rule.code, rule.name, rule.severity, error.path, found.line, found.column, found.end_line,
                   found.end_column, found.message, False)


def _fixable(rule: Rule, found: Hit) -> bool:
    """True when `initify fix` can repair this finding: the hit says so, or carries a fix.

    A rule that computes fixes (its module defines `FIXES = True`) is fixable exactly when the
    hit has one; an older rule falls back to its FIXABLE flag."""
    if found.fixable is not None:
        return found.fixable
    if getattr(rule.module, "FIXES", False):
        return found.fix is not None
    return rule.fixable


def sort_findings(findings: List[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.code))


def at_or_above(severity: str, level: str) -> bool:
    """Whether a finding of `severity` counts at fail level `level` ("never" never fails)."""
    if level == "never":
        return False
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[level]

"""IN002 unused-suppression: a `# initify: ignore=` comment that suppresses nothing (like ruff's RUF100).

A selector is judged only when initify can know: every rule it names judged this file in this run
(a rule left out by --select/--ignore might fire in another run, so its selector stays silent).
"""

from typing import Iterator, List, Optional

from initify.engine import Edit, Fix, Hit, SuppressionComment, SuppressionFacts, all_rules, matches

CODE = "IN002"
NAME = "unused-suppression"
SEVERITY = "info"
TARGET = "suppressions"
FIXABLE = True
FIXES = True
SUMMARY = "a `# initify: ignore=` comment suppresses nothing (unknown code, rule that cannot fire here, or nothing found)"


def _matching(selector: str, rules: list) -> list:
    return [rule for rule in rules if matches(rule.code, [selector], rule.name)]


def _why(comment: SuppressionComment, selector: str, facts: SuppressionFacts) -> Optional[str]:
    """Why `selector` of `comment` is unused, or None when it is used or initify cannot know."""
    if selector in comment.used or _matching(selector, [r for r in all_rules().values() if r.code == CODE]):
        return None
    if not _matching(selector, list(all_rules().values())):
        return f"{selector} is no rule code, prefix or name"
    applicable = _matching(selector, facts.applicable)
    if not applicable:
        return f"{selector} never applies to this kind of file"
    if any(rule not in facts.ran for rule in applicable):
        return None  # not selected in this run: it may suppress something in another
    if comment.kind == "ignore" and comment.target is None:
        return f"{selector}: no instruction follows the comment"
    return f"{selector} suppresses nothing"


def _fix(comment: SuppressionComment, unused: List[str], path: str) -> Optional[Fix]:
    if comment.text is None:
        return None
    kept = [code for code in comment.codes if code not in unused]
    if not kept:
        return Fix((Edit(path, comment.line, comment.line, ""),), safe=True, note="removed the comment")
    start, end = comment.codes_span
    written = comment.text[start:end]
    trailing = written[len(written.rstrip()):]
    new = comment.text[:start] + ",".join(kept) + trailing + comment.text[end:]
    return Fix((Edit(path, comment.line, comment.line, new + "\n"),), safe=True, note=f"removed {', '.join(unused)}")


def check(facts: SuppressionFacts) -> Iterator[Hit]:
    path = facts.path
    for comment in facts.comments:
        if not comment.codes:
            if "*" in comment.used or not facts.all_enabled:
                continue
            reason = "no instruction follows it" if comment.kind == "ignore" and comment.target is None else "it suppresses nothing"
            text = "ignore-file" if comment.kind == "ignore-file" else "ignore"
            yield Hit(comment.line, comment.column, comment.line, comment.end_column,
                      f"unused suppression `# initify: {text}`: {reason}; remove it", fix=_fix(comment, [], path))
            continue
        reasons = [(code, _why(comment, code, facts)) for code in comment.codes]
        unused = [(code, why) for code, why in reasons if why]
        if not unused:
            continue
        fix = _fix(comment, [code for code, _ in unused], path)
        yield Hit(comment.line, comment.column, comment.line, comment.end_column,
                  "unused suppression: " + "; ".join(why for _, why in unused) + " (remove it from the comment)", fix=fix)

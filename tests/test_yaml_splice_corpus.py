"""YAML fixes are splices: on every manifest and compose file of ../shared/corpus that gets a fix,
the unified diff holds only lines of the keys whose value changed.

The oracle is independent of the fixer: both texts are loaded (ruamel.yaml, round-trip, for line
numbers), the two trees are compared, and every key whose value differs (or that exists on one
side only) gives the span of lines it owns - from its own line to the line before its next
sibling. Every removed line must lie in such a span of the old text, every added line in one of
the new text: a fix that re-indents an unrelated block, folds a quoted command or re-renders a
flow sequence elsewhere fails here.
"""

from __future__ import annotations

import difflib
import io
import shutil
from pathlib import Path
from typing import Any, List, Optional, Set, Tuple

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from initify import discover
from initify.commands import fix

ROOT = Path(__file__).resolve().parent.parent
# ../shared/corpus from the main checkout; from a worktree in /work/wt/NAME, two levels up.
from tests.corpus import CORPUS
FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")
    and discover.kind_of(str(p)) in (discover.MANIFEST, discover.COMPOSE)
) if CORPUS.is_dir() else []

needs_corpus = pytest.mark.skipif(not FILES, reason="shared corpus not present")

Span = Tuple[int, int]  # 0-based first and last line, inclusive


def _plain(node: Any) -> Any:
    """The data of a node, without comments, style or positions."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _child_spans(node: Any, end: int) -> List[Tuple[Any, Span]]:
    """(key or index, span) of each child of a mapping or sequence whose lines end at `end`."""
    if isinstance(node, CommentedMap):
        starts = [(key, node.lc.key(key)[0]) for key in node]
    elif isinstance(node, CommentedSeq):
        starts = [(index, node.lc.item(index)[0]) for index in range(len(node))]
    else:
        return []
    spans = []
    for position, (key, line) in enumerate(starts):
        following = [other for _, other in starts[position + 1:] if other > line]
        spans.append((key, (line, (following[0] - 1) if following else end)))
    return spans


def _changed_spans(old: Any, new: Any, old_end: int, new_end: int,
                   old_out: List[Span], new_out: List[Span], old_span: Span, new_span: Span) -> None:
    """Collect the spans of the smallest nodes whose data differ between `old` and `new`."""
    if _plain(old) == _plain(new):
        return
    same_shape = (isinstance(old, CommentedMap) and isinstance(new, CommentedMap)) or (
        isinstance(old, CommentedSeq) and isinstance(new, CommentedSeq) and len(old) == len(new))
    if not same_shape:
        old_out.append(old_span)
        new_out.append(new_span)
        return
    old_children = dict(_child_spans(old, old_end))
    new_children = dict(_child_spans(new, new_end))
    for key in set(old_children) | set(new_children):
        if key not in new_children:
            old_out.append(old_children[key])
        elif key not in old_children:
            new_out.append(new_children[key])
        else:
            _changed_spans(old[key], new[key], old_children[key][1], new_children[key][1],
                           old_out, new_out, old_children[key], new_children[key])


def _documents(text: str) -> List[Any]:
    return list(YAML().load_all(io.StringIO(text)))


def _document_ends(documents: List[Any], text: str) -> List[int]:
    """The last line of each document: the line before the next document's first node."""
    last = len(text.splitlines()) - 1
    starts = [getattr(doc, "lc", None).line if getattr(doc, "lc", None) is not None else 0 for doc in documents]
    return [(starts[i + 1] - 1 if i + 1 < len(starts) else last) for i in range(len(documents))]


def changed_key_lines(old_text: str, new_text: str) -> Tuple[Set[int], Set[int]]:
    """Lines (0-based) owned by changed keys, in the old and in the new text."""
    old_docs, new_docs = _documents(old_text), _documents(new_text)
    assert len(old_docs) == len(new_docs), "a fix never adds or removes a document"
    old_ends, new_ends = _document_ends(old_docs, old_text), _document_ends(new_docs, new_text)
    old_spans: List[Span] = []
    new_spans: List[Span] = []
    for old, new, old_end, new_end in zip(old_docs, new_docs, old_ends, new_ends):
        _changed_spans(old, new, old_end, new_end, old_spans, new_spans, (0, old_end), (0, new_end))

    def lines(spans: List[Span]) -> Set[int]:
        return {line for first, last in spans for line in range(first, last + 1)}

    return lines(old_spans), lines(new_spans)


def diff_outside_changed_keys(old_text: str, new_text: str) -> List[str]:
    """Diff lines that no changed key owns (empty when the fix is a clean splice)."""
    old_owned, new_owned = changed_key_lines(old_text, new_text)
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    stray: List[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        stray += [f"-{old_lines[i]}" for i in range(a1, a2) if i not in old_owned]
        stray += [f"+{new_lines[i]}" for i in range(b1, b2) if i not in new_owned]
    return stray


def _fixed_text(source: Path, tmp_path: Path) -> Optional[Tuple[str, str]]:
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    original = path.read_bytes().decode("utf-8")
    try:
        plan = fix.plan([str(path)], fix.FixOptions(unsafe_fixes=True, k8s_version="1.33"))
    except Exception:  # noqa: BLE001 - unparsable input: test_manifest_fix_corpus checks the error
        return None
    state = plan.files.get(str(path.resolve())) or plan.files.get(str(path))
    if state is None or state.text == original:
        return None
    return original, state.text


@needs_corpus
@pytest.mark.parametrize("source", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_yaml_fix_diff_holds_only_changed_keys(source, tmp_path):
    texts = _fixed_text(source, tmp_path)
    if texts is None:
        pytest.skip("no fix for this file")
    old, new = texts
    stray = diff_outside_changed_keys(old.lstrip("\ufeff"), new.lstrip("\ufeff"))
    assert stray == [], "the fix touched lines outside the keys it changed:\n" + "\n".join(stray)


def test_the_oracle_catches_a_re_rendered_neighbour():
    """The check itself: re-indenting an unrelated block or folding a quoted command fails it."""
    old = ('kind: Pod\nspec:\n  containers:\n  - name: a\n    command: ["sh", "-c",\n      "a; b"]\n'
           "    ports: [80, 443]\n")
    spliced = old.replace('"a; b"]', '"a; exec b"]')
    assert diff_outside_changed_keys(old, spliced) == []
    rendered = spliced.replace("    ports: [80, 443]\n", "    ports:\n    - 80\n    - 443\n")
    assert diff_outside_changed_keys(old, rendered) != []
    folded = old.replace('command: ["sh", "-c",\n      "a; b"]', 'command: ["sh", "-c", "a; b"]')
    assert diff_outside_changed_keys(old, folded + "  terminationGracePeriodSeconds: 100\n") != []

"""Text splices for manifest and compose fixes: set one key of one mapping, touching few lines.

ruamel.yaml re-renders a whole file on dump, and real files do not always round-trip byte for
byte (mixed indentation, trailing spaces, see `initify.kubernetes.manifests.YamlStyle`). So a fix is first
tried as a splice of the original text:

- a missing key is inserted as new lines after the last line of the mapping, at the column of
  the mapping's keys (the file's own indentation step is used for nested mappings);
- a present scalar is replaced on its own line, keeping any comment and the quote character.

Every splice is checked by parsing the result: the changed document must load as the original
plus exactly that change, every other document unchanged. When a splice is impossible (flow
style, odd indentation) or fails that check, only the one document is re-rendered with
ruamel.yaml from a fresh load and put in place of its old lines (checked the same way). When
that fails too, there is no fix and the finding is reported only.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

from initify.engine import Edit, apply_line_edits, checking_fixes
from initify.kubernetes.manifests import YamlFile, is_mapping, is_sequence, new_yaml, parse_documents

PathKey = Any  # a mapping key (str) or a sequence index (int)
_PLAIN_SAFE = re.compile(r"[A-Za-z_/][\w./+\-]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?:\s|$)")


# --------------------------------------------------------------------------------------------
# Rendering new values
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _reads_back(text: str, flow: bool = False) -> bool:
    """Whether `text` written plain loads as the string `text`, after `k: ` or (`flow`) as the
    item of `k: [...]`: with ruamel.yaml's own reader (YAML 1.2) and with libyaml's (ruamel.yaml's
    C loader), which is stricter like kubectl's (go-yaml, a libyaml port): `[a https://b]` is a
    syntax error there. Cached: a file of many pods asks it for the same few values again and
    again."""
    from ruamel.yaml import YAML

    from initify.kubernetes import fast_yaml

    source, wanted = (f"k: [{text}]\n", {"k": [text]}) if flow else (f"k: {text}\n", {"k": text})
    readers = [YAML(typ="safe", pure=True)] + ([YAML(typ="safe")] if fast_yaml.available() else [])
    for reader in readers:
        try:
            loaded = reader.load(source)
        except Exception:  # noqa: BLE001 - not loadable means not usable as plain
            return False
        if loaded != wanted:
            return False
    return True


def scalar(value: Any, flow: bool = False) -> str:
    """A scalar as YAML text (`flow`: inside `[...]` or `{...}`): plain when that reads back as
    the same string, else JSON quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if text and "\n" not in text and text == text.strip() and text.lower() not in _RESERVED and _reads_back(text, flow):
        return text
    return json.dumps(text, ensure_ascii=False)


def block_lines(key: str, value: Any, column: int, step: int) -> List[str]:
    """`key: value` as block YAML lines at `column`; lists of scalars in flow style `["a", "b"]`."""
    pad = " " * column
    if is_mapping(value):
        lines = [f"{pad}{key}:"]
        for child_key, child in value.items():
            lines.extend(block_lines(child_key, child, column + step, step))
        return lines
    if is_sequence(value):
        return [f"{pad}{key}: [" + ", ".join(json.dumps(str(item), ensure_ascii=False) for item in value) + "]"]
    return [f"{pad}{key}: {scalar(value)}"]


# --------------------------------------------------------------------------------------------
# Locating nodes
# --------------------------------------------------------------------------------------------


def path_to(root: Any, target: Any) -> Optional[List[PathKey]]:
    """Keys and indexes leading from `root` to the node `target` (by identity), or None."""
    if root is target:
        return []
    children: Sequence[Tuple[PathKey, Any]] = ()
    if is_mapping(root):
        children = list(root.items())
    elif is_sequence(root):
        children = list(enumerate(root))
    for key, child in children:
        if is_mapping(child) or is_sequence(child):
            found = path_to(child, target)
            if found is not None:
                return [key] + found
    return None


def _walk(root: Any, path: Sequence[PathKey]) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


def plain(node: Any) -> Any:
    """A loaded node as plain dicts, lists and scalars (for comparing documents)."""
    if is_mapping(node):
        return {str(k): plain(v) for k, v in node.items()}
    if is_sequence(node):
        return [plain(v) for v in node]
    return node


@lru_cache(maxsize=8)
def _lines(text: str) -> List[str]:
    """`text` split at "\n", once per text (a file with a thousand documents gets a thousand
    fixes; splitting it for each made lint and fix quadratic). Callers never change the list."""
    return text.split("\n")


@lru_cache(maxsize=8)
def _chunks(text: str) -> List[Tuple[int, int]]:
    return _document_chunks(_lines(text))


_ROOTS: Dict[int, Tuple[Any, List[Tuple[int, int]]]] = {}  # id(documents) -> (documents, [(root line, index)])


def _root_lines(loaded: YamlFile) -> List[Tuple[int, int]]:
    """(0-based line of the root node, document index), sorted, for every document with one."""
    cached = _ROOTS.get(id(loaded.documents))
    if cached is not None and cached[0] is loaded.documents:
        return cached[1]
    roots = sorted((line, index) for index, doc in enumerate(loaded.documents)
                   if isinstance(line := getattr(getattr(doc, "lc", None), "line", None), int))
    if len(_ROOTS) > 8:
        _ROOTS.clear()
    _ROOTS[id(loaded.documents)] = (loaded.documents, roots)
    return roots


def _chunk_of_line(text: str, line: int) -> Optional[Tuple[int, int]]:
    chunks = _chunks(text)
    position = bisect.bisect_right(chunks, (line, len(_lines(text)))) - 1
    if position >= 0 and chunks[position][0] <= line <= chunks[position][1]:
        return chunks[position]
    return None


def _document_of(loaded: YamlFile, node: Any) -> Optional[int]:
    """The index of the document that holds `node`, found by line (no walk over the others)."""
    line = getattr(getattr(node, "lc", None), "line", None)
    if not isinstance(line, int):
        return None
    chunk = _chunk_of_line(loaded.text, line)
    if chunk is None:
        return None
    roots = _root_lines(loaded)
    position = bisect.bisect_left(roots, (chunk[0], -1))
    found = [index for root, index in roots[position:position + 2] if chunk[0] <= root <= chunk[1]]
    return found[0] if len(found) == 1 else None


def _locate(loaded: YamlFile, mapping: Any) -> Optional[Tuple[int, List[PathKey]]]:
    index = _document_of(loaded, mapping)
    if index is not None:
        found = path_to(loaded.documents[index], mapping)
        if found is not None:
            return index, found
    for index, doc in enumerate(loaded.documents):
        found = path_to(doc, mapping)
        if found is not None:
            return index, found
    return None


# --------------------------------------------------------------------------------------------
# Splices
# --------------------------------------------------------------------------------------------


def _block_columns(mapping: Any) -> Optional[Tuple[int, int]]:
    """(key column, last key line, 0-based) of a block mapping whose keys all start in one
    column, each on its own line; None for flow style, merge keys or odd layouts."""
    lc = getattr(mapping, "lc", None)
    if lc is None or not len(mapping) or getattr(mapping, "merge", None):
        return None
    if mapping.fa.flow_style():
        return None
    positions = [lc.key(key) for key in mapping]
    column = positions[0][1]
    lines = [line for line, _ in positions]
    if any(col != column for _, col in positions) or len(set(lines)) != len(lines):
        return None
    return column, max(lines)


def _mapping_end(lines: List[str], mapping: Any, column: int, last_key_line: int) -> int:
    """0-based index of the last line holding content of `mapping` (comments after it excluded)."""
    last_value = mapping[list(mapping)[-1]]
    block_sequence_value = is_sequence(last_value) and not last_value.fa.flow_style()
    end = last_key_line
    for index in range(last_key_line + 1, len(lines)):
        text = lines[index].rstrip("\r")
        stripped = text.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if _DOC_MARKER.match(text):
            break
        indent = len(text) - len(stripped)
        if indent < column or (indent == column and not (block_sequence_value and stripped.startswith("-"))):
            break
        end = index
    return end


def _insert_edit(loaded: YamlFile, mapping: Any, key: str, value: Any) -> Optional[Edit]:
    found = _block_columns(mapping)
    if found is None:
        return None
    column, last_key_line = found
    lines = _lines(loaded.text)
    end = _mapping_end(lines, mapping, column, last_key_line)
    newline = loaded.style.newline
    text = "".join(line + newline for line in block_lines(key, value, column, loaded.style.mapping_indent))
    if end + 1 >= len(lines) and not loaded.text.endswith("\n"):
        # the mapping ends the file without a final newline: the new lines go after a break
        last = lines[end]
        return Edit(loaded.path, end + 1, end + 1, last + newline + text.rstrip("\r\n"))
    return Edit(loaded.path, end + 2, end + 1, text)


def _token_end(rest: str) -> Optional[int]:
    """Length of the scalar token at the start of `rest` (quoted or plain), before any comment."""
    if rest.startswith('"'):
        index = 1
        while index < len(rest):
            if rest[index] == "\\":
                index += 2
                continue
            if rest[index] == '"':
                return index + 1
            index += 1
        return None
    if rest.startswith("'"):
        index = 1
        while index < len(rest):
            if rest[index] == "'":
                if rest[index + 1:index + 2] == "'":
                    index += 2
                    continue
                return index + 1
            index += 1
        return None
    if rest[:1] in ("|", ">", "[", "{", "&", "*", "!"):
        return None
    match = re.search(r"\s#", rest)
    token = rest[: match.start()] if match else rest
    return len(token.rstrip())


def _replace_at(loaded: YamlFile, line: int, column: int, value: Any, flow: bool = False) -> Optional[Edit]:
    """Replace the single-line scalar starting at 0-based (`line`, `column`), keeping comments."""
    lines = _lines(loaded.text)
    if line >= len(lines):
        return None
    text = lines[line]
    carriage = "\r" if text.endswith("\r") else ""
    text = text.rstrip("\r")
    rest = text[column:]
    length = _token_end(rest)
    if not length:
        return None
    new = scalar(value, flow)
    if rest[0] == "'" and isinstance(value, str) and "'" not in value and "\n" not in value:
        new = "'" + value + "'"
    elif rest[0] == '"' and not new.startswith('"'):
        new = json.dumps(str(value), ensure_ascii=False)
    ending = "\n" if line + 1 < len(lines) else ""
    return Edit(loaded.path, line + 1, line + 1, text[:column] + new + rest[length:] + carriage + ending)


def _replace_literal_block(loaded: YamlFile, line: int, column: int, old: str, new: str) -> Optional[Edit]:
    """Replace the body of a `|` block scalar whose header is at (`line`, `column`) when the new
    text has as many lines (as adding `exec ` gives): each line keeps the body's indentation."""
    lines = _lines(loaded.text)
    if not lines[line][column:].startswith("|"):
        return None
    old_lines, new_lines = old.rstrip("\n").split("\n"), new.rstrip("\n").split("\n")
    if len(old_lines) != len(new_lines) or line + len(old_lines) >= len(lines):
        return None
    body = lines[line + 1:line + 1 + len(old_lines)]
    first = next((b for b in body if b.strip()), None)
    if first is None:
        return None
    indent = first[: len(first) - len(first.lstrip(" "))]
    carriage = "\r" if first.endswith("\r") else ""
    text = "".join((indent + item if item else "") + carriage + "\n" for item in new_lines)
    return Edit(loaded.path, line + 2, line + 1 + len(old_lines), text)


def _replace_edit(loaded: YamlFile, mapping: Any, key: str, value: Any) -> Optional[Edit]:
    lc = getattr(mapping, "lc", None)
    if lc is None or key not in getattr(lc, "data", {}):
        return None
    line, column = lc.value(key)
    return _replace_at(loaded, line, column, value, bool(mapping.fa.flow_style()))


def _insert_first_edit(loaded: YamlFile, mapping: Any, key: str, value: Any) -> Optional[Edit]:
    """Insert before the mapping's first key (and the comment lines right above it), when that
    key starts its own line (not `- key:`)."""
    found = _block_columns(mapping)
    if found is None:
        return None
    column = found[0]
    line = mapping.lc.key(list(mapping)[0])[0]
    lines = _lines(loaded.text)
    if lines[line][:column].strip():
        return None  # `- key:` or `key: {`: the first key shares its line
    while line > 0 and lines[line - 1].strip().startswith("#") and len(lines[line - 1]) - len(lines[line - 1].lstrip(" ")) == column:
        line -= 1
    newline = loaded.style.newline
    text = "".join(item + newline for item in block_lines(key, value, column, loaded.style.mapping_indent))
    return Edit(loaded.path, line + 1, line, text)


# --------------------------------------------------------------------------------------------
# Checking and falling back
# --------------------------------------------------------------------------------------------


def _apply(text: str, edit: Edit) -> str:
    new, skipped = apply_line_edits(text, [edit])
    return text if skipped else new


def _expected(loaded: YamlFile, doc_index: int, path: Sequence[PathKey], key: str, value: Any) -> Any:
    """Document `doc_index` as plain data with the change made."""
    doc = plain(loaded.documents[doc_index])
    target = _walk(doc, path)
    target[key] = copy.deepcopy(value)
    return doc


def _doc_chunk(loaded: YamlFile, doc_index: int) -> Optional[Tuple[int, int]]:
    line = getattr(getattr(loaded.documents[doc_index], "lc", None), "line", None)
    if not isinstance(line, int):
        return None
    chunk = _chunk_of_line(loaded.text, line)
    if chunk is None:
        return None
    roots = _root_lines(loaded)  # sorted: the roots inside the chunk are one run of them
    inside = bisect.bisect_right(roots, (chunk[1], len(roots))) - bisect.bisect_left(roots, (chunk[0], -1))
    return chunk if inside == 1 else None


def _loads_as(loaded: YamlFile, edit: Edit, doc_index: int, expected: Any) -> bool:
    """Whether `edit` makes document `doc_index` load as `expected` and leaves the others alone.

    Only that document's lines are parsed (documents are independent, and an edit inside its
    lines cannot reach another one; a new `---` shows up as a second document here), so
    checking a fix costs the size of its document, not of the file."""
    chunk = _doc_chunk(loaded, doc_index)
    inside = chunk is not None and chunk[0] + 1 <= edit.start_line and max(edit.end_line, edit.start_line - 1) <= chunk[1] + 1
    if not inside:
        return _file_loads_as(loaded, _apply(loaded.text, edit), doc_index, expected)
    first, last = chunk  # type: ignore[misc]
    lines = _lines(loaded.text)
    text = "\n".join(lines[first:last + 1]) + "\n"
    shifted = edit._replace(path=loaded.path, start_line=edit.start_line - first, end_line=edit.end_line - first)
    new_text, skipped = apply_line_edits(text, [shifted])
    if skipped:
        return False
    try:
        documents = [doc for doc in parse_documents(loaded.path, new_text, loaded.style, round_trip=False) if doc is not None]
    except Exception:  # noqa: BLE001 - any failure to load means the splice is wrong
        return False
    return len(documents) == 1 and plain(documents[0]) == expected


def _file_loads_as(loaded: YamlFile, text: str, doc_index: int, expected: Any) -> bool:
    """The whole-file check, for a document whose lines cannot be told apart."""
    try:
        documents = parse_documents(loaded.path, text, loaded.style, round_trip=False)
    except Exception:  # noqa: BLE001 - any failure to load means the splice is wrong
        return False
    if len(documents) != len(loaded.documents):
        return False
    return all(plain(doc) == (expected if index == doc_index else plain(loaded.documents[index]))
               for index, doc in enumerate(documents))


def _document_chunks(lines: List[str]) -> List[Tuple[int, int]]:
    """0-based (first, last) line ranges between document markers (markers excluded)."""
    chunks: List[Tuple[int, int]] = []
    start = 0
    for index, line in enumerate(lines):
        if _DOC_MARKER.match(line):
            if index > start:
                chunks.append((start, index - 1))
            start = index + 1
    if start < len(lines):
        chunks.append((start, len(lines) - 1))
    return chunks


def _rerender_edit(loaded: YamlFile, doc_index: int, path: Sequence[PathKey], key: str, value: Any) -> Optional[Edit]:
    """Re-render only document `doc_index` with the change, in place of its old lines."""
    chunk = _doc_chunk(loaded, doc_index)
    if chunk is None:
        return None
    first, last = chunk
    lines = _lines(loaded.text)
    # a fresh load of that document alone: shared nodes stay as read
    documents = [d for d in parse_documents(loaded.path, "\n".join(lines[first:last + 1]) + "\n", loaded.style) if d is not None]
    if len(documents) != 1:
        return None
    doc = documents[0]
    _walk(doc, path)[key] = copy.deepcopy(value)
    while last > first and not lines[last].strip():
        last -= 1  # keep blank lines before the next marker
    single = loaded.style._replace(explicit_start=False, explicit_end=False)
    import io

    buffer = io.StringIO()
    new_yaml(single).dump(doc, buffer)
    rendered = buffer.getvalue().replace("\n", loaded.style.newline)
    if last + 1 >= len(lines) and not loaded.text.endswith("\n"):
        rendered = rendered[: -len(loaded.style.newline)]
    return Edit(loaded.path, first + 1, last + 1, rendered)


def set_key(loaded: YamlFile, mapping: Any, key: str, value: Any, first: bool = False) -> Optional[Edit]:
    """An edit that sets `mapping[key] = value` in `loaded` (a ManifestFile or ComposeFile).

    `value` is a plain scalar, list of scalars or dict of those. A present scalar is replaced in
    place; a missing key is inserted at the end of the mapping (`first`: before its first key,
    so pod-level keys land above `containers:`). None when the result would not load as exactly
    that change."""
    located = _locate(loaded, mapping)
    if located is None:
        return None
    doc_index, path = located
    expected = _expected(loaded, doc_index, path, key, value)
    present = key in mapping
    if present and (is_mapping(mapping[key]) or is_sequence(mapping[key]) or is_mapping(value)):
        splice = None
    elif present:
        splice = _replace_edit(loaded, mapping, key, value)
    else:
        splice = _insert_first_edit(loaded, mapping, key, value) if first else None
        splice = splice or _insert_edit(loaded, mapping, key, value)
    return _splice_or_rerender(loaded, splice, expected, doc_index, path, key, value)


def _splice_or_rerender(loaded: YamlFile, splice: Optional[Edit], expected: Any, doc_index: int,
                        path: Sequence[PathKey], key: Any, value: Any) -> Optional[Edit]:
    """`splice` when the text it makes loads as `expected` (document `doc_index`, plain; every
    other document unchanged); else the one document re-rendered with `path`'s `key` set to
    `value`, when that loads right; else None. Under `engine.LintOnly` nothing is parsed to
    check it: lint only marks the finding fixable and never applies the edit (`lint
    --show-fixes` checks, to print what `fix` applies)."""
    if not checking_fixes():
        return splice if splice is not None else Edit(loaded.path, 1, 0, "")
    if splice is not None and _loads_as(loaded, splice, doc_index, expected):
        return splice
    rendered = _rerender_edit(loaded, doc_index, path, key, value)
    if rendered is not None and _loads_as(loaded, rendered, doc_index, expected):
        return rendered
    return None


def set_item(loaded: YamlFile, sequence: Any, index: int, value: str) -> Optional[Edit]:
    """An edit that sets `sequence[index] = value` (a string item): a splice of its line when the
    item is a one-line scalar, else the document re-rendered; None when neither loads right."""
    located = _locate(loaded, sequence)
    if located is None:
        return None
    doc_index, path = located
    *parent_path, parent_key = path if path else [None]
    if parent_key is None:
        return None
    doc = plain(loaded.documents[doc_index])
    _walk(doc, path)[index] = value
    splice = None
    lc = getattr(sequence, "lc", None)
    if lc is not None and index in getattr(lc, "data", {}):
        line, column = lc.item(index)
        splice = _replace_at(loaded, line, column, value, bool(sequence.fa.flow_style()))
        if splice is None and isinstance(sequence[index], str):
            splice = _replace_literal_block(loaded, line, column, sequence[index], value)
    new_list = [plain(item) for item in sequence]
    new_list[index] = value
    return _splice_or_rerender(loaded, splice, doc, doc_index, parent_path, parent_key, new_list)


def _prepend_splice(loaded: YamlFile, sequence: Any, values: Sequence[str]) -> Optional[Edit]:
    """New items before the first one: after the `[` of a flow sequence whose first item is on
    the bracket's line, or as `- item` lines above the first item of a block sequence."""
    lc = getattr(sequence, "lc", None)
    if lc is None or not len(sequence) or 0 not in getattr(lc, "data", {}):
        return None
    line, column = lc.item(0)
    lines = _lines(loaded.text)
    text = lines[line]
    if sequence.fa.flow_style():
        bracket = text.rfind("[", 0, column)
        if bracket < 0 or text[bracket + 1:column].strip():
            return None
        items = "".join(json.dumps(value, ensure_ascii=False) + ", " for value in values)
        ending = "\n" if line + 1 < len(lines) else ""
        return Edit(loaded.path, line + 1, line + 1, text[:column] + items + text[column:] + ending)
    dash = text.rfind("-", 0, column)
    if dash < 0 or text[:dash].strip() or text[dash + 1:column].strip():
        return None  # `- - a`, or the item does not start its own line
    newline = loaded.style.newline
    return Edit(loaded.path, line + 1, line, "".join(f"{text[:dash]}- {scalar(value)}{newline}" for value in values))


def prepend_items(loaded: YamlFile, sequence: Any, values: Sequence[str]) -> Optional[Edit]:
    """An edit that puts the strings `values` before the first item of `sequence` (a splice of
    its first line, else the document re-rendered); None when neither loads as that change."""
    located = _locate(loaded, sequence)
    if located is None or not located[1]:
        return None
    doc_index, path = located
    *parent_path, parent_key = path
    new_list = list(values) + [plain(item) for item in sequence]
    doc = plain(loaded.documents[doc_index])
    _walk(doc, parent_path)[parent_key] = new_list
    splice = _prepend_splice(loaded, sequence, values)
    return _splice_or_rerender(loaded, splice, doc, doc_index, parent_path, parent_key, new_list)

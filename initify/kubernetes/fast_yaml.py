"""Load YAML about five times faster than ruamel.yaml's round trip, into the same objects.

ruamel.yaml's pure-Python scanner and parser were most of the time `initify lint` and `fix`
spent on a manifest (1.8 s for a file of 1000 small pods). Here libyaml scans and parses, through
ruamel.yaml.clib, ruamel.yaml's own C extension (its events are ruamel.yaml's classes, and it
costs about 2 ms to import once ruamel.yaml is loaded, where PyYAML would cost some 15 ms). The
events are composed into ruamel.yaml nodes (marks, styles, anchors kept, tags resolved by
ruamel.yaml's YAML 1.2 resolver) and ruamel.yaml's own round-trip constructor builds the
documents. So the result is the same `CommentedMap`s and `CommentedSeq`s with the same line and
column of every key, value and item, the same scalar types (quoted strings, `|` blocks, `0x1F`,
`2024-13-45` left a string), the same merge keys and the same duplicate-key error; only comments
are not attached (these documents are read, never rendered: a fix splices text, and re-renders a
document from a round-trip load of its own).

Where the two readers could differ, this one does not guess: `load_all` raises `Unsupported` and
the caller reads the text with ruamel.yaml as before. That is any syntax error (ruamel.yaml words
the message), a `%YAML`/`%TAG` directive, an explicit tag (`!!str`, `!Ref`; the non-specific `!`
is resolved as ruamel.yaml does), a reused anchor name (ruamel.yaml warns), an anchor or alias
name that libyaml ends earlier (`*a:`), a line break other than "\\n" (the readers count `\\r`,
U+0085, U+2028 and U+2029 differently), a tab (ruamel.yaml refuses some that libyaml reads), a
BOM after the start (libyaml does not count it in columns), an empty value in a flow collection
or before a `? key` (placed differently), nesting deeper than libyaml's limit of 1000, and a
machine without ruamel.yaml.clib. A constructor error (a duplicate key) propagates; the caller
reads the text again with ruamel.yaml, which words it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
_NAME_ENDS = ("", " ", "\t", ",", "[", "]", "{", "}")


class Unsupported(Exception):
    """The text needs ruamel.yaml's own reader (see the module docstring)."""


_parts: Optional[Dict[str, Any]] = None


def _load_parts() -> Dict[str, Any]:
    """libyaml's parser and the ruamel.yaml classes, imported once (and only when YAML is read)."""
    global _parts
    if _parts is None:
        try:
            from _ruamel_yaml import CParser  # ruamel.yaml.clib
        except ImportError:
            _parts = {}
            return _parts
        from ruamel.yaml import events
        from ruamel.yaml.error import StreamMark
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
        from ruamel.yaml.resolver import VersionedResolver

        _parts = {
            "parser": CParser,
            "events": events,
            "mark": StreamMark,
            "scalar": ScalarNode,
            "sequence": SequenceNode,
            "mapping": MappingNode,
            "resolver": VersionedResolver(),  # no loader: YAML 1.2, ruamel.yaml's default
        }
    return _parts


def available() -> bool:
    """Whether ruamel.yaml.clib is installed (else every load is `Unsupported`)."""
    return bool(_load_parts())


class _Composer:
    """libyaml events -> ruamel.yaml nodes, as ruamel.yaml's composer builds them."""

    def __init__(self, text: str) -> None:
        parts = _load_parts()
        if not parts:
            raise Unsupported("ruamel.yaml.clib is not installed")
        self.parts = parts
        self.events = parts["events"]
        self.parser = parts["parser"](text)
        self.text = text
        self.lines: Optional[List[str]] = None
        self.resolver = parts["resolver"]
        self.plain_tags: Dict[str, Any] = {}  # plain scalar text -> its resolved tag
        self.anchors: Dict[str, Any] = {}

    def documents(self) -> List[Any]:
        """The root node of every document, in order."""
        events = self.events
        roots: List[Any] = []
        try:
            if not isinstance(self.parser.get_event(), events.StreamStartEvent):
                raise Unsupported("unexpected event")
            while True:
                event = self.parser.get_event()
                if isinstance(event, events.StreamEndEvent):
                    return roots
                if not isinstance(event, events.DocumentStartEvent) or event.version or event.tags:
                    raise Unsupported("a directive")
                self.anchors = {}
                roots.append(self._compose())
                if not isinstance(self.parser.get_event(), events.DocumentEndEvent):
                    raise Unsupported("unexpected event")
        except Unsupported:
            raise
        except Exception as error:  # noqa: BLE001 - libyaml's errors: ruamel.yaml words them
            raise Unsupported(str(error)) from None
        finally:
            self.parser.dispose()

    def _tag(self, kind: Any, tag: Optional[str], value: Optional[str], implicit: Any) -> Any:
        """The node's tag as ruamel.yaml's composer resolves it (plain scalars cached by text)."""
        if tag is not None and tag != "!":
            raise Unsupported("an explicit tag")
        if kind is self.parts["scalar"] and implicit[0]:
            found = self.plain_tags.get(value)  # type: ignore[arg-type]
            if found is None:
                found = self.plain_tags[value] = self.resolver.resolve(kind, value, implicit)  # type: ignore[index]
            return found
        return self.resolver.resolve(kind, value, implicit)

    def _check_name(self, indicator: str, name: str, mark: Any) -> None:
        """libyaml ends an anchor or alias name at the first character outside [A-Za-z0-9_-],
        ruamel.yaml only at a space or a flow indicator (`*a:` is the alias "a:" there)."""
        line = self.text_lines()[mark.line]
        end = mark.column + 1 + len(name)
        if line[mark.column:end] != indicator + name or line[end:end + 1] not in _NAME_ENDS:
            raise Unsupported("an anchor name libyaml reads differently")

    def _anchor(self, anchor: Optional[str], node: Any) -> None:
        if anchor is not None:
            self._check_name("&", anchor, node.start_mark)
            if anchor in self.anchors:
                raise Unsupported("a reused anchor")
            self.anchors[anchor] = node

    def _empty_mark(self, stack: List[Any], pending: List[Any], mark: Any) -> Any:
        """Where ruamel.yaml puts a missing value (`key:` and nothing after it), from libyaml's
        mark (just after the `:`). ruamel.yaml uses the start of the next token (the next key,
        or the end of the mapping) unless a comment follows the `:` on its line and a key comes
        next. Empty values in flow collections (`{a: }`) are placed differently again: left to
        ruamel.yaml."""
        if not stack:
            return mark
        parent = stack[-1]
        if parent.flow_style:
            raise Unsupported("an empty value in a flow collection")
        lines = self.text_lines()
        if type(parent) is not self.parts["mapping"] or pending[-1] is None or not lines[mark.line][:mark.column].endswith(":"):
            return mark  # a `-` item, a key, or no `:` after a `? key`: both readers agree
        following = self.parser.peek_event()
        if "?" in self.text[mark.index:following.start_mark.index]:
            raise Unsupported("a `? key` after an empty value")  # ruamel.yaml marks the end of `?`
        if type(following) is not self.events.MappingEndEvent:
            if lines[mark.line][mark.column:].lstrip(" \t").startswith("#"):
                return mark
        found = following.start_mark
        if found.line >= len(lines):
            # the end of a text without a final line break: libyaml counts one more line
            found = self.parts["mark"](found.name, found.index, len(lines) - 1, len(lines[-1]))
        return found

    def text_lines(self) -> List[str]:
        """The text's lines, split only when a mark needs checking against them."""
        if self.lines is None:
            self.lines = self.text.split("\n")
        return self.lines

    def _compose(self) -> Any:
        """The node of the next event, with its children; a loop, not recursion (the depth is
        bounded by libyaml anyway, but a deep stack of Python frames is slow)."""
        events, parts = self.events, self.parts
        scalar_kind, sequence_kind, mapping_kind = parts["scalar"], parts["sequence"], parts["mapping"]
        get_event = self.parser.get_event
        stack: List[Any] = []  # open collection nodes
        pending: List[Any] = []  # per open collection: a mapping's key node waiting for its value
        while True:
            event = get_event()
            kind = type(event)
            if kind is events.ScalarEvent:
                style = event.style or None
                tag = self._tag(scalar_kind, event.tag, event.value, event.implicit)
                start, end = event.start_mark, event.end_mark
                if event.value == "" and style is None and event.anchor is None and start.index == end.index:
                    start = end = self._empty_mark(stack, pending, start)
                node = scalar_kind(tag, event.value, start, end, style=style, anchor=event.anchor)
                self._anchor(event.anchor, node)
            elif kind is events.AliasEvent:
                self._check_name("*", event.anchor, event.start_mark)
                if event.anchor not in self.anchors:
                    raise Unsupported("an undefined alias")
                node = self.anchors[event.anchor]
            elif kind is events.SequenceStartEvent or kind is events.MappingStartEvent:
                collection = sequence_kind if kind is events.SequenceStartEvent else mapping_kind
                tag = self._tag(collection, event.tag, None, event.implicit)
                opened = collection(tag, [], event.start_mark, None, flow_style=event.flow_style, anchor=event.anchor)
                self._anchor(event.anchor, opened)
                stack.append(opened)
                pending.append(None)
                continue
            elif kind is events.SequenceEndEvent or kind is events.MappingEndEvent:
                node = stack.pop()
                pending.pop()
                node.end_mark = event.end_mark
            else:
                raise Unsupported("unexpected event")
            if not stack:
                return node
            parent = stack[-1]
            if type(parent) is sequence_kind:
                parent.value.append(node)
            elif pending[-1] is None:
                pending[-1] = node
            else:
                parent.value.append((pending[-1], node))
                pending[-1] = None


def load_all(text: str, constructor: Any) -> List[Any]:
    """Every document of `text`, built by `constructor` (a ruamel.yaml round-trip constructor);
    raises `Unsupported` when ruamel.yaml must read this text itself."""
    if any(mark in text for mark in _BREAKS):
        raise Unsupported("a line break other than \\n")
    if "\t" in text:
        raise Unsupported("a tab")  # ruamel.yaml refuses some that libyaml reads (`a: b\tc`)
    if "\ufeff" in text:
        raise Unsupported("a byte order mark inside the text")  # libyaml does not count it in columns
    if text.startswith("%") or "\n%" in text:
        raise Unsupported("a directive")
    roots = _Composer(text).documents()
    return [constructor.construct_document(root) for root in roots]

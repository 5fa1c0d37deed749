"""Line-level Dockerfile parser that keeps exact source spans.

It follows BuildKit's own parser (moby/buildkit `frontend/dockerfile/parser`) rule by rule, because
the point is to see a Dockerfile exactly as `docker build` will: parser directives, line
continuations that skip comment and blank lines, heredocs on RUN/COPY/ADD, CRLF and a BOM. Unlike
BuildKit it also remembers where every instruction sits (`start_line..end_line`, `raw`), so a
later rewrite can replace an instruction and leave every other byte of the file alone.

`dockerfile-parse` is not used here: it breaks on blank lines inside continuations and does not
know heredocs.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from initify.errors import InputError
from initify.dockerfile.model import Dockerfile, Heredoc, Instruction

KEYWORDS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
NOT_ONBUILD_TRIGGERS = frozenset({"ONBUILD", "FROM", "MAINTAINER"})
DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})

# `# name=value`; BuildKit accepts blanks around the name, the `=` and the value.
_DIRECTIVE = re.compile(r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
# BuildKit separates the keyword from its arguments with these characters only.
_KEYWORD = re.compile(r"([^\t\v\f\r ]*)[\t\v\f\r ]*(.*)", re.DOTALL)
# One shell word that opens a heredoc: optional fd, <<, optional -, the delimiter word.
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)", re.DOTALL)

Flags = Dict[str, Optional[str]]


# Names that mark a template (Go, Jinja, Helm) rather than a Dockerfile, when it holds `{{`.
TEMPLATE_SUFFIXES = (".tmpl", ".tpl", ".j2", ".jinja", ".jinja2", ".template", ".gotmpl")


def template_text(path: str) -> bool:
    """Whether a file holds Go/Jinja template markup (`{{ ... }}`) rather than plain Dockerfile."""
    from initify.discover import read_bytes

    try:
        return b"{{" in read_bytes(path)
    except InputError:
        return False


def read(path: str) -> Dockerfile:
    """Read and parse a Dockerfile, turning every unreadable input into one clear InputError.

    Bytes are decoded by hand (no universal newlines) so CRLF survives into `text` and `raw`.
    """
    from initify.discover import read_bytes

    return parse(_decode(read_bytes(path), path), path)


def _decode(data: bytes, path: str) -> str:
    """Decode UTF-8, refusing UTF-16, binary and otherwise undecodable files."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "UTF-16 text is not supported (save the file as UTF-8)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(path, f"binary file (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise InputError(path, f"not UTF-8 text (byte 0x{byte:02x} at offset {error.start})") from None


def split_flags(args: str) -> Tuple[Flags, str]:
    """Split leading `--name=value` / `--name` options off an instruction's arguments.

    Mirrors BuildKit's flag scanner: a flag word may contain quotes (removed) and backslash
    escapes, a bare `--` ends the options, and the first word not starting with `--` starts the
    value. A repeated flag (`--mount` twice) keeps its last value in the dict; `value` is exact.
    """
    flags: Flags = {}
    pos = 0
    size = len(args)
    if not args.lstrip().startswith("--"):
        return flags, args.strip()
    while True:
        while pos < size and args[pos].isspace():
            pos += 1
        if not args.startswith("--", pos):
            return flags, args[pos:].strip()
        word, pos = _flag_word(args, pos)
        if word == "--":
            return flags, args[pos:].strip()
        name, sep, value = word[2:].partition("=")
        flags[name] = value if sep else None


def _flag_word(args: str, pos: int) -> Tuple[str, int]:
    """Read one whitespace-delimited word from `pos`, removing quotes and backslash escapes."""
    chars: List[str] = []
    quote = ""
    size = len(args)
    while pos < size:
        char = args[pos]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and pos + 1 < size:
                pos += 1
                chars.append(args[pos])
            elif char != "\\":
                chars.append(char)
        elif char.isspace():
            break
        elif char in "'\"":
            quote = char
        elif char == "\\":
            if pos + 1 < size:
                pos += 1
                chars.append(args[pos])
        else:
            chars.append(char)
        pos += 1
    return "".join(chars), pos


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text into instructions with exact spans, comments and directives."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    lines = text.split("\n")  # not splitlines(): BuildKit ends lines at "\n" only
    if lines[-1] == "":
        lines.pop()  # the text ends with a newline, or is empty
    directives = _read_directives(lines, path)
    escape = directives.get("escape", "\\")
    parser = _Parser(path, lines, text.endswith("\n"), escape)
    parser.run()
    return Dockerfile(
        path=path,
        text=text,
        instructions=parser.instructions,
        escape=escape,
        directives=directives,
        comments=parser.comments,
        bom=bom,
        newline=_newline_of(text),
    )


def _newline_of(text: str) -> str:
    """The file's line ending, judged by its first line break."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _read_directives(lines: List[str], path: str) -> Dict[str, str]:
    """Read the parser directives at the top of the file.

    As in BuildKit, the first line that is not a known `# name=value` directive (a plain
    comment, a blank line, an instruction, an unknown name) ends them; later ones are comments.
    """
    directives: Dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE.fullmatch(line.lstrip().rstrip("\r"))
        if match is None:
            break
        name = match.group(1).lower()
        if name not in DIRECTIVE_NAMES:
            break
        if name in directives:
            raise InputError(path, f"only one {name} parser directive can be used", number)
        value = match.group(2)
        if name == "escape" and value not in ("\\", "`"):
            raise InputError(path, f"invalid escape token {value!r}: must be ` or \\", number)
        directives[name] = value
    return directives


def _trim_continuation(line: str, escape: str) -> Tuple[str, bool]:
    """Remove a trailing escape char (plus blanks after it); say whether the line continues.

    An escape char preceded by another one (`echo \\\\`) is an escaped escape, not a
    continuation, as in BuildKit (which also applies this to `\\\\\\`: it has no look-behind).
    """
    body = line.rstrip("\r")
    end = body.rstrip(" \t")
    if _continues(end, escape):
        return end[:-1], True
    return body, False


def _continues(end: str, escape: str) -> bool:
    """True when `end` (a line without trailing blanks) ends with a continuation escape."""
    return end.endswith(escape) and (len(end) == 1 or end[-2] != escape)


def _split_keyword(text: str) -> Tuple[str, str]:
    """Split `KEYWORD args` at the first run of BuildKit's separators ([\\t\\v\\f\\r ])."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    word = parts[0]
    if len(parts) == 1 or text[len(word)] in " \t\v\f\r":
        return word, parts[1].strip() if len(parts) == 2 else ""
    # Python split at some other Unicode blank, which BuildKit keeps inside the keyword.
    word, args = _KEYWORD.fullmatch(text).groups()  # type: ignore[union-attr]
    return word, args.strip()


class _Parser:
    """Walks the physical lines once, building instructions and collecting comments.

    `lines` are the physical lines without their "\\n" (a CRLF line keeps its "\\r").
    """

    def __init__(self, path: str, lines: List[str], final_newline: bool, escape: str) -> None:
        self.path = path
        self.lines = lines
        self.final_newline = final_newline
        self.escape = escape
        self.instructions: List[Instruction] = []
        self.comments: List[Tuple[int, str]] = []

    def run(self) -> None:
        index = 0
        lines = self.lines
        count = len(lines)
        while index < count:
            content = lines[index].lstrip()
            if not content:
                index += 1
            elif content[0] == "#":
                self.comments.append((index + 1, content[1:].strip()))
                index += 1
            else:
                index = self._instruction(index, content)

    def _instruction(self, start: int, content: str) -> int:
        """Build the instruction starting at line index `start`; return the next line index."""
        logical, end = self._logical_line(start, content)
        line_number = start + 1
        word, args = _split_keyword(logical.strip())
        if not word:
            raise InputError(self.path, "line continuation without an instruction", line_number)
        keyword = word.upper()
        if keyword not in KEYWORDS:
            raise InputError(self.path, f"unknown instruction: {_first_word(word)}", line_number)
        flags, value = split_flags(args)
        column = len(self.lines[start]) - len(content) + 1
        inner = self._onbuild_trigger(value, line_number) if keyword == "ONBUILD" else None
        heredocs: List[Heredoc] = []
        heredoc_keyword = inner.keyword if inner is not None else keyword
        heredoc_value = inner.value if inner is not None else value
        if heredoc_keyword in HEREDOC_KEYWORDS and "<<" in logical and not _is_json(heredoc_value):
            heredocs, end = self._heredoc_bodies(logical, end, line_number)
        raw = self._source(start, end)
        instruction = Instruction(
            keyword=keyword,
            original_keyword=word,
            args=args,
            start_line=line_number,
            end_line=end,
            raw=raw,
            column=column,
            flags=flags,
            value=value,
            heredocs=heredocs,
            onbuild=inner,
        )
        if inner is not None:
            inner.start_line, inner.end_line, inner.raw = line_number, end, raw
            after_onbuild = column - 1 + len(word)
            inner.column = _column_of(self.lines[start], inner.original_keyword, after_onbuild, column)
            inner.heredocs = heredocs
        self.instructions.append(instruction)
        return end

    def _source(self, start: int, end: int) -> str:
        """The exact text of lines[start:end], line endings included."""
        if start == end:
            return ""
        text = "\n".join(self.lines[start:end])
        return text + "\n" if end < len(self.lines) or self.final_newline else text

    def _logical_line(self, start: int, content: str) -> Tuple[str, int]:
        """Join a line with its continuation lines the way BuildKit does.

        The escape char is removed and the pieces are concatenated as they are (no blank is
        inserted); comment lines and blank lines inside the continuation are skipped.
        Returns the joined text and the index of the first line after it.
        """
        logical, continued = _trim_continuation(content, self.escape)
        if not continued:
            return logical, start + 1
        pieces = [logical]
        escape = self.escape
        index = start + 1
        lines = self.lines
        count = len(lines)
        while continued and index < count:
            line = lines[index]
            index += 1
            stripped = line.lstrip()
            if not stripped:
                continue
            if stripped[0] == "#":
                self.comments.append((index, stripped[1:].strip()))
                continue
            # _trim_continuation, inlined: this loop runs for most lines of a Dockerfile.
            body = line.rstrip("\r")
            end = body.rstrip(" \t")
            continued = end.endswith(escape) and (len(end) == 1 or end[-2] != escape)
            pieces.append(end[:-1] if continued else body)
        return "".join(pieces), index

    def _onbuild_trigger(self, value: str, line_number: int) -> Instruction:
        """Parse the instruction wrapped by ONBUILD; span fields are filled in by the caller."""
        word, args = _split_keyword(value)
        keyword = word.upper()
        if not word:
            raise InputError(self.path, "ONBUILD requires an instruction", line_number)
        if keyword not in KEYWORDS:
            raise InputError(self.path, f"unknown instruction: {_first_word(word)}", line_number)
        if keyword in NOT_ONBUILD_TRIGGERS:
            raise InputError(self.path, f"{keyword} isn't allowed as an ONBUILD trigger", line_number)
        flags, inner_value = split_flags(args)
        return Instruction(
            keyword=keyword,
            original_keyword=word,
            args=args,
            start_line=line_number,
            end_line=line_number,
            raw="",
            flags=flags,
            value=inner_value,
        )

    def _heredoc_bodies(self, logical: str, index: int, line_number: int) -> Tuple[List[Heredoc], int]:
        """Read the body of each heredoc opened on the logical line, in order.

        Returns the heredocs and the index of the first line after the last terminator.
        """
        heredocs: List[Heredoc] = []
        lines = self.lines
        for word in _shell_words(logical):
            opened = _heredoc_of(word)
            if opened is None:
                continue
            delimiter, strip_tabs, expand = opened
            first = index
            while True:
                if index >= len(lines):
                    raise InputError(self.path, f"unterminated heredoc {delimiter!r}", line_number)
                candidate = lines[index].rstrip("\r")
                if strip_tabs:
                    candidate = candidate.lstrip("\t")
                index += 1
                if candidate == delimiter:
                    break
            body = self._source(first, index - 1).replace("\r\n", "\n")
            heredocs.append(Heredoc(delimiter, body, strip_tabs, expand, first + 1, index))
        return heredocs, index


def _first_word(word: str, limit: int = 16) -> str:
    """An unknown instruction's word as an error shows it: cut short and printable, so a file
    that is not a Dockerfile (a credentials file) does not end up in a CI log."""
    shown = word[:limit].encode("ascii", "backslashreplace").decode("ascii")
    return shown + ("..." if len(word) > limit else "")


def _column_of(line: str, word: str, offset: int, fallback: int) -> int:
    """1-based column of `word` on `line` at or after `offset`, or `fallback` if not there.

    Used for the instruction wrapped by ONBUILD, which may even start on a continuation line.
    """
    found = line.find(word, offset)
    return found + 1 if found >= 0 else fallback


def _is_json(value: str) -> bool:
    """True for the exec form `["a", "b"]`: BuildKit reads no heredocs there."""
    if not value.startswith("["):
        return False
    import json  # only exec-form RUN/COPY/ADD lines containing "<<" get here

    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)


def _shell_words(line: str) -> List[str]:
    """Split a line into shell words, keeping quotes and escapes as written.

    Only word boundaries matter here: a quoted `'<<EOF'` stays one word that starts with a
    quote, so it is not taken for a heredoc. Like BuildKit's lexer, an unterminated quote gives
    no words at all (so no heredocs are read for that line).
    """
    words: List[str] = []
    current: List[str] = []
    quote = ""
    pos = 0
    size = len(line)
    while pos < size:
        char = line[pos]
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"' and pos + 1 < size:
                pos += 1
                current.append(line[pos])
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
            if char in "'\"":
                quote = char
            elif char == "\\" and pos + 1 < size:
                pos += 1
                current.append(line[pos])
        pos += 1
    if quote:
        return []
    if current:
        words.append("".join(current))
    return words


def _heredoc_of(word: str) -> Optional[Tuple[str, bool, bool]]:
    """For a word like `<<EOF`, `<<-'EOF'`, `2<<"EOF"`: (delimiter, strip_tabs, expand)."""
    match = _HEREDOC_WORD.fullmatch(word)
    if match is None or not match.group(3):
        return None
    delimiter, quoted = _unquote(match.group(3))
    if delimiter is None:
        return None
    return delimiter, match.group(2) == "-", not quoted


def _unquote(word: str) -> Tuple[Optional[str], bool]:
    """Remove shell quoting from one word: (text, whether any quote was removed).

    Returns None as text when the word is really several words (unquoted blank inside).
    """
    chars: List[str] = []
    quoted = False
    quote = ""
    pos = 0
    size = len(word)
    while pos < size:
        char = word[pos]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"' and pos + 1 < size and word[pos + 1] in '"\\$`':
                pos += 1
                chars.append(word[pos])
            else:
                chars.append(char)
        elif char in "'\"":
            quote = char
            quoted = True
        elif char == "\\" and pos + 1 < size:
            pos += 1
            chars.append(word[pos])
        elif char.isspace():
            return None, quoted
        else:
            chars.append(char)
        pos += 1
    return "".join(chars), quoted

"""The parsed form of a Dockerfile: instructions with their exact source spans.

Line numbers are 1-based and count physical lines of the file as written (a BOM does not shift
them). `raw` is the exact source text of an instruction, so a later rewrite can replace lines
`start_line..end_line` and leave every other byte alone.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from initify.record import Record


class Heredoc(Record):
    """A here-document attached to an instruction (`RUN <<EOF`, `COPY <<'EOF' /dst`)."""

    __slots__ = ("delimiter", "body", "strip_tabs", "expand", "start_line", "end_line")

    def __init__(self, delimiter: str, body: str, strip_tabs: bool, expand: bool, start_line: int,
                 end_line: int) -> None:
        self.delimiter = delimiter  # the word after << with quotes removed, e.g. "EOF"
        self.body = body  # the body lines exactly as written (line endings normalised to \n), terminator excluded
        self.strip_tabs = strip_tabs  # written <<-EOF: leading tabs are stripped from body lines
        self.expand = expand  # False when the delimiter was quoted (<<'EOF' or <<"EOF"): no expansion in body
        self.start_line = start_line  # first body line
        self.end_line = end_line  # the terminator line


class Instruction(Record):
    __slots__ = ("keyword", "original_keyword", "args", "start_line", "end_line", "raw", "column", "flags",
                 "value", "heredocs", "onbuild")

    def __init__(self, keyword: str, original_keyword: str, args: str, start_line: int, end_line: int,
                 raw: str, column: int = 1, flags: Optional[Dict[str, Optional[str]]] = None,
                 value: str = "", heredocs: Optional[List[Heredoc]] = None,
                 onbuild: Optional[Instruction] = None) -> None:
        self.keyword = keyword  # upper case: FROM, RUN, CMD, ...
        self.original_keyword = original_keyword  # as written: "cmd", "Cmd", ...
        self.args = args  # text after the keyword: continuations joined, comment lines inside dropped, stripped
        self.start_line = start_line  # first physical line of the instruction
        self.end_line = end_line  # last physical line, heredoc bodies included
        self.raw = raw  # exact source text of start_line..end_line, line endings included
        self.column = column  # 1-based column of the keyword on start_line
        self.flags: Dict[str, Optional[str]] = {} if flags is None else flags  # leading --name[=value] options
        self.value = value  # args with the leading flags removed
        self.heredocs: List[Heredoc] = [] if heredocs is None else heredocs
        self.onbuild = onbuild  # for ONBUILD: the wrapped instruction (same span)


class Dockerfile(Record):
    __slots__ = ("path", "text", "instructions", "escape", "directives", "comments", "bom", "newline")

    def __init__(self, path: str, text: str, instructions: List[Instruction], escape: str = "\\",
                 directives: Optional[Dict[str, str]] = None, comments: Optional[List[Tuple[int, str]]] = None,
                 bom: bool = False, newline: str = "\n") -> None:
        self.path = path
        self.text = text  # decoded text, BOM removed, line endings as written
        self.instructions = instructions
        self.escape = escape  # from the `# escape=` directive
        self.directives: Dict[str, str] = {} if directives is None else directives  # lower-case names
        self.comments: List[Tuple[int, str]] = [] if comments is None else comments  # (line, text after '#', stripped)
        self.bom = bom
        self.newline = newline  # "\r\n" for CRLF files

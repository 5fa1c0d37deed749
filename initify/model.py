"""The parsed form of a Dockerfile: instructions with their exact source spans.

Line numbers are 1-based and count physical lines of the file as written (a BOM does not shift
them). `raw` is the exact source text of an instruction, so a later rewrite can replace lines
`start_line..end_line` and leave every other byte alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass
class Heredoc:
    """A here-document attached to an instruction (`RUN <<EOF`, `COPY <<'EOF' /dst`)."""

    delimiter: str  # the word after << with quotes removed, e.g. "EOF"
    body: str  # the body lines exactly as written (line endings normalised to \n), terminator excluded
    strip_tabs: bool  # written <<-EOF: leading tabs are stripped from body lines
    expand: bool  # False when the delimiter was quoted (<<'EOF' or <<"EOF"): no expansion in body
    start_line: int  # first body line
    end_line: int  # the terminator line


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, CMD, ...
    original_keyword: str  # as written: "cmd", "Cmd", ...
    args: str  # text after the keyword: continuations joined, comment lines inside dropped, stripped
    start_line: int  # first physical line of the instruction
    end_line: int  # last physical line, heredoc bodies included
    raw: str  # exact source text of start_line..end_line, line endings included
    column: int = 1  # 1-based column of the keyword on start_line
    flags: Dict[str, Optional[str]] = field(default_factory=dict)  # leading --name[=value] options
    value: str = ""  # args with the leading flags removed
    heredocs: List[Heredoc] = field(default_factory=list)
    onbuild: Optional["Instruction"] = None  # for ONBUILD: the wrapped instruction (same span)


@dataclass
class Dockerfile:
    path: str
    text: str  # decoded text, BOM removed, line endings as written
    instructions: List[Instruction]
    escape: str = "\\"  # from the `# escape=` directive
    directives: Dict[str, str] = field(default_factory=dict)  # lower-case directive names
    comments: List[Tuple[int, str]] = field(default_factory=list)  # (line, text after '#', stripped)
    bom: bool = False
    newline: str = "\n"  # "\r\n" for CRLF files

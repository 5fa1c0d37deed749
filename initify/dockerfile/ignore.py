"""`.dockerignore` / `.containerignore`: which context files a build sends, as BuildKit decides.

Used by `initify build` (to copy the context) and by the IN106 fix (an allow-list `*` + `!file`
would leave out the init it adds to the context, so the fix re-includes it).
"""

from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple

from initify.errors import InputError

IGNORE_FILES = (".containerignore", ".dockerignore")


def ignore_file(context: str) -> Optional[str]:
    """The ignore file a build of `context` reads (`.containerignore` first, as podman does)."""
    return next((os.path.join(context, n) for n in IGNORE_FILES if os.path.isfile(os.path.join(context, n))), None)


def parse_ignore(text: str, path: str = ".dockerignore") -> List[Tuple[bool, str]]:
    """(exclude, pattern) per line: `!` lines re-include; comments and blanks skipped. A pattern
    the engine would reject (`[z-a]`) is an InputError naming `path` and the line."""
    rules: List[Tuple[bool, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        if pattern and pattern != ".":
            try:
                re.compile(_pattern_regex(pattern))
            except re.error:  # `[z-a]`: the engine rejects it too
                raise InputError(path, f"invalid pattern {pattern[:40]!r}", number) from None
            rules.append((exclude, pattern))
    return rules


def read_ignore(path: str) -> List[Tuple[bool, str]]:
    """The rules of the ignore file `path`, read as any input is (a regular file, size capped)."""
    from initify.discover import read_bytes

    return parse_ignore(read_bytes(path).decode("utf-8", errors="replace"), path)


def _pattern_regex(pattern: str) -> str:
    """Go's filepath.Match syntax (`*`, `?`, `[...]`) plus Docker's `**`, as a regular expression."""
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
            continue
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if char == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            out, i = out + "[" + pattern[i + 1:end].replace("\\", "\\\\") + "]", end + 1
            continue
        out += "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char)
        i += 1
    return out


def _match(pattern: str, relative: str) -> bool:
    """Does the pattern match the path or one of its parent folders?"""
    return re.fullmatch(_pattern_regex(pattern) + "(?:/.*)?", relative) is not None


def ignored(rules: List[Tuple[bool, str]], relative: str) -> bool:
    result = False
    for exclude, pattern in rules:
        if _match(pattern, relative):
            result = exclude
    return result

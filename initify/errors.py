"""The one error type that reaches the user as `initify: error: ...` with exit status 2."""

from __future__ import annotations

from typing import Optional


class InputError(Exception):
    """Input initify cannot read or parse: a missing path, a binary file, a syntax error.

    `str()` gives `path:line: reason` (or `path: reason` when the line is unknown), the form the
    CLI prints after `initify: error: `.
    """

    def __init__(self, path: str, reason: str, line: Optional[int] = None) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"

"""IN001 parse-error: a file initify could not read or parse.

One bad file must not hide the findings of every other: lint reports it as an error finding of
its own, lints the rest, and exits 2 at the end; fix leaves it (and whatever is paired with it)
untouched. The engine reports it for every selection: a file that was never read must not pass.
"""

from __future__ import annotations

from typing import Iterator

from initify.engine import Hit
from initify.errors import InputError

CODE = "IN001"
NAME = "parse-error"
SEVERITY = "error"
TARGET = "file"
SUMMARY = "a file could not be read or parsed, so nothing in it was checked"
FIXABLE = False


def check(error: InputError) -> Iterator[Hit]:
    line = error.line or 1
    yield Hit(line, 1, line, 1, error.reason)

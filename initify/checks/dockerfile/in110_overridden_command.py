"""IN110 overridden-command: a CMD/ENTRYPOINT in the final stage that a later one replaces."""

from typing import Iterator

from initify.engine import Hit, hit
from initify.dockerfile.facts import ImageFacts

CODE = "IN110"
NAME = "overridden-command"
SEVERITY = "info"
TARGET = "dockerfile"
FIXABLE = False
SUMMARY = "a CMD/ENTRYPOINT of the final stage is overridden by a later one (dead line)"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    for instruction in facts.overridden:
        later = next(
            other
            for other in facts.final.instructions
            if other.keyword == instruction.keyword and other.start_line > instruction.start_line
        )
        yield hit(
            instruction,
            f"this {instruction.keyword} never takes effect: the {instruction.keyword} on line "
            f"{later.start_line} replaces it; remove one of them",
        )

"""IN103 malformed-exec-form: text meant as a JSON array that Docker runs as a shell command."""

from typing import Iterator, List

from initify.engine import Hit, hit
from initify.dockerfile import rewrite
from initify.dockerfile.facts import MALFORMED, Command, ImageFacts

CODE = "IN103"
NAME = "malformed-exec-form"
SEVERITY = "error"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "unsafe"
FIXES = True
SUMMARY = "CMD/ENTRYPOINT looks like a JSON array but is not valid JSON, so it runs as shell form"


def _commands(facts: ImageFacts) -> List[Command]:
    commands = [c for c in (facts.entrypoint, facts.cmd) if c is not None]
    return commands + list(facts.onbuild)


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    for command in _commands(facts):
        if command.form != MALFORMED:
            continue
        prefix = "ONBUILD " if any(command is other for other in facts.onbuild) else ""
        keyword = prefix + command.instruction.keyword
        if "only strings" in (command.error or ""):
            consequence = "BuildKit refuses the file"
        elif command.text.rstrip().endswith("]"):
            consequence = "Docker runs it as `/bin/sh -c '[...'`, which fails at start"
        else:
            consequence = "Docker runs the whole line as a shell command"
        yield hit(
            command.instruction,
            f"{keyword} looks like exec form but is {command.error}; {consequence}. "
            f"Use double quotes, quote every element, and keep comments on their own line",
            fix=rewrite.malformed_fix(facts.dockerfile.path, command),
        )

"""IN301 compose-shell-command-without-exec: a compose command/entrypoint runs `sh -c` and keeps the shell."""

from typing import Iterator

from initify.checks.in204_shell_command_without_exec import advice
from initify.engine import Hit
from initify.pods import hit_at, shell_keeps_signals
from initify.services import ServiceFacts

CODE = "IN301"
NAME = "compose-shell-command-without-exec"
SEVERITY = "warning"
TARGET = "compose-service"
FIXABLE = False
SUMMARY = "a compose command/entrypoint runs `sh -c SCRIPT` whose last command is not exec'd: the shell stays in front of the app"


def check(subject: ServiceFacts) -> Iterator[Hit]:
    if subject.image is not None and subject.image.windows:
        return
    for step in subject.chain:
        if step.kind != "shell" or step.script is None or not subject.manifest_made(step):
            continue
        analysis = step.analysis
        if not getattr(analysis, "ok", False) or analysis.ends_with_exec or shell_keeps_signals(analysis):
            continue
        yield hit_at(
            subject.compose.text, subject.manifest_line,
            f"service {subject.service.name!r}: `{step.argv[0]} -c` does not exec its last command: the shell "
            f"stays in front of the app, ignores SIGTERM and `docker compose stop` waits for the SIGKILL; "
            f"{advice(analysis)}",
        )

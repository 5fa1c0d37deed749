"""IN301 compose-shell-command-without-exec: a compose command/entrypoint runs `sh -c` and keeps the shell."""

from typing import Iterator

import shlex
from typing import Optional

from initify.checks.dockerfile.in101_shell_form_cmd import UNKNOWN_SHELL_CLAUSE, execs_anyway, unknown_shell
from initify.dockerfile import shell as shell_module
from initify.kubernetes import yaml_edit
from initify.checks.kubernetes.in204_shell_command_without_exec import advice, script_fix
from initify.engine import Fix, Hit
from initify.kubernetes.pods import hit_at, shells_without_exec
from initify.compose.services import ServiceFacts

CODE = "IN301"
NAME = "compose-shell-command-without-exec"
SEVERITY = "warning"
TARGET = "compose-service"
FIXABLE = True
FIXES = True
SUMMARY = "a compose command/entrypoint runs `sh -c SCRIPT` whose last command is not exec'd: the shell stays in front of the app"


def _fix(subject: ServiceFacts, script: str) -> Optional[Fix]:
    """`exec` in the script: in its list item, or in a string `command`/`entrypoint` re-joined
    with shell quoting (compose splits it into the same words)."""
    service = subject.service
    node = service.node
    new_script = shell_module.add_exec(script)
    if new_script is None:
        return None
    for key, words in (("entrypoint", service.entrypoint), ("command", service.command)):
        if isinstance(node.get(key), str) and words and script in words:
            new_words = [new_script if word == script else word for word in words]
            edit = yaml_edit.set_key(subject.compose, node, key, shlex.join(new_words))
            return Fix((edit,), safe=True, note="exec before the last command") if edit is not None else None
    return script_fix(subject.compose, [(node, "entrypoint"), (node, "command")], script)


def check(subject: ServiceFacts) -> Iterator[Hit]:
    if subject.image is not None and subject.image.windows:
        return
    for step in shells_without_exec(subject):
        analysis = step.analysis
        if step.implicit_exec:
            found = hit_at(
                subject.compose.text, subject.manifest_line,
                f"service {subject.service.name!r}: `{step.argv[0]} -c` does not write `exec`, {execs_anyway(step)}; "
                f"{advice(analysis)}",
                "info",
            )
        else:
            unknown = f" ({UNKNOWN_SHELL_CLAUSE})" if unknown_shell(step) else ""
            found = hit_at(
                subject.compose.text, subject.manifest_line,
                f"service {subject.service.name!r}: `{step.argv[0]} -c` does not exec its last command: the shell "
                f"stays in front of the app{unknown}, ignores SIGTERM and `docker compose stop` waits for the SIGKILL; "
                f"{advice(analysis)}",
            )
        found.fix = _fix(subject, step.script)
        yield found

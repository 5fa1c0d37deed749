"""IN204 shell-command-without-exec: a container's command/args run `sh -c` and keep the shell."""

from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple

from initify.checks.dockerfile.in101_shell_form_cmd import UNKNOWN_SHELL_CLAUSE, execs_anyway, unknown_shell
from initify.dockerfile import shell as shell_module
from initify.kubernetes import yaml_edit
from initify.engine import Fix, Hit
from initify.kubernetes.manifests import is_sequence
from initify.kubernetes.pods import ContainerFacts, hit_at, shells_without_exec

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN204"
NAME = "shell-command-without-exec"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = True
FIXES = True
SUMMARY = "command/args run `sh -c SCRIPT` whose last command is not exec'd (or is compound): the shell stays in front of the app"


def advice(analysis: object) -> str:
    if getattr(analysis, "compound_last", False):
        return "the script ends in a compound command; put an init in front (tini, initify-init) or move it into a script that ends in `exec`"
    return f"write `exec {str(getattr(analysis, 'last_command', '')).strip()}` as the last command"


def script_fix(loaded: Any, owners: List[Tuple[Any, str]], script: str) -> Optional[Fix]:
    """`exec` before the script's last command, in the list item (of `owners`' keys) that holds
    the script; None when that is not exact (see shell.add_exec) or the item is not found."""
    new_script = shell_module.add_exec(script)
    if new_script is None:
        return None
    for node, key in owners:
        items = node.get(key)
        if not is_sequence(items):
            continue
        for index, item in enumerate(items):
            if item == script:
                edit = yaml_edit.set_item(loaded, items, index, new_script)
                return Fix((edit,), safe=True, note="exec before the last command") if edit is not None else None
    return None


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows:
        return
    for step in shells_without_exec(subject):
        analysis = step.analysis
        line = subject.manifest_line
        where = "is PID 1" if step.pid1 or step.implicit_exec else "sits between PID 1 and the app"
        if step.implicit_exec:
            found = hit_at(
                subject.manifest.text, line,
                f"container {subject.container.name!r}: `{step.argv[0]} -c` does not write `exec`, "
                f"{execs_anyway(step)}; {advice(analysis)}",
                "info",
            )
        else:
            unknown = f" ({UNKNOWN_SHELL_CLAUSE})" if unknown_shell(step) else ""
            found = hit_at(
                subject.manifest.text, line,
                f"container {subject.container.name!r}: `{step.argv[0]} -c` does not exec its last command: the "
                f"shell {where}{unknown}, ignores SIGTERM and the app never gets the stop signal; {advice(analysis)}",
            )
        node = subject.container.node
        found.fix = script_fix(subject.manifest, [(node, "command"), (node, "args")], step.script)
        yield found


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): the script's last statement, read by regex, is not
    `exec ...` and the script does not trap TERM and wait."""
    from initify.kubernetes import admission as cel

    script = f"!SCRIPT.matches({cel.literal(cel.ends_with_exec(cel.ANY_PROGRAM))}) && !{cel.stops_on_term()}"
    return cel.PolicyCheck(
        code=CODE,
        fails=f"!variables.windows && {cel.has_command()} && {cel.bind(cel.argv(), 'a', cel.shell_script(script, behind_init=True))}",
        message=f"{CODE} {NAME}: a container's command runs `sh -c` whose script does not exec its last "
                "command: the shell ignores SIGTERM and the app never gets the stop signal; write `exec` before it",
        detail="`sh -c` does not exec its last command, so the app never gets SIGTERM; write `exec` before the last command",
    )

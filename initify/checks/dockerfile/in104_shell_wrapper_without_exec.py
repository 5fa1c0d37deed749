"""IN104 shell-wrapper-without-exec: exec form that runs `sh -c SCRIPT` and keeps the shell."""

from typing import Iterator, Optional

from initify.dockerfile import rewrite
from initify.dockerfile import shell as shell_module
from initify.engine import Fix, Hit, hit
from initify.dockerfile.shell import stops_on_term
from initify.dockerfile.facts import EXEC, ImageFacts, also_init, inherited_note
from initify.checks.dockerfile.in101_shell_form_cmd import UNKNOWN_SHELL_CLAUSE, execs_anyway, unknown_shell

CODE = "IN104"
NAME = "shell-wrapper-without-exec"
SEVERITY = "warning"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "exec form runs `sh -c SCRIPT` whose last command is not exec'd: the shell stays between the runtime and the app"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    cmd = facts.cmd
    for step in facts.chain:
        if step.kind != "shell" or step.script is None or not step.from_exec_form or step.origin is None:
            continue
        if cmd is not None and cmd.form != EXEC and step.argv == cmd.argv:
            continue  # the shell comes from a shell-form CMD behind an exec-form ENTRYPOINT: IN101/IN103
        analysis = step.analysis
        if not getattr(analysis, "ok", False) or analysis.ends_with_exec or stops_on_term(analysis):
            continue
        if facts.behind_group_init(step):
            continue  # the init signals the whole group: the app gets the stop signal anyway
        shell = step.argv[0]
        where = "is PID 1" if step.pid1 or step.implicit_exec else "sits between the init and the app"
        if analysis.compound_last:
            advice = "the script ends in a compound command; put an init in front (initify-init, tini) or move it into a script that ends in `exec`"
        else:
            advice = f"write `exec {analysis.last_command.strip()}` as the last command"
        # A wrapper that is the whole CMD (run by an entrypoint that execs "$@") is reported there.
        instruction = cmd.instruction if cmd is not None and step.argv == cmd.argv else step.origin
        fix: Optional[Fix] = None
        new_script = shell_module.add_exec(step.script)
        if new_script is not None:
            fix = rewrite.replace_script_fix(facts.dockerfile.path, facts, step.script, new_script)
        if step.implicit_exec:
            found = hit(
                instruction,
                fix=fix,
                message=f"`{shell} -c` wrapper does not write `exec`, {execs_anyway(step)}; "
                        f"{advice}{inherited_note(facts, instruction)}",
            )
            found.severity = "info"
            yield found
            continue
        unknown = f" ({UNKNOWN_SHELL_CLAUSE})" if unknown_shell(step) else ""
        yield hit(
            instruction,
            fix=fix,
            message=
            f"`{shell} -c` wrapper does not exec its last command: the shell {where}{unknown}, ignores SIGTERM "
            f"(dash forks instead of exec-ing) and the app never gets the stop signal; {advice}{also_init(facts, step)}"
            f"{inherited_note(facts, instruction)}",
        )

"""IN105 entrypoint-script-without-exec: a context script that PID 1 runs keeps the shell alive."""

import os
from typing import Iterator

from initify.dockerfile import shell as shell_module
from initify.engine import Edit, Fix, Hit, hit
from initify.dockerfile.facts import ImageFacts, also_init, inherited_note
from initify.dockerfile.shell import SHELL_BUILTINS, stops_on_term

CODE = "IN105"
NAME = "entrypoint-script-without-exec"
SEVERITY = "warning"
TARGET = "dockerfile"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "PID 1 runs a shell script from the build context whose last command is not exec (e.g. `\"$@\"`)"


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    for step in facts.chain:
        if step.kind != "script" or step.context_script is None or step.origin is None:
            continue
        analysis = step.analysis
        if not getattr(analysis, "ok", False) or analysis.ends_with_exec or stops_on_term(analysis):
            continue
        if facts.behind_group_init(step):
            continue  # the init signals the whole group: the app gets the stop signal anyway
        script = step.context_script
        last = (analysis.last_command or "").strip()
        where = f"{script.source}:{analysis.last_line}" if analysis.last_line else script.source
        if analysis.runs_args:
            advice = 'write `exec "$@"`'
        elif analysis.program in SHELL_BUILTINS:
            advice = (
                f"it ends in the shell builtin `{analysis.program}`, so nothing can be exec'd: put an init "
                f"in front (it forwards signals to the whole group and reaps), or exec the main program"
            )
        elif last and not analysis.compound_last:
            advice = f"write `exec {last}`"
        else:
            advice = "end it with `exec` of the main program, or put an init in front"
        if step.pid1:
            position = "as PID 1"
        elif step.behind_shell:
            position = "as the child of a shell that does not exec it"
        else:
            position = "behind the init"
        if analysis.branch:
            where += f", in the `{analysis.branch}` branch"
        trap = ""
        if analysis.cleanup_trap and analysis.trap_action is not None:
            trap = (f"; its trap on the stop signal ({analysis.trap_action}) only cleans up and stops no child, "
                    f"so the children are SIGKILLed when the shell exits")
        fix = None
        new_text = shell_module.add_exec(script.text) if script.context_path is not None else None
        if new_text is not None:
            fix = Fix((Edit(script.context_path, text=new_text, whole_file=True),), True, f"added `exec` in {os.path.relpath(script.context_path)}")
        yield hit(
            step.origin,
            fix=fix,
            message=
            f"{script.image_path} (from {where}) runs {position} and its last command `{last or '?'}` is not "
            f"exec'd: the shell stays the parent and the app never receives SIGTERM{trap}; {advice}{also_init(facts, step)}"
            f"{inherited_note(facts, step.origin)}",
        )

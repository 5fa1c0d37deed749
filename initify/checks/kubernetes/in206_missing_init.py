"""IN206 missing-init (Kubernetes): what `command`/`args` make PID 1 is a shell, script or launcher."""

import os
from typing import TYPE_CHECKING, Iterator, List, Optional

from initify.kubernetes import yaml_edit
from initify.knowledge import signals
from initify.engine import Fix, Hit
from initify.dockerfile.facts import Step, init_child_argv, pid1_after_fixes
from initify.dockerfile.shell import stops_on_term
from initify.kubernetes.manifests import is_sequence
from initify.kubernetes.pods import ContainerFacts, hit_at

if TYPE_CHECKING:
    from initify.kubernetes.admission import PolicyCheck

CODE = "IN206"
NAME = "missing-init"
SEVERITY = "warning"
TARGET = "container"
FIXABLE = True
FIX_SAFETY = "safe/unsafe"
FIXES = True
SUMMARY = "a container's command/args make a shell, script or launcher PID 1 (or drop the image's init) and no init is in front"

_WHAT = {
    "shell": "a shell",
    "script": "a shell script",
    "launcher": "a launcher",
}


def _init_dropped(subject: ContainerFacts) -> bool:
    """`command` replaced an ENTRYPOINT whose PID 1 was an init that supervises its argv."""
    if subject.source != "command" or not subject.image_chain:
        return False
    first = subject.image_chain[0]
    return first.kind == "init" and first.init is not None and first.init.supervises_argv


def _image_init(subject: ContainerFacts) -> Optional[Step]:
    """The image's PID 1 when it is an init that supervises its argv (tini, initify-init...)."""
    if not subject.image_chain:
        return None
    first = subject.image_chain[0]
    if first.kind != "init" or first.init is None or not first.init.supervises_argv:
        return None
    return first


def _init_prefix(step: Step) -> List[str]:
    """The init and its own options (`--` included) in front of the argv it supervises."""
    assert step.init is not None
    child = init_child_argv(step.init, step.argv[1:])
    return list(step.argv[: len(step.argv) - len(child)])


def _on_disk(subject: ContainerFacts, prefix: List[str]) -> bool:
    """Whether the Dockerfile as it is on disk (not as `initify fix` plans it) starts PID 1 with
    the same init: then the init is certainly in the image."""
    from initify.dockerfile import parser as dockerfile_module
    from initify.dockerfile import facts as facts_module

    path = subject.dockerfile
    if path is None or subject.image is None:
        return False
    if os.path.abspath(path) not in subject.image.planned_files:
        return True
    original = facts_module.analyse_image(dockerfile_module.read(path), context_dir=subject.image.context_dir)
    if original is None or not original.chain:
        return False
    first = original.chain[0]
    return first.kind == "init" and first.init is not None and _init_prefix(first) == prefix


def _fix(subject: ContainerFacts) -> Optional[Fix]:
    """`command` starting with the image's init; unsafe unless the Dockerfile on disk already has
    that init as PID 1 with no options of its own (they were chosen for the image's command)."""
    init = _image_init(subject)
    command = subject.container.node.get("command")
    if subject.source != "command" or init is None or not is_sequence(command) or not len(command):
        return None
    prefix = _init_prefix(init)
    edit = yaml_edit.prepend_items(subject.manifest, command, prefix)
    if edit is None:
        return None
    certain = _on_disk(subject, prefix)
    safe = certain and prefix[1:] in ([], ["--"])
    where = "the image's init" if certain else "the init `initify fix` puts into the image (rebuild it first)"
    return Fix((edit,), safe=safe, note=f"command starts with {' '.join(prefix)}, {where}")


def _reported_elsewhere(subject: ContainerFacts, pid1: Step) -> bool:
    """Whether the shell or script that is PID 1 is the cause another finding reports and fixes
    so that the program becomes PID 1 (IN204 for a `sh -c` of the manifest, IN105 for a script of
    the image's own chain), or a deliberate signal handler, or a script whose tail is unknown."""
    if pid1.kind not in ("shell", "script"):
        return False
    if not getattr(pid1.analysis, "ok", True) or stops_on_term(pid1.analysis):
        return True
    after = pid1_after_fixes(subject.chain)
    if after is pid1 or after is None or after.kind in ("shell", "script"):
        return False
    if pid1.kind == "shell":
        return pid1.script is not None  # IN204
    image_scripts = {step.context_script.image_path for step in subject.image_chain if step.context_script is not None}
    return pid1.context_script is not None and pid1.context_script.image_path in image_scripts  # IN105


def check(subject: ContainerFacts) -> Iterator[Hit]:
    if not subject.running or subject.windows or subject.pod.share_process_namespace:
        return
    pid1 = subject.pid1
    if pid1 is None or pid1.kind == "init":
        return
    line = subject.manifest_line
    name = subject.container.name
    if pid1.kind in _WHAT and subject.manifest_made(pid1) and not _reported_elsewhere(subject, pid1):
        program = pid1.context_script.image_path if pid1.context_script is not None else pid1.argv[0]
        if pid1.kind == "launcher":
            why = f"{signals.launcher_problem(program)} (tini, dumb-init, initify-init)"
        else:
            why = ("it ignores SIGTERM and reaps no orphans; put an init in front (tini, dumb-init, initify-init), "
                   "exec the app directly")
        found = hit_at(
            subject.manifest.text, line,
            f"container {name!r}: {subject.source} makes PID 1 {_WHAT[pid1.kind]} ({program}): {why}, "
            f"or set `shareProcessNamespace: true` so the pause container reaps",
        )
        found.fix = _fix(subject)
        yield found
    elif _init_dropped(subject):
        init = subject.image_chain[0].argv[0]
        found = hit_at(
            subject.manifest.text, line,
            f"container {name!r}: `command` replaces the image ENTRYPOINT, so its init ({init}) is gone and "
            f"{pid1.argv[0]} runs as PID 1; put the app in `args` only, or start `command` with the init",
        )
        found.fix = _fix(subject)
        yield found


def policy() -> "PolicyCheck":
    """Policy form (see `initify policy`): `command` makes a shell or a launcher PID 1 (a shell
    whose `-c` script ends by exec-ing a program spelled out is not PID 1) and nothing reaps."""
    from initify.kubernetes import admission as cel

    from initify.dockerfile.shell import RESERVED_WORDS, SHELL_BUILTINS

    a = "a"
    # A `-c` script leaves the shell as PID 1 with nothing else to report unless it execs a
    # program (PID 1 handed over) or an expansion (not known), traps TERM deliberately, or ends in
    # a simple command of a program: IN204 reports that one, and its fix (`exec` before it) makes
    # the program PID 1 (one finding per cause).
    execs = (f"SCRIPT.matches({cel.literal(cel.ends_with_exec(cel.ANY_PROGRAM))}) && "
             f"!SCRIPT.matches({cel.literal(cel.ends_with_exec(cel.program_rx(cel.launchers() + cel.shells())))})")
    not_a_program = sorted(set(RESERVED_WORDS) | set(SHELL_BUILTINS) | set(cel.shells()))
    fixable = (f"SCRIPT.matches({cel.literal(cel.ends_with_command(cel.KNOWN_PROGRAM))}) && "
               f"!SCRIPT.matches({cel.literal(cel.ends_with_command(cel.program_rx(not_a_program)))})")
    moot = f"({execs}) || {cel.stops_on_term()} || ({fixable})"
    pid1 = (f"{cel.is_program(cel.at(a, 0), cel.launchers())} || "
            f"({cel.is_program(cel.at(a, 0), cel.shells())} && !{cel.shell_script(moot, a)})")
    return cel.PolicyCheck(
        code=CODE,
        fails=f"!variables.windows && !variables.sharedPids && {cel.has_command()} && {cel.bind(cel.argv(), a, pid1)}",
        message=f"{CODE} {NAME}: a container's command makes a shell or launcher PID 1 with no init in "
                "front: it ignores SIGTERM and reaps no orphans; put an init in front (tini, dumb-init) or exec the app",
        detail="command makes a shell or launcher PID 1 and no init is in front; put an init in front or exec the app",
    )

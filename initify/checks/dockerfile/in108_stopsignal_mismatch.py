"""IN108 stopsignal-mismatch: a known daemon gets a signal that is not its graceful stop."""

from typing import Iterator, Optional

from initify.knowledge import loader as knowledge
from initify.knowledge import signals
from initify.dockerfile import rewrite
from initify.engine import Hit, hit
from initify.dockerfile.facts import ImageFacts, pid1_after_fixes, Step

CODE = "IN108"
NAME = "stopsignal-mismatch"
SEVERITY = "warning"
TARGET = "dockerfile"
FIXABLE = True
FIXES = True
SUMMARY = "PID 1 is a known daemon and STOPSIGNAL is not its graceful stop signal (nginx SIGQUIT, postgres SIGINT...)"


def _rewritten(init_step: Optional[Step], signal: str) -> str:
    """The signal an init passes on after its own --rewrite FROM:TO options (initify-init, dumb-init)."""
    if init_step is None or init_step.init is None:
        return signal
    args = init_step.argv[1:]
    for index, arg in enumerate(args):
        value = None
        if arg in ("--rewrite", "-r") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--rewrite="):
            value = arg.split("=", 1)[1]
        if value and ":" in value:
            source, target = value.split(":", 1)
            if signals.normalise(source) == signal and signals.normalise(target):
                return signals.normalise(target)
    return signal


def inherited_stop_signal(facts: ImageFacts) -> Optional[str]:
    """The STOPSIGNAL of the older official-images list, for a base whose image facts do not say
    (the image facts, real or from the table, are already in `facts.stopsignal`)."""
    info = facts.base_info
    if info is not None and info.known("stopsignal"):  # type: ignore[attr-defined]
        return None
    return knowledge.load().image_stop_signal(facts.base_image)


def check(facts: ImageFacts) -> Iterator[Hit]:
    if facts.windows:
        return
    main = facts.main
    if main is None or main.kind != "program" or main.origin is None:
        return
    # Behind a shell that does not exec it, the daemon gets the stop signal once that shell is
    # fixed (IN101-IN105 report it, their fix makes the daemon PID 1): judge it now.
    after_fixes = main.behind_shell and pid1_after_fixes(facts.chain) is main
    if main.behind_shell and not after_fixes and not facts.behind_group_init(main):
        return
    daemon = knowledge.load().daemon_for(main.argv[0])
    if daemon is None or daemon.key == "systemd":
        return
    pid1 = facts.pid1
    reachable = main.pid1 or after_fixes or (pid1 is not None and pid1.kind == "init")
    if not reachable or (facts.stopsignal is not None and facts.stopsignal.unresolved):
        return
    sent = facts.delivered_signal
    stopsignal = facts.stopsignal
    got = f"STOPSIGNAL {stopsignal.raw}" if stopsignal is not None else "no STOPSIGNAL (SIGTERM)"
    if stopsignal is not None and stopsignal.inherited:
        got = f"STOPSIGNAL {stopsignal.raw} from its base image {facts.base_image} ({stopsignal.inherited})"
    inherited = inherited_stop_signal(facts) if stopsignal is None else None
    if inherited is not None:
        sent = inherited
        got = f"STOPSIGNAL {inherited} from its base image {facts.base_image}"
    delivered = _rewritten(pid1 if pid1 is not None and pid1.kind == "init" else None, sent)
    if delivered == daemon.stop_signal:
        return
    where = stopsignal.instruction if stopsignal is not None and not stopsignal.inherited else main.origin
    fix = None
    if delivered == sent:  # an init's --rewrite would turn the new signal into something else
        fix = rewrite.stopsignal_fix(facts.dockerfile.path, facts, daemon.stop_signal, f"STOPSIGNAL {daemon.stop_signal} for {daemon.key}")
    yield hit(
        where,
        f"{daemon.key} stops gracefully on {daemon.stop_signal}, but the image has {got}"
        f"{' rewritten to ' + delivered if delivered != sent else ''}: in-flight work is cut off; "
        f"use `STOPSIGNAL {daemon.stop_signal}` ({daemon.source.split(':')[0]})",
        fix=fix,
    )

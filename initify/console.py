"""The `initify` console script (and `python -m initify`): the click CLI run as a short-lived process.

A pre-commit hook starts `initify lint` on every commit, so start-up and exit time are most of its
run time. Two things here save about 10 ms of the ~55 a one-file lint takes:

- No cyclic garbage collection while modules load: imports allocate many objects and none of
  them is garbage, yet they trigger collections. The loaded modules are then frozen out of
  later collections (`gc.freeze`), so collecting during the work stays cheap.
- No interpreter tear-down after a read-only command (`lint`, `rules`): the output is flushed and
  the process ends with `os._exit`, skipping the freeing of every module and object. Commands
  that write files, build images or clean up temporary folders end the normal way.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import List, Optional

READ_ONLY_COMMANDS = ("lint", "rules")


def command_name(argv: List[str]) -> Optional[str]:
    """The subcommand in `argv` (the group's own options, --help and --version, take no value)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def exit_status(code: object) -> int:
    """The process exit status `sys.exit(code)` gives (a message goes to stderr first)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def main() -> None:
    gc.disable()
    from initify import cli

    gc.freeze()
    gc.enable()
    try:
        cli.main(prog_name="initify")
    except SystemExit as end:
        if command_name(sys.argv[1:]) not in READ_ONLY_COMMANDS:
            raise
        status = exit_status(end.code)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`initify lint | head`): nothing to keep
                pass
        os._exit(status)

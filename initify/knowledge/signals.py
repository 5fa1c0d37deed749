"""Linux signal names and numbers, as container runtimes spell them.

Numbers follow the Linux x86/arm table that Docker, containerd and CRI-O use; the real-time range
starts at SIGRTMIN = 34 (glibc reserves 32 and 33), so `SIGRTMIN+3` is 37. Names are written with the
SIG prefix because containerd < 1.6 only parsed prefixed names.
"""

from __future__ import annotations

from typing import Dict, Optional

SIGRTMIN = 34
SIGRTMAX = 64

STANDARD: Dict[str, int] = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
    "SIGIOT": 6, "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11,
    "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16,
    "SIGCHLD": 17, "SIGCLD": 17, "SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21,
    "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26,
    "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPOLL": 29, "SIGPWR": 30, "SIGSYS": 31,
}

# One preferred name per standard number (aliases such as SIGIOT map to their usual name).
_PREFERRED: Dict[int, str] = {}
for _name, _number in STANDARD.items():
    _PREFERRED.setdefault(_number, _name)

UNCATCHABLE = frozenset({"SIGKILL", "SIGSTOP"})


def launcher_problem(program: str) -> str:
    """Why a package-manager launcher as PID 1 loses the stop signal, in words true for it.

    npm does forward SIGTERM, but to the `sh -c` it runs the package script with; dash (Debian's
    /bin/sh) does not pass it on to node. The other launchers are described without that claim."""
    name = program.rsplit("/", 1)[-1]
    if name in ("npm", "npx"):
        return (f"{name} forwards SIGTERM to the `sh -c` that runs the package script, but that shell (dash on "
                f"Debian) does not forward it to node, and nothing reaps orphaned children; run "
                f"`node server.js` directly (with a SIGTERM handler) or put an init in front")
    return (f"{name} runs the program as a child and does not forward SIGTERM to it, and nothing reaps "
            f"orphaned children; run the program directly (with a SIGTERM handler) or put an init in front")


def runtime_risk(spelling: str) -> Optional[str]:
    """Which runtimes Kubernetes still meets mishandle an image STOPSIGNAL written `spelling`, in
    words; None when every containerd and CRI-O since 2017 delivers it (a SIG-prefixed name of
    the standard table). containerd < 1.6 parsed only numbers and SIG-prefixed standard names;
    CRI-O 1.18 to 1.22.1 turned anything but a SIG-prefixed standard name into SIGTERM."""
    value = spelling.strip().upper()
    if value.isdigit():
        return "CRI-O 1.18 to 1.22.1 silently send SIGTERM for a signal number"
    if value in STANDARD and _PREFERRED[STANDARD[value]] == value:
        return None
    if not value.startswith("SIG"):
        return (f"containerd < 1.6 cannot parse {spelling.strip()} without the SIG prefix and CRI-O 1.18 to "
                f"1.22.1 silently send SIGTERM instead")
    return (f"containerd < 1.6 cannot parse {value} and CRI-O 1.18 to 1.22.1 silently send SIGTERM instead")


def name_of(number: int) -> Optional[str]:
    """Canonical name for a signal number: 37 -> 'SIGRTMIN+3', 64 -> 'SIGRTMAX'."""
    if number in _PREFERRED:
        return _PREFERRED[number]
    if number == SIGRTMIN:
        return "SIGRTMIN"
    if number == SIGRTMAX:
        return "SIGRTMAX"
    if SIGRTMIN < number <= SIGRTMIN + 15:
        return f"SIGRTMIN+{number - SIGRTMIN}"
    if SIGRTMIN + 15 < number < SIGRTMAX:
        return f"SIGRTMAX-{SIGRTMAX - number}"
    return None


def number_of(text: str) -> Optional[int]:
    """Parse `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+3`, `SIGRTMAX-2`; None when not a signal."""
    value = text.strip().upper()
    if not value:
        return None
    if value.isdigit():
        number = int(value)
        return number if name_of(number) else None
    if not value.startswith("SIG"):
        value = "SIG" + value
    if value in STANDARD:
        return STANDARD[value]
    for base, start, sign in (("SIGRTMIN", SIGRTMIN, 1), ("SIGRTMAX", SIGRTMAX, -1)):
        if value == base:
            return start
        if value.startswith(base) and len(value) > len(base) + 1:
            op, offset = value[len(base)], value[len(base) + 1:]
            if offset.isdigit() and op == ("+" if sign > 0 else "-"):
                number = start + sign * int(offset)
                if SIGRTMIN <= number <= SIGRTMAX:
                    return number
    return None


def normalise(text: str) -> Optional[str]:
    """The canonical SIG-prefixed name of a signal written any accepted way, or None."""
    number = number_of(text)
    return None if number is None else name_of(number)

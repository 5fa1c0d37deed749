#!/usr/bin/env python3
"""initify-init: a small PID 1 for containers, in one standard-library file.

It runs a command as its child in a new session, forwards the signals it
receives to the child's process group, reaps every zombie, and exits with the
child's status. See docs/init.md for the options and the trade-offs.

Constraints: Python 3.6 syntax, standard library only, nothing imported from
the rest of initify, and it must run on a minimal python3 (Debian's
python3-minimal has no ctypes, shlex or termios). The whole file is compiled
at every start and that costs memory, so the code is kept short.
"""

import errno
import os
import sys
import time

try:  # the C module: the `signal` wrapper imports enum, about 1 MiB more
    import _signal as signal
except ImportError:  # pragma: no cover
    import signal  # type: ignore

TYPE_CHECKING = False
if TYPE_CHECKING:  # for type checkers only: typing costs memory at run time
    from typing import Dict, List, Optional, Tuple  # noqa: F401

SYNOPSIS = """\
usage: initify-init [--grace SECONDS] [--rewrite FROM:TO]... [--single-child]
                    [--subreaper] [--also 'COMMAND ARGS']...
                    [--pre-stop 'COMMAND ARGS'] [--verbose] [--] COMMAND [ARG...]
"""
HELP = SYNOPSIS + """
Run COMMAND as the child of a minimal init: forward signals to its process
group, reap zombies, exit with its status (128+N when killed by signal N).

  --grace SECONDS      SIGKILL everything SECONDS after the first stop signal
                       (TERM, INT, QUIT), and wait that long (else 2 s) for
                       the rest of the group once COMMAND exits; default off
  --rewrite FROM:TO    forward FROM as TO (TO 0 drops it), e.g. TERM:RTMIN+3
  --single-child       forward signals to the child only, not to its group
  --subreaper          when not PID 1, fail if it cannot become a subreaper
  --also 'CMD ARGS'    supervise one more program (words split as a shell
                       would, but no shell runs); may be repeated
  --pre-stop 'CMD ARGS'  run this before forwarding the first stop signal
  --verbose            log signals, reaped processes and the final status

Environment: INITIFY_GRACE, INITIFY_REWRITE (FROM:TO,...), INITIFY_VERBOSE,
INITIFY_SUBREAPER (1/0); options win. Signals: TERM, SIGTERM, 15, RTMIN+3.
"""

SIGRTMIN = getattr(signal, "SIGRTMIN", 34)
SIGRTMAX = getattr(signal, "SIGRTMAX", 64)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
TTY_STOP_SIGNALS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
UNCATCHABLE = (signal.SIGKILL, signal.SIGSTOP)
ALIASES = ("SIGCLD", "SIGPOLL", "SIGIOT")  # never shown: SIGCHLD, SIGIO, SIGABRT are
LEFTOVER_WAIT = 2.0  # seconds the rest of the group gets when no grace is set
VERBOSE = False


class UsageError(Exception):
    """A bad command line or environment variable: usage, exit 2."""


class Config(object):
    """What the command line and the environment asked for."""

    def __init__(self) -> None:
        self.grace = None  # type: Optional[float]
        self.rewrite = {}  # type: Dict[int, int]
        self.single_child = self.subreaper = self.verbose = False
        self.also = []  # type: List[List[str]]
        self.pre_stop = []  # type: List[str]
        self.command = []  # type: List[str]


def say(message: str) -> None:
    """One line on stderr, never raising (stderr may be closed)."""
    try:
        os.write(2, ("initify-init: %s\n" % message).encode("utf-8", "replace"))
    except OSError:
        pass


def log(message: str) -> None:
    """One line on stderr with --verbose only."""
    if VERBOSE:
        say(message)


# --- signals by name ------------------------------------------------------

# Linux signals that the signal module of an older Python does not name
# (SIGSTKFLT arrived in 3.11); the init runs on whatever python3 an image has.
UNNAMED_BEFORE_PY311 = {"SIGSTKFLT": 16}


def signal_numbers() -> "Dict[str, int]":
    """TERM, RTMIN+3, RTMAX-1... (upper case, no SIG prefix) to numbers."""
    numbers = {name[3:]: int(getattr(signal, name)) for name in dir(signal)
               if name.startswith("SIG") and "_" not in name}
    for name, number in UNNAMED_BEFORE_PY311.items():
        numbers.setdefault(name[3:], number)
    for offset in range(SIGRTMAX - SIGRTMIN + 1):
        numbers["RTMIN+%d" % offset] = SIGRTMIN + offset
        numbers["RTMAX-%d" % offset] = SIGRTMAX - offset
    return numbers


def parse_signal(text: str, allow_zero: bool = False) -> int:
    """TERM, SIGTERM, term, 15, RTMIN+3 or SIGRTMIN+3 as a number."""
    word = text.strip().upper()
    number = int(word) if word.isdigit() else signal_numbers().get(word[3:] if word.startswith("SIG") else word)
    if number is None or not (0 < number <= SIGRTMAX or (number == 0 and allow_zero)):
        raise UsageError("no such signal: %r" % text)
    return number


def signal_name(number: int) -> str:
    """SIGTERM, SIGRTMIN+3, or "signal N"."""
    if SIGRTMIN < number <= SIGRTMAX:
        return "SIGRTMIN+%d" % (number - SIGRTMIN)
    names = sorted(name for name in dir(signal) if name.startswith("SIG") and "_" not in name
                   and name not in ALIASES and getattr(signal, name) == number)
    names += [name for name, value in UNNAMED_BEFORE_PY311.items() if value == number and name not in names]
    return names[0] if names else "signal %d" % number


# --- command line -----------------------------------------------------------

def split_words(text: str) -> "List[str]":
    """Split a command into words as a POSIX shell would, with no expansion.

    Blanks separate words; 'single quotes' keep everything; "double quotes"
    keep everything but a backslash before \\ " $ or `; a backslash outside
    quotes keeps the next character. An open quote is a UsageError.
    """
    words = []  # type: List[str]
    word = None  # type: Optional[str]   # None: between words
    quote = ""
    chars = iter(text)
    for char in chars:
        if char == "\\" and quote != "'":
            char = next(chars, "")
            if quote and char not in '\\"$`':
                char = "\\" + char
        elif char == quote:
            quote = ""
            continue
        elif char in "'\"" and not quote:
            quote, word = char, word or ""
            continue
        elif char in " \t\n" and not quote:
            if word is not None:
                words.append(word)
            word = None
            continue
        word = (word or "") + char
    if quote:
        raise UsageError("unterminated quote in %r" % text)
    return words if word is None else words + [word]


def parse_grace(text: str) -> "Optional[float]":
    """Seconds >= 0; 0, off or none mean no grace."""
    try:
        seconds = 0.0 if text.strip().lower() in ("off", "none") else float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e9:
        raise UsageError("--grace wants seconds, not %r" % text)
    return seconds or None


def parse_rewrite(config: Config, text: str) -> None:
    """FROM:TO into config.rewrite; TO may be 0 (drop)."""
    source, colon, target = text.partition(":")
    number = parse_signal(source)
    if not colon or number in UNCATCHABLE or number == signal.SIGCHLD:
        raise UsageError("bad --rewrite %r" % text)
    config.rewrite[number] = parse_signal(target, allow_zero=True)


def parse_flag(name: str, environ: "Dict[str, str]") -> bool:
    """A yes/no environment variable (unset is no)."""
    word = environ.get(name, "").strip().lower()
    if word not in ("", "0", "1", "no", "yes", "false", "true", "off", "on"):
        raise UsageError("%s wants 1 or 0, not %r" % (name, word))
    return word in ("1", "yes", "true", "on")


def parse_option(config: Config, option: str, value: str) -> None:
    """Apply one option that takes a value."""
    if option == "--grace":
        config.grace = parse_grace(value)
    elif option == "--rewrite":
        parse_rewrite(config, value)
    else:
        words = split_words(value)
        if not words:
            raise UsageError("%s needs a command" % option)
        if option == "--also":
            config.also.append(words)
        else:
            config.pre_stop = words


def parse_args(args: "List[str]", environ: "Dict[str, str]") -> Config:
    """The Config from argv (without argv[0]) and the environment.

    Raises UsageError when something is wrong, SystemExit for --help.
    """
    config = Config()
    if "INITIFY_GRACE" in environ:
        config.grace = parse_grace(environ["INITIFY_GRACE"])
    for item in environ.get("INITIFY_REWRITE", "").split(","):
        if item.strip():
            parse_rewrite(config, item)
    config.verbose = parse_flag("INITIFY_VERBOSE", environ)
    config.subreaper = parse_flag("INITIFY_SUBREAPER", environ)
    args = list(args)
    while args and args[0].startswith("-") and args[0] != "-":
        option, equals, value = args.pop(0).partition("=")
        if option == "--":
            break
        elif option in ("-h", "--help"):
            sys.stdout.write(HELP)
            raise SystemExit(0)
        elif option in ("--single-child", "--subreaper", "--verbose") and not equals:
            setattr(config, option[2:].replace("-", "_"), True)
        elif option in ("--grace", "--rewrite", "--also", "--pre-stop"):
            if not equals:
                if not args:
                    raise UsageError("%s needs a value" % option)
                value = args.pop(0)
            parse_option(config, option, value)
        else:
            raise UsageError("bad option %s" % (option + equals))
    if not args:
        raise UsageError("missing COMMAND")
    config.command = args
    return config


# --- waiting for signals ----------------------------------------------------

def install_handlers(handler: object) -> "List[int]":
    """Give every catchable signal a handler; the numbers that took one.

    A PID 1 needs them: the kernel drops a signal sent to a PID 1 that
    leaves it at its default action.
    """
    installed = []  # type: List[int]
    for number in range(1, SIGRTMAX + 1):
        if number not in UNCATCHABLE:
            try:
                signal.signal(number, handler)
                installed.append(number)
            except (OSError, RuntimeError, ValueError):
                pass  # e.g. 32 and 33, kept by glibc
    return installed


class SignalWaiter(object):
    """Every signal blocked and taken in turn with sigtimedwait: no polling."""

    def __init__(self) -> None:
        self.signals = install_handlers(lambda number, frame: None)  # never run: blocked
        signal.pthread_sigmask(signal.SIG_BLOCK, self.signals)

    def wait(self, timeout: "Optional[float]") -> "Tuple[int, int]":
        """(signal, sender pid), or (0, 0) when timeout seconds pass."""
        if timeout is None:
            info = signal.sigwaitinfo(self.signals)
        else:
            info = signal.sigtimedwait(self.signals, max(timeout, 0.0))
        return (info.si_signo, info.si_pid) if info else (0, 0)


class PipeWaiter(object):
    """Fallback without sigtimedwait: handlers, a wakeup pipe and select."""

    def __init__(self) -> None:
        import select
        self.select = select.select
        self.pending = []  # type: List[int]
        self.pipe = os.pipe()
        for end in self.pipe:
            os.set_blocking(end, False)
        signal.set_wakeup_fd(self.pipe[1])
        self.signals = install_handlers(lambda number, frame: self.pending.append(number))

    def wait(self, timeout: "Optional[float]") -> "Tuple[int, int]":
        """(signal, 0), or (0, 0) when timeout seconds pass."""
        if not self.pending:
            self.select([self.pipe[0]], [], [], None if timeout is None else max(timeout, 0.0))
            try:
                os.read(self.pipe[0], 512)
            except OSError:
                pass
        return (self.pending.pop(0), 0) if self.pending else (0, 0)


# --- processes ----------------------------------------------------------------

def exit_status(status: int) -> int:
    """A wait status as a shell reports it: the code, or 128+signal."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def exec_child(argv: "List[str]", handled: "List[int]") -> None:
    """In the forked child: default signals, new session, exec. Never returns."""
    code = 126
    try:
        for number in handled:
            signal.signal(number, signal.SIG_DFL)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.setsid()
        if os.isatty(0):
            take_terminal()
        os.execvp(argv[0], argv)
    except OSError as error:
        code = 127 if error.errno in (errno.ENOENT, errno.ENOTDIR) else 126
        say("cannot run %s: %s" % (argv[0], "command not found" if code == 127 else error.strerror))
    finally:  # never let a child run the init's own code
        os._exit(code)


def take_terminal() -> None:
    """Make stdin our controlling terminal if no other session holds it.

    When the init's session holds it, this fails: the terminal then signals
    the init, which relays to the child.
    """
    try:
        import fcntl
        fcntl.ioctl(0, 0x540E, 0)  # TIOCSCTTY on Linux (termios may be missing)
    except (ImportError, OSError):
        pass


def spawn(argv: "List[str]", handled: "List[int]") -> int:
    """Fork and exec argv in its own session and process group; its pid."""
    pid = os.fork()
    if pid == 0:
        exec_child(argv, handled)
    log("started %s as %d" % (argv[0], pid))
    return pid


def send(target: int, number: int, group: bool = True) -> bool:
    """Signal a process group (or a process); False when it is gone."""
    try:
        (os.killpg if group else os.kill)(target, number)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists


def catches(pid: int, number: int) -> bool:
    """Whether a process has a handler for a signal (SigCgt in /proc)."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (number - 1) & 1)
    except (OSError, ValueError):
        pass
    return True  # unknown: do not stop it by force


def become_subreaper() -> bool:
    """prctl(PR_SET_CHILD_SUBREAPER): orphans come back to us, not to PID 1."""
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


class Init(object):
    """The supervisor: the programs, signals, the grace and the exit."""

    def __init__(self, config: Config, waiter: "SignalWaiter") -> None:
        self.config = config
        self.waiter = waiter
        self.programs = {}  # type: Dict[int, str]   # pid -> name, while alive
        self.groups = []  # type: List[int]          # their process groups, while not empty
        self.status = None  # type: Optional[int]    # of the first program to exit
        self.stopping = False
        self.pre_stop = 0  # pid of the --pre-stop command while it runs
        self.held = []  # type: List[int]            # stop signals waiting for it
        self.kill_at = None  # type: Optional[float]

    def start(self) -> None:
        for argv in [self.config.command] + self.config.also:
            pid = spawn(argv, self.waiter.signals)
            self.programs[pid] = argv[0]
            self.groups.append(pid)

    def run(self) -> int:
        """Handle signals until the programs and their groups are gone."""
        while not self.finished():
            timeout = None if self.kill_at is None else self.kill_at - time.monotonic()
            number, sender = self.waiter.wait(timeout)
            if number == signal.SIGCHLD:
                self.reap()
            elif number:
                self.on_signal(number, sender)
            elif self.kill_at is not None and time.monotonic() >= self.kill_at:
                self.kill_all()
        return self.status or 0

    def finished(self) -> bool:
        if self.status is None or self.pre_stop:
            return False
        self.groups = [group for group in self.groups if send(group, 0)]
        return not self.groups

    def reap(self) -> None:
        """Collect every child that exited, orphans included (a hot loop)."""
        waitpid, nohang, programs = os.waitpid, os.WNOHANG, self.programs
        while True:
            try:
                pid, status = waitpid(-1, nohang)
            except ChildProcessError:
                return
            if not pid:
                return
            if VERBOSE:
                say("reaped %d (status %d)" % (pid, exit_status(status)))
            if pid in programs:
                self.on_exit(programs.pop(pid), exit_status(status))
            elif pid == self.pre_stop:
                self.pre_stop = 0
                held, self.held = self.held, []
                for number in held:
                    self.forward(number)

    def on_signal(self, number: int, sender: int) -> None:
        if number == signal.SIGPIPE and sender == os.getpid():
            return  # our own write to a closed stderr
        if VERBOSE:
            say("received %s" % signal_name(number))
        target = self.config.rewrite.get(number, number)
        if number in STOP_SIGNALS and not self.stopping and self.status is None:
            self.stopping = True  # the first stop: grace, --pre-stop
            if self.config.grace:
                self.arm(self.config.grace)
            if self.config.pre_stop:
                self.pre_stop = spawn(self.config.pre_stop, self.waiter.signals)
        if number in STOP_SIGNALS and self.pre_stop:
            self.held.append(target)
            return
        self.forward(target)
        if number in TTY_STOP_SIGNALS and target:  # rewritten to 0: ignored
            self.suspend(number, target)

    def suspend(self, number: int, target: int) -> None:
        """Job control: stop the programs' groups and the init itself.

        The programs run in their own sessions, so their groups are orphaned
        and the kernel drops TSTP/TTIN/TTOU for a process that does not
        handle them: such a group gets SIGSTOP, as its default action would
        have done. SIGCONT later resumes the init and is forwarded.
        """
        for pid in self.programs:
            if target == number and not catches(pid, number):
                send(pid, signal.SIGSTOP, not self.config.single_child)
        log("suspending")
        os.kill(os.getpid(), signal.SIGSTOP)  # no effect on a namespace's PID 1

    def on_exit(self, name: str, status: int) -> None:
        """The first program to exit gives the status; the others stop."""
        if self.status is not None:
            return
        self.status = status
        log("%s exited first with status %d" % (name, status))
        self.forward(self.config.rewrite.get(signal.SIGTERM) or signal.SIGTERM, True)
        self.forward(signal.SIGCONT, True)  # a stopped process would not see it
        self.arm(self.config.grace or LEFTOVER_WAIT)

    def kill_all(self) -> None:
        log("grace over: SIGKILL")
        self.kill_at = None
        if self.pre_stop:
            send(self.pre_stop, signal.SIGKILL)
            self.pre_stop = 0
        self.forward(signal.SIGKILL, True)
        if self.status is not None:
            self.groups = []  # what was left was just killed: done

    def arm(self, seconds: float) -> None:
        """SIGKILL everything after seconds, unless a kill is due sooner."""
        deadline = time.monotonic() + seconds
        if self.kill_at is None or deadline < self.kill_at:
            self.kill_at = deadline

    def forward(self, number: int, to_groups: bool = False) -> None:
        """Signal each group (only each program with --single-child)."""
        group = to_groups or not self.config.single_child
        for target in list(self.groups if group else self.programs):
            if number and send(target, number, group) and VERBOSE:
                say("forwarded %s to %s %d" % (signal_name(number), "group" if group else "pid", target))


def main(argv: "Optional[List[str]]" = None) -> int:
    """Parse, start, supervise; the status to exit with."""
    global VERBOSE
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv, dict(os.environ))
    except UsageError as error:
        say("%s\n%s(see --help)" % (error, SYNOPSIS))
        return 2
    VERBOSE = config.verbose
    if os.getpid() != 1 and not become_subreaper():
        if config.subreaper:
            say("cannot become a child subreaper (needs Linux >= 3.4 and ctypes)")
            return 1
        say("warning: not PID 1 and cannot become a child subreaper: orphans will not be reaped")
    usable = hasattr(signal, "sigtimedwait") and not os.environ.get("INITIFY_NO_SIGWAIT")
    init = Init(config, SignalWaiter() if usable else PipeWaiter())  # type: ignore
    init.start()
    status = init.run()
    log("exiting with status %d" % status)
    return status


if __name__ == "__main__":
    os._exit(main())  # stdout is untouched; skip the interpreter's clean-up

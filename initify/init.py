#!/usr/bin/env python3
"""initify-init: a small PID 1 for containers, in one standard-library file.

It runs a command as its child, forwards the signals it receives to the
child's process group, reaps every zombie, and exits with the child's status.
See docs/init.md for the options and the trade-offs.

This file must keep working on any python3 >= 3.6 found in an image, even a
minimal one (Debian's python3-minimal has no ctypes, shlex or termios): it uses
Python 3.6 syntax only and imports nothing outside the standard library, and
optional modules are imported lazily with a fallback.
"""

import errno
import os
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # for type checkers only; typing costs memory at run time
    from typing import Dict, List, Optional, Tuple  # noqa: F401

PROG = "initify-init"
VERSION = "1"

SYNOPSIS = """\
usage: initify-init [--grace SECONDS] [--rewrite FROM:TO]... [--single-child]
                    [--subreaper] [--also 'COMMAND ARGS']...
                    [--pre-stop 'COMMAND ARGS'] [--verbose] [--] COMMAND [ARG...]
"""

HELP = SYNOPSIS + """
Run COMMAND as the child of a minimal init: forward signals to its process
group, reap zombies, exit with its status (128+N when killed by signal N).

options:
  --grace SECONDS      SIGKILL everything SECONDS after the first stop signal
                       (TERM, INT, QUIT); also the wait for leftovers after
                       the command exits (default: off, and 2 s for leftovers)
  --rewrite FROM:TO    forward signal FROM as TO (TO 0 drops it), e.g.
                       TERM:RTMIN+3; may be repeated
  --single-child       forward signals to the child only, not to its group
  --subreaper          fail instead of warning when the init is not PID 1
                       and cannot become a child subreaper
  --also 'CMD ARGS'    supervise one more program (split like a shell would,
                       without running a shell); may be repeated
  --pre-stop 'CMD ARGS'
                       run this before forwarding the first stop signal
  --verbose            log signals, reaped processes and the final status
  -h, --help           show this help
  --version            show the version

environment: INITIFY_GRACE, INITIFY_REWRITE (comma-separated FROM:TO),
INITIFY_VERBOSE, INITIFY_SUBREAPER (1/0); options win over the environment.
Signals may be written TERM, SIGTERM, 15, RTMIN+3 or SIGRTMIN+3.
"""

PR_SET_CHILD_SUBREAPER = 36
TIOCSCTTY_LINUX = 0x540E
EXIT_USAGE = 2
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127
DEFAULT_LEFTOVER_WAIT = 2.0

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
TTY_STOP_SIGNALS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
UNCATCHABLE = (signal.SIGKILL, signal.SIGSTOP)
SIGRTMIN = getattr(signal, "SIGRTMIN", 34)
SIGRTMAX = getattr(signal, "SIGRTMAX", 64)
NSIG = getattr(signal, "NSIG", 65)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


class UsageError(Exception):
    """A bad command line or environment variable: usage, exit 2."""


class Config(object):
    """What the command line and the environment asked for."""

    def __init__(self) -> None:
        self.grace = None  # type: Optional[float]
        self.rewrite = {}  # type: Dict[int, int]
        self.single_child = False
        self.subreaper = False
        self.also = []  # type: List[List[str]]
        self.pre_stop = None  # type: Optional[List[str]]
        self.verbose = False
        self.command = []  # type: List[str]


# --- logging --------------------------------------------------------------

VERBOSE = False


def say(message: str) -> None:
    """Write one line to stderr, never raising (stderr may be closed)."""
    try:
        os.write(2, ("%s: %s\n" % (PROG, message)).encode("utf-8", "replace"))
    except OSError:
        pass


def log(message: str) -> None:
    """Write one line to stderr in --verbose mode only."""
    if VERBOSE:
        say(message)


# --- signal names ---------------------------------------------------------

def signal_names() -> "Dict[str, int]":
    """Map upper-case names without the SIG prefix (TERM, RTMIN+3) to numbers."""
    names = {}  # type: Dict[str, int]
    for attr in dir(signal):
        if attr.startswith("SIG") and not attr.startswith("SIG_"):
            value = getattr(signal, attr)
            if isinstance(value, int):
                names[attr[3:]] = int(value)
    for offset in range(0, SIGRTMAX - SIGRTMIN + 1):
        names.setdefault("RTMIN+%d" % offset, SIGRTMIN + offset)
        names.setdefault("RTMAX-%d" % offset, SIGRTMAX - offset)
    return names


def parse_signal(text: str, allow_zero: bool = False) -> int:
    """Read TERM, SIGTERM, sigterm, 15, RTMIN+3 or SIGRTMIN+3 as a number."""
    word = text.strip().upper()
    if word.isdigit():
        number = int(word)
        if (number == 0 and allow_zero) or 0 < number < NSIG:
            return number
        raise UsageError("no such signal: %r" % text)
    if word.startswith("SIG"):
        word = word[3:]
    number = signal_names().get(word)
    if number is None:
        raise UsageError("no such signal: %r" % text)
    return number


def signal_name(number: int) -> str:
    """The usual name of a signal number: SIGTERM, SIGRTMIN+3, or its number."""
    if SIGRTMIN < number <= SIGRTMAX:
        return "SIGRTMIN+%d" % (number - SIGRTMIN)
    preferred = ("SIGRTMIN", "SIGRTMAX", "SIGCHLD", "SIGIO", "SIGABRT", "SIGSYS")
    found = []  # type: List[str]
    for attr in dir(signal):
        if attr.startswith("SIG") and not attr.startswith("SIG_"):
            if getattr(signal, attr) == number:
                found.append(attr)
    for name in preferred:
        if name in found:
            return name
    return found[0] if found else "signal %d" % number


# --- command line -----------------------------------------------------------

def split_words(text: str) -> "List[str]":
    """Split a command like a POSIX shell splits words, without expansions.

    Handles blanks, 'single quotes', "double quotes" (where backslash escapes
    only \\ " $ and `) and backslashes. Raises UsageError on an open quote.
    """
    words = []  # type: List[str]
    current = []  # type: List[str]
    in_word = False
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                current.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\" and index < len(text) and text[index] in '\\"$`':
                current.append(text[index])
                index += 1
            else:
                current.append(char)
        elif char in " \t\n":
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
        else:
            in_word = True
            if char in "'\"":
                quote = char
            elif char == "\\" and index < len(text):
                current.append(text[index])
                index += 1
            else:
                current.append(char)
    if quote:
        raise UsageError("unterminated quote in %r" % text)
    if in_word:
        words.append("".join(current))
    return words


def parse_grace(text: str) -> "Optional[float]":
    """Seconds as a non-negative number; 0 or 'off' means no grace."""
    if text.strip().lower() in ("off", "none", ""):
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise UsageError("--grace wants seconds, not %r" % text)
    if not seconds >= 0 or seconds == float("inf"):
        raise UsageError("--grace wants seconds, not %r" % text)
    return seconds if seconds > 0 else None


def parse_rewrite(text: str) -> "Tuple[int, int]":
    """FROM:TO as two signal numbers; TO may be 0 (drop)."""
    source, colon, target = text.partition(":")
    if not colon:
        raise UsageError("--rewrite wants FROM:TO, not %r" % text)
    from_signal = parse_signal(source)
    if from_signal in UNCATCHABLE or from_signal == signal.SIGCHLD:
        raise UsageError("cannot rewrite %s" % signal_name(from_signal))
    return from_signal, parse_signal(target, allow_zero=True)


def parse_flag(name: str, text: str) -> bool:
    """A yes/no environment variable."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise UsageError("%s wants 1 or 0, not %r" % (name, text))


def read_environment(config: Config, environ: "Dict[str, str]") -> None:
    """Apply INITIFY_* variables; the command line is applied after them."""
    if "INITIFY_GRACE" in environ:
        config.grace = parse_grace(environ["INITIFY_GRACE"])
    for item in environ.get("INITIFY_REWRITE", "").split(","):
        if item.strip():
            source, target = parse_rewrite(item)
            config.rewrite[source] = target
    config.verbose = parse_flag("INITIFY_VERBOSE", environ.get("INITIFY_VERBOSE", ""))
    config.subreaper = parse_flag("INITIFY_SUBREAPER", environ.get("INITIFY_SUBREAPER", ""))


def take_value(args: "List[str]", index: int, option: str, inline: "Optional[str]") -> "Tuple[str, int]":
    """The value of an option given as --opt=VALUE or --opt VALUE."""
    if inline is not None:
        return inline, index
    if index >= len(args):
        raise UsageError("%s needs a value" % option)
    return args[index], index + 1


def parse_args(args: "List[str]", environ: "Dict[str, str]") -> Config:
    """Build the Config from argv (without the program name) and environ.

    Raises UsageError for anything wrong, and SystemExit for --help/--version.
    """
    config = Config()
    read_environment(config, environ)
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            index -= 1
            break
        option, equals, value = arg.partition("=")
        inline = value if equals else None
        if option in ("-h", "--help"):
            sys.stdout.write(HELP)
            raise SystemExit(0)
        elif option == "--version":
            sys.stdout.write("%s %s\n" % (PROG, VERSION))
            raise SystemExit(0)
        elif option in ("--single-child", "--subreaper", "--verbose"):
            if inline is not None:
                raise UsageError("%s takes no value" % option)
            setattr(config, option[2:].replace("-", "_"), True)
        elif option == "--grace":
            value, index = take_value(args, index, option, inline)
            config.grace = parse_grace(value)
        elif option == "--rewrite":
            value, index = take_value(args, index, option, inline)
            source, target = parse_rewrite(value)
            config.rewrite[source] = target
        elif option in ("--also", "--pre-stop"):
            value, index = take_value(args, index, option, inline)
            words = split_words(value)
            if not words:
                raise UsageError("%s needs a command" % option)
            if option == "--also":
                config.also.append(words)
            else:
                config.pre_stop = words
        else:
            raise UsageError("unknown option %s" % option)
    config.command = args[index:]
    if not config.command:
        raise UsageError("missing COMMAND")
    return config


# --- waiting for signals --------------------------------------------------

def catchable_signals() -> "List[int]":
    """Every signal number a handler can be installed for."""
    valid = getattr(signal, "valid_signals", None)
    numbers = sorted(int(s) for s in valid()) if valid else list(range(1, NSIG))
    return [n for n in numbers if n not in UNCATCHABLE]


def ignore_in_handler(signum: int, frame: object) -> None:
    """Handler used while signals are blocked: never runs in practice."""


def install_handlers(handler: object) -> "List[int]":
    """Install handler for every catchable signal; return those that took it.

    A PID 1 must have a handler: the kernel drops signals sent to a PID 1
    that leaves them at their default action.
    """
    installed = []  # type: List[int]
    for number in catchable_signals():
        try:
            signal.signal(number, handler)
        except (OSError, RuntimeError, ValueError):
            continue  # e.g. glibc's reserved 32 and 33
        installed.append(number)
    return installed


class SignalWaiter(object):
    """Wait synchronously: all signals blocked, dequeued with sigtimedwait."""

    def __init__(self) -> None:
        self.signals = install_handlers(ignore_in_handler)
        signal.pthread_sigmask(signal.SIG_BLOCK, self.signals)

    def wait(self, timeout: "Optional[float]") -> "Optional[Tuple[int, int]]":
        """The next (signal, sender pid), or None when timeout seconds pass."""
        if timeout is None:
            info = signal.sigwaitinfo(self.signals)
        else:
            info = signal.sigtimedwait(self.signals, max(timeout, 0.0))
        if info is None:
            return None
        return info.si_signo, info.si_pid


class PipeWaiter(object):
    """Fallback without sigtimedwait: handlers plus a wakeup pipe and select."""

    def __init__(self) -> None:
        import select
        self.select = select.select
        self.pending = []  # type: List[int]
        self.read_end, write_end = os.pipe()
        for end in (self.read_end, write_end):
            os.set_blocking(end, False)
        signal.set_wakeup_fd(write_end)
        self.signals = install_handlers(self.on_signal)

    def on_signal(self, signum: int, frame: object) -> None:
        self.pending.append(signum)

    def wait(self, timeout: "Optional[float]") -> "Optional[Tuple[int, int]]":
        """The next (signal, 0), or None when timeout seconds pass."""
        if not self.pending:
            self.select([self.read_end], [], [], None if timeout is None else max(timeout, 0.0))
            try:
                os.read(self.read_end, 4096)
            except OSError:
                pass
        if not self.pending:
            return None
        return self.pending.pop(0), 0


def make_waiter() -> "object":
    """The synchronous waiter when the platform has it, else the fallback."""
    usable = hasattr(signal, "sigtimedwait") and hasattr(signal, "pthread_sigmask")
    if usable and not os.environ.get("INITIFY_NO_SIGWAIT"):
        return SignalWaiter()
    return PipeWaiter()


# --- processes ------------------------------------------------------------

def exit_status(status: int) -> int:
    """A wait status as a shell would report it: code, or 128+signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 255


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return "killed by %s" % signal_name(os.WTERMSIG(status))
    return "exit %d" % exit_status(status)


def take_terminal() -> None:
    """In the child: make stdin, if a free terminal, our controlling terminal."""
    if not os.isatty(0):
        return
    try:
        import fcntl
        try:
            import termios
            request = termios.TIOCSCTTY
        except ImportError:
            request = TIOCSCTTY_LINUX
        fcntl.ioctl(0, request, 0)
    except (ImportError, OSError):
        pass  # the init's own session holds it: the init relays tty signals


def exec_child(argv: "List[str]", handled: "List[int]") -> None:
    """In the forked child: reset signals, new session, exec. Never returns."""
    try:
        for number in handled:
            signal.signal(number, signal.SIG_DFL)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.setsid()
        take_terminal()
        os.execvp(argv[0], argv)
    except OSError as error:
        code = EXIT_NOT_FOUND if error.errno in (errno.ENOENT, errno.ENOTDIR) else EXIT_NOT_EXECUTABLE
        reason = "command not found" if code == EXIT_NOT_FOUND else os.strerror(error.errno or errno.EACCES)
        say("cannot run %s: %s" % (argv[0], reason))
        os._exit(code)
    except BaseException as error:  # never let the child run the init's loop
        say("cannot run %s: %s" % (argv[0], error))
        os._exit(EXIT_NOT_EXECUTABLE)


def spawn(argv: "List[str]", handled: "List[int]") -> int:
    """Fork and exec argv in its own session and process group; its pid."""
    pid = os.fork()
    if pid == 0:
        exec_child(argv, handled)
    log("started %s as %d" % (argv[0], pid))
    return pid


def group_alive(pgid: int) -> bool:
    """Whether a process group still has members (zombies included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def catches(pid: int, number: int) -> bool:
    """Whether process pid has a handler for signal number (/proc SigCgt)."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (number - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return True  # unknown: only forward, do not stop it by force


def become_subreaper() -> bool:
    """Ask the kernel to re-parent orphaned descendants to us (prctl)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


class Init(object):
    """The supervisor: children, signals, the grace timer and the exit."""

    def __init__(self, config: Config, waiter: "object") -> None:
        self.config = config
        self.waiter = waiter
        self.handled = waiter.signals  # type: ignore
        self.programs = {}  # type: Dict[int, str]   # pid -> name, while alive
        self.groups = []  # type: List[int]          # pgids still to signal
        self.first_status = None  # type: Optional[int]
        self.stopping = False
        self.held = []  # type: List[int]            # stop signals held during pre-stop
        self.pre_stop_pid = None  # type: Optional[int]
        self.kill_at = None  # type: Optional[float]

    # starting

    def start(self) -> None:
        for argv in [self.config.command] + self.config.also:
            pid = spawn(argv, self.handled)
            self.programs[pid] = argv[0]
            self.groups.append(pid)

    # the loop

    def run(self) -> int:
        """Handle events until the supervised programs are gone; the status."""
        while not self.finished():
            timeout = None
            if self.kill_at is not None:
                timeout = self.kill_at - time.monotonic()
            event = self.waiter.wait(timeout)  # type: ignore
            if event is None:
                self.on_timeout()
            elif event[0] == signal.SIGCHLD:
                self.reap()
            else:
                self.on_signal(event[0], event[1])
        return self.first_status if self.first_status is not None else 0

    def finished(self) -> bool:
        if self.first_status is None:
            return False
        if self.pre_stop_pid is not None:
            return False
        self.groups = [g for g in self.groups if group_alive(g)]
        return not self.groups

    # events

    def reap(self) -> None:
        """Collect every exited child, orphans included."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if VERBOSE:
                log("reaped %d (%s)" % (pid, describe_status(status)))
            if pid in self.programs:
                self.on_program_exit(pid, status)
            elif pid == self.pre_stop_pid:
                self.on_pre_stop_exit()

    def on_signal(self, number: int, sender: int) -> None:
        if number == signal.SIGPIPE and sender == os.getpid():
            return  # our own write to a closed stderr
        log("received %s" % signal_name(number))
        target = self.config.rewrite.get(number, number)
        if number in STOP_SIGNALS:
            self.on_stop_signal(target)
        elif number in TTY_STOP_SIGNALS:
            self.on_tty_stop(number, target)
        else:
            self.forward(target)

    def on_stop_signal(self, target: int) -> None:
        """The first one arms the grace and runs --pre-stop; all are forwarded."""
        if not self.stopping and self.first_status is None:
            self.stopping = True
            if self.config.grace is not None:
                self.arm(self.config.grace)
            if self.config.pre_stop:
                self.pre_stop_pid = spawn(self.config.pre_stop, self.handled)
        if self.pre_stop_pid is not None:
            self.held.append(target)
        else:
            self.forward(target)

    def on_tty_stop(self, number: int, target: int) -> None:
        """Terminal stop: relay it, stop the group if it would be lost, stop us.

        The children run in their own session, so their process groups are
        orphaned and the kernel drops TSTP/TTIN/TTOU for a process that does
        not handle them: in that case the group gets SIGSTOP instead, as the
        default action would have done. SIGCONT later resumes everything.
        """
        self.forward(target)
        if target == number:
            for pid in list(self.programs):
                if not catches(pid, number):
                    self.send(pid, signal.SIGSTOP)
        log("suspending self")
        os.kill(os.getpid(), signal.SIGSTOP)  # a namespace's PID 1 cannot

    def on_program_exit(self, pid: int, status: int) -> None:
        """The first supervised program to exit decides the status; stop the rest."""
        name = self.programs.pop(pid)
        if self.first_status is not None:
            return
        self.first_status = exit_status(status)
        log("%s (%d) exited first: %s" % (name, pid, describe_status(status)))
        term = self.config.rewrite.get(signal.SIGTERM) or signal.SIGTERM
        self.forward(term, to_groups=True)
        self.forward(signal.SIGCONT, to_groups=True)  # stopped ones must see it
        self.arm(self.config.grace if self.config.grace is not None else DEFAULT_LEFTOVER_WAIT)

    def on_pre_stop_exit(self) -> None:
        self.pre_stop_pid = None
        held, self.held = self.held, []
        for target in held:
            self.forward(target)

    def on_timeout(self) -> None:
        if self.kill_at is None or time.monotonic() < self.kill_at:
            return
        self.kill_at = None
        log("grace over: killing what is left")
        if self.pre_stop_pid is not None:
            self.send(self.pre_stop_pid, signal.SIGKILL, group=True)
            self.pre_stop_pid = None
        self.forward(signal.SIGKILL, to_groups=True)
        if self.first_status is not None:
            self.groups = []  # done: everything left was just killed

    # helpers

    def arm(self, seconds: float) -> None:
        """SIGKILL everything after seconds, unless an earlier kill is due."""
        deadline = time.monotonic() + seconds
        if self.kill_at is None or deadline < self.kill_at:
            self.kill_at = deadline

    def forward(self, number: int, to_groups: bool = False) -> None:
        """Send a signal to every supervised group (or child: --single-child)."""
        if number == 0:
            log("dropped")
            return
        if self.config.single_child and not to_groups:
            targets = list(self.programs)
            group = False
        else:
            targets = list(self.groups)
            group = True
        for target in targets:
            if self.send(target, number, group):
                log("forwarded %s to %s %d" % (signal_name(number), "group" if group else "process", target))

    def send(self, target: int, number: int, group: bool = True) -> bool:
        """Signal a process group (or one process); False if it is gone."""
        try:
            if group:
                os.killpg(target, number)
            else:
                os.kill(target, number)
        except OSError:
            return False
        return True


def prepare(config: Config) -> None:
    """Become a subreaper when not PID 1, as --subreaper insists or warn."""
    if os.getpid() == 1:
        return
    if become_subreaper():
        log("not PID 1: registered as child subreaper")
        return
    if config.subreaper:
        say("cannot become a child subreaper (needs Linux >= 3.4 and ctypes)")
        raise SystemExit(1)
    say("warning: not PID 1 and cannot become a child subreaper: orphans will not be reaped by initify-init")


def main(argv: "Optional[List[str]]" = None) -> int:
    """Entry point: parse, start, supervise, exit with the child's status."""
    global VERBOSE
    args = sys.argv[1:] if argv is None else argv
    try:
        config = parse_args(args, dict(os.environ))
    except UsageError as error:
        sys.stderr.write("%s: %s\n%s(try --help)\n" % (PROG, error, SYNOPSIS))
        return EXIT_USAGE
    VERBOSE = config.verbose
    try:
        prepare(config)
    except SystemExit as stop:
        return int(stop.code or 0)
    waiter = make_waiter()
    init = Init(config, waiter)
    init.start()
    status = init.run()
    log("exiting with status %d" % status)
    return status


def run_and_exit() -> None:
    """Run main and leave at once, skipping interpreter clean-up."""
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)


if __name__ == "__main__":
    run_and_exit()

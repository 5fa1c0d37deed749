"""initify-init as a real PID 1: fresh PID namespaces (unshare), real signals.

Every test that runs the init starts it with `unshare --pid --fork
--mount-proc` (or on a pty, or as a plain child for subreaper mode) and
signals it from outside, as a container runtime does.
"""

import ast
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

try:
    from tests import imagekit
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import imagekit

from initify import init as initmod

REPO = Path(__file__).resolve().parent.parent
INIT = REPO / "initify" / "init.py"
PY = sys.executable
WAIT = 30  # generous: a timeout only ever turns a hang into a failure

needs_unshare = pytest.mark.skipif(not imagekit.have("unshare") or os.geteuid() != 0,
                                   reason="needs unshare and root for PID namespaces")
both_waiters = pytest.mark.parametrize("waiter", ["sigtimedwait", "pipe"])

# --- workloads (run inside the namespace with the same python) ----------------

# Exits from its main loop, not from the handler: a SIGTERM that arrives while the SIGUSR1
# handler is starting runs nested inside it, and exiting there would lose the SIGUSR1 line.
APP = r"""
import os, signal, sys, time
stop = []
def on(number, frame):
    os.write(1, b"got %d\n" % number)  # one write: a nested handler cannot split the line
    if number in (signal.SIGTERM, signal.SIGINT):
        stop.append(number)
for number in [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT,
               signal.SIGWINCH, signal.SIGQUIT, signal.SIGRTMIN + 3]:
    signal.signal(number, on)
os.write(1, b"ready\n")  # one write: two programs printing at once cannot mix their lines
while not stop:
    time.sleep(0.01)
sys.exit(0)
"""

IGNORES_TERM = r"""
import signal
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
    signal.signal(number, signal.SIG_IGN)
print("ready", flush=True)
while True:
    signal.pause()
"""

# n orphans re-parented to PID 1, all blocked on a pipe; USR1 releases them at once.
ORPHANS = r"""
import os, signal, sys
n = int(sys.argv[1])
release_r, release_w = os.pipe()
if os.fork() == 0:
    for i in range(n):
        if os.fork() == 0:
            os.close(release_w)
            os.read(release_r, 1)
            os._exit(0)
    os._exit(0)
os.close(release_r)
os.wait()
signal.signal(signal.SIGUSR1, lambda *a: os.close(release_w))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("spawned", flush=True)
while True:
    signal.pause()
"""

# Counts signals one by one with sigwaitinfo (no coalescing of queued RT signals).
STORM_APP = r"""
import signal
rt1, rt2 = signal.SIGRTMIN + 1, signal.SIGRTMIN + 2
wanted = {rt1, rt2, signal.SIGUSR1}
signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
counts = {rt1: 0, signal.SIGUSR1: 0}
print("ready", flush=True)
while True:
    number = signal.sigwaitinfo(wanted).si_signo
    if number == rt2:
        print("counts %d %d" % (counts[rt1], counts[signal.SIGUSR1]), flush=True)
        break
    counts[number] += 1
"""


# --- helpers ------------------------------------------------------------------

class Lines(object):
    """Collect a stream's lines in a thread; wait for one with expect()."""

    def __init__(self, stream) -> None:
        self.queue = queue.Queue()  # type: queue.Queue
        self.seen = []  # type: List[str]
        self.thread = threading.Thread(target=self.pump, args=(stream,), daemon=True)
        self.thread.start()

    def pump(self, stream) -> None:
        try:
            for raw in iter(stream.readline, b""):
                self.queue.put(raw.decode(errors="replace").rstrip("\r\n"))
        except OSError:  # a pty master reads EIO once the other side is gone
            pass
        self.queue.put(None)

    def expect(self, text: str, timeout: float = WAIT) -> str:
        """The first line (from now on) containing text; fails on EOF or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.queue.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError("no %r within %s s; saw %r" % (text, timeout, self.seen))
            if line is None:
                self.queue.put(None)
                raise AssertionError("stream ended without %r; saw %r" % (text, self.seen))
            self.seen.append(line)
            if text in line:
                return line

    def expect_lines(self, *texts: str, timeout: float = WAIT) -> None:
        """Wait until each of texts was a whole line, in any order."""
        missing = [text for text in texts if text not in self.seen]
        while missing:
            line = self.expect("", timeout)
            if line in missing:
                missing.remove(line)

    def rest(self) -> List[str]:
        """All remaining lines, once the stream has ended."""
        self.thread.join(WAIT)
        while True:
            try:
                line = self.queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return self.seen


class Pid1(object):
    """initify-init as PID 1 of a fresh PID namespace (unshare --pid --fork)."""

    def __init__(self, args: List[str], env: Optional[Dict[str, str]] = None,
                 prefix: Optional[List[str]] = None, python: str = PY) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        command = list(prefix or []) + [python, str(INIT)] + args
        self.process = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc"] + command,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=full_env)
        self.out = Lines(self.process.stdout)
        self.err = Lines(self.process.stderr)
        self.pid = self.find_init()

    def find_init(self) -> int:
        found = []  # type: List[int]
        imagekit.wait_until(lambda: found.extend(imagekit.children_of(self.process.pid)) or found, WAIT)
        assert found, "unshare did not fork the init"
        return found[0]

    def kill(self, number: int) -> None:
        os.kill(self.pid, number)

    def wait(self, timeout: float = WAIT) -> int:
        """The init's exit status (unshare passes it on)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            os.kill(self.pid, signal.SIGKILL)
            raise AssertionError("init still running after %s s; stderr %r" % (timeout, self.err.seen))

    def running_after(self, seconds: float) -> bool:
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def stderr(self) -> str:
        return "\n".join(self.err.rest())

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.kill()
            self.process.wait()


@pytest.fixture
def pid1():
    """Factory: start the init as PID 1; everything is killed at the end."""
    started = []  # type: List[Pid1]

    def start(args: List[str], waiter: str = "sigtimedwait", **kwargs) -> Pid1:
        env = dict(kwargs.pop("env", None) or {})
        if waiter == "pipe":
            env["INITIFY_NO_SIGWAIT"] = "1"
        one = Pid1(args, env=env, **kwargs)
        started.append(one)
        return one

    yield start
    for one in started:
        one.close()


def app(code: str, *args: str) -> List[str]:
    return [PY, "-c", code] + list(args)


def run_init(args: List[str], env: Optional[Dict[str, str]] = None, **kwargs) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([PY, str(INIT)] + args, capture_output=True, text=True, timeout=WAIT, env=full_env, **kwargs)


# --- the file itself ----------------------------------------------------------

def test_file_parses_as_python_3_6():
    source = INIT.read_text()
    ast.parse(source, feature_version=(3, 6))
    assert source.startswith("#!/usr/bin/env python3\n")


def test_imports_only_the_standard_library():
    tree = ast.parse(INIT.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            modules.add(node.module.split(".")[0])
    assert modules, "found no imports at all"
    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)
    assert "initify" not in modules


def test_runs_as_module_and_as_copied_executable(tmp_path):
    as_module = subprocess.run([PY, "-m", "initify.init", "--", "sh", "-c", "exit 7"], cwd=REPO, timeout=WAIT)
    assert as_module.returncode == 7
    copy = tmp_path / "initify-init"
    shutil.copy(INIT, copy)
    copy.chmod(0o755)
    as_executable = subprocess.run([str(copy), "sh", "-c", "exit 9"], timeout=WAIT)
    assert as_executable.returncode == 9


# --- command line ----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("TERM", signal.SIGTERM), ("SIGTERM", signal.SIGTERM), ("15", signal.SIGTERM), ("term", signal.SIGTERM),
    ("RTMIN+3", signal.SIGRTMIN + 3), ("SIGRTMIN+3", signal.SIGRTMIN + 3), ("RTMAX-1", signal.SIGRTMAX - 1),
    ("RTMIN", signal.SIGRTMIN), ("HUP", signal.SIGHUP), ("CHLD", signal.SIGCHLD),
])
def test_signal_spellings(text, expected):
    assert initmod.parse_signal(text) == expected


@pytest.mark.parametrize("text", ["", "NOPE", "SIG", "0", "65", "RTMIN+99", "-1", "TERM+1"])
def test_bad_signal_spellings(text):
    with pytest.raises(initmod.UsageError):
        initmod.parse_signal(text)


def test_signal_names_round_trip():
    for number in range(1, signal.NSIG):
        if number in (32, 33):  # reserved by glibc
            continue
        assert initmod.parse_signal(initmod.signal_name(number)) == number


@pytest.mark.parametrize("text, words", [
    ("nginx -s quit", ["nginx", "-s", "quit"]),
    ("  sh  -c  'echo a  b; exit 3' ", ["sh", "-c", "echo a  b; exit 3"]),
    ('say "it\'s \\"fine\\"" a\\ b', ["say", 'it\'s "fine"', "a b"]),
    ("x '' \"\"", ["x", "", ""]),
])
def test_split_words(text, words):
    assert initmod.split_words(text) == words


def test_options_win_over_environment():
    env = {"INITIFY_GRACE": "9", "INITIFY_REWRITE": "TERM:RTMIN+3, HUP:USR1", "INITIFY_VERBOSE": "1",
           "INITIFY_SUBREAPER": "yes"}
    config = initmod.parse_args(["--grace=2.5", "--rewrite", "HUP:0", "--also", "a b", "--", "cmd", "--grace"], env)
    assert config.grace == 2.5
    assert config.rewrite == {signal.SIGTERM: signal.SIGRTMIN + 3, signal.SIGHUP: 0}
    assert config.verbose and config.subreaper
    assert config.also == [["a", "b"]]
    assert config.command == ["cmd", "--grace"]
    plain = initmod.parse_args(["cmd"], {})
    assert plain.grace is None and plain.rewrite == {} and not plain.verbose


@pytest.mark.parametrize("args, env", [
    ([], {}),
    (["--"], {}),
    (["--bogus", "true"], {}),
    (["--grace", "soon", "true"], {}),
    (["--grace", "-1", "true"], {}),
    (["--grace"], {}),
    (["--rewrite", "TERM", "true"], {}),
    (["--rewrite", "NOPE:TERM", "true"], {}),
    (["--rewrite", "KILL:TERM", "true"], {}),
    (["--also", "'unclosed", "true"], {}),
    (["--verbose=yes", "true"], {}),
    (["true"], {"INITIFY_GRACE": "abc"}),
    (["true"], {"INITIFY_VERBOSE": "maybe"}),
])
def test_bad_command_lines_print_usage_and_exit_2(args, env):
    result = run_init(args, env)
    assert result.returncode == 2
    assert result.stderr.startswith("initify-init: ")
    assert "usage: initify-init" in result.stderr
    assert result.stdout == ""


def test_help_goes_to_stdout():
    result = run_init(["--help"])
    assert result.returncode == 0 and "--rewrite FROM:TO" in result.stdout


def test_command_not_found_exits_127():
    result = run_init(["--", "no-such-command-initify"])
    assert result.returncode == 127
    assert result.stderr.strip().splitlines() == ["initify-init: cannot run no-such-command-initify: command not found"]


def test_command_not_executable_exits_126(tmp_path):
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    for target in (script, tmp_path):
        result = run_init([str(target)])
        assert result.returncode == 126
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("initify-init: cannot run %s: " % target)


# --- PID 1: forwarding, exit status, grace --------------------------------------

def other_pythons() -> List[str]:
    """Other python3 interpreters on this machine (Debian's, pyenv's 3.6+)."""
    candidates = [Path("/usr/bin/python3")] + sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))
    return [str(path) for path in candidates if os.access(str(path), os.X_OK) and str(path) != PY]


@needs_unshare
@pytest.mark.parametrize("python", other_pythons())
def test_runs_on_other_pythons(pid1, python):
    """The file must run on whatever python3 an image has, 3.6 included."""
    init = pid1(["--", *app(ORPHANS, "20")], python=python)
    init.out.expect("spawned")
    app_pid = [p for p in imagekit.children_of(init.pid) if imagekit.namespace_pid(p) == 2][0]
    os.kill(app_pid, signal.SIGUSR1)  # 20 orphans exit
    assert imagekit.wait_until(lambda: len(imagekit.processes_in_pid_namespace(init.pid)) == 2, WAIT)
    init.kill(signal.SIGTERM)
    assert init.wait() == 0
    assert init.stderr() == ""


@pytest.mark.parametrize("python", other_pythons())
def test_signal_names_round_trip_on_other_pythons(python):
    """Every Linux signal has a name that --rewrite accepts back, whatever the signal module of
    the image's python3 names (3.10 and older lack SIGSTKFLT)."""
    check = ("import signal, sys; sys.path.insert(0, %r); import init as m; "
             "print([n for n in range(1, signal.NSIG) if n not in (32, 33) "
             "and m.parse_signal(m.signal_name(n)) != n], m.signal_name(16))") % str(INIT.parent)
    result = subprocess.run([python, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "SIGSTKFLT"]


@needs_unshare
@both_waiters
def test_forwards_signals_and_exits_with_child_status(pid1, waiter):
    init = pid1(["--", *app(APP)], waiter)
    init.out.expect("ready")
    for number in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGRTMIN + 3):
        init.kill(number)
        init.out.expect("got %d" % number)
    init.kill(signal.SIGTERM)
    init.out.expect("got %d" % signal.SIGTERM)
    assert init.wait() == 0
    assert init.stderr() == ""  # quiet by default


@needs_unshare
@pytest.mark.parametrize("script, status", [
    ("exit 3", 3),
    ("kill -USR1 $$", 128 + signal.SIGUSR1),
    ("exec sleep 60", 128 + signal.SIGTERM),  # killed by the forwarded TERM
])
def test_exit_status_is_code_or_128_plus_signal(pid1, script, status):
    init = pid1(["--", "sh", "-c", "echo ready; " + script])
    init.out.expect("ready")
    if script.startswith("exec sleep"):
        imagekit.wait_until(lambda: any("sleep" in read_cmdline(p) for p in imagekit.children_of(init.pid)))
        init.kill(signal.SIGTERM)
    assert init.wait() == status


def read_cmdline(pid: int) -> str:
    try:
        return Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@needs_unshare
def test_grace_kills_a_child_that_ignores_term(pid1):
    init = pid1(["--grace", "1", "--", *app(IGNORES_TERM)])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    assert init.wait() == 128 + signal.SIGKILL


@needs_unshare
def test_without_grace_a_child_that_ignores_term_keeps_running(pid1):
    init = pid1(["--", *app(IGNORES_TERM)], env={"INITIFY_GRACE": "off"})
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    assert init.running_after(1.5)
    init.kill(signal.SIGKILL)  # what the runtime does when its own grace ends
    init.wait()


@needs_unshare
def test_grace_from_environment(pid1):
    init = pid1(["--", *app(IGNORES_TERM)], env={"INITIFY_GRACE": "0.5"})
    init.out.expect("ready")
    init.kill(signal.SIGINT)  # any stop signal starts the grace
    assert init.wait() == 128 + signal.SIGKILL


# --- reaping ----------------------------------------------------------------------

@needs_unshare
@both_waiters
def test_burst_of_orphans_is_reaped_with_no_zombie_left(pid1, waiter):
    count = 400
    init = pid1(["--", *app(ORPHANS, str(count))], waiter)
    init.out.expect("spawned")
    inside = imagekit.processes_in_pid_namespace(init.pid)
    assert len(inside) == count + 2  # init, the app and the orphans
    main = [p for p in imagekit.children_of(init.pid)]
    assert len(main) == count + 1, "orphans are not children of the init"
    app_pid = [p for p in main if imagekit.namespace_pid(p) == 2][0]  # the init's first child
    os.kill(app_pid, signal.SIGUSR1)  # all orphans exit at once
    assert imagekit.wait_until(lambda: len(imagekit.processes_in_pid_namespace(init.pid)) == 2, WAIT), \
        "left: %r" % imagekit.processes_in_pid_namespace(init.pid)
    assert imagekit.zombies_in_pid_namespace(init.pid) == []
    init.kill(signal.SIGTERM)
    assert init.wait() == 0


@needs_unshare
def test_zombie_count_sees_zombies_under_a_pid_1_that_does_not_reap():
    """Control for the test above: the same burst under a non-reaping PID 1 leaves zombies."""
    count = 50
    lazy = "import os, sys, time\nif os.fork() == 0:\n    os.execv(sys.executable, sys.argv[1:])\ntime.sleep(60)\n"
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", PY, "-c", lazy, PY, "-c", ORPHANS,
                                str(count)], stdout=subprocess.PIPE)
    lazy_pid = 0
    try:
        lines = Lines(process.stdout)
        lines.expect("spawned")
        lazy_pid = imagekit.children_of(process.pid)[0]
        app_pid = [p for p in imagekit.children_of(lazy_pid) if imagekit.namespace_pid(p) == 2][0]
        os.kill(app_pid, signal.SIGUSR1)
        assert imagekit.wait_until(lambda: len(imagekit.zombies_in_pid_namespace(lazy_pid)) == count, WAIT)
    finally:
        if lazy_pid:
            os.kill(lazy_pid, signal.SIGKILL)  # from outside: ends the whole namespace
        process.kill()
        process.wait()


# --- rewriting ----------------------------------------------------------------------

@needs_unshare
def test_rewrite_term_to_rtmin_3(pid1):
    init = pid1(["--rewrite", "SIGTERM:SIGRTMIN+3", "--", *app(APP)])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    init.out.expect("got %d" % (signal.SIGRTMIN + 3))
    init.kill(signal.SIGINT)
    assert init.wait() == 0
    assert "got %d" % signal.SIGTERM not in init.out.rest()


@needs_unshare
def test_rewrite_from_environment_drop_and_option_precedence(pid1):
    env = {"INITIFY_REWRITE": "HUP:USR2,USR1:0"}
    init = pid1(["--rewrite", "HUP:WINCH", "--", *app(APP)], env=env)
    init.out.expect("ready")
    init.kill(signal.SIGUSR1)  # dropped
    init.kill(signal.SIGHUP)  # option wins: WINCH
    init.out.expect("got %d" % signal.SIGWINCH)
    init.kill(signal.SIGTERM)
    assert init.wait() == 0
    seen = init.out.rest()
    assert "got %d" % signal.SIGUSR1 not in seen and "got %d" % signal.SIGUSR2 not in seen


# --- process groups ----------------------------------------------------------------

WRAPPER = "trap 'echo wrapper-trap' TERM; {py} -c '{app}'; echo wrapper-done"


@needs_unshare
def test_grandchild_behind_a_non_forwarding_wrapper_gets_the_signal(pid1):
    wrapper = WRAPPER.format(py=PY, app=APP.replace("'", '"'))
    init = pid1(["--", "sh", "-c", wrapper])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    init.out.expect("got %d" % signal.SIGTERM)
    init.out.expect("wrapper-done")
    assert init.wait() == 0


@needs_unshare
def test_single_child_signals_only_the_child(pid1):
    wrapper = WRAPPER.format(py=PY, app=APP.replace("'", '"'))
    init = pid1(["--single-child", "--", "sh", "-c", wrapper])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)  # sh traps it but waits for the grandchild: nothing ends
    assert init.running_after(1.0)
    assert not any(line.startswith("got") for line in init.out.seen)
    init.kill(signal.SIGKILL)


@needs_unshare
def test_group_members_left_behind_get_term(pid1):
    init = pid1(["--", *app(MAIN_WITH_MEMBER, "handles")])
    init.out.expect("member ready")
    assert init.wait() == 3
    init.out.expect("got %d" % signal.SIGTERM)


@needs_unshare
def test_group_members_ignoring_term_are_killed_after_the_wait(pid1):
    init = pid1(["--", *app(MAIN_WITH_MEMBER, "ignores")])
    init.out.expect("member ready")
    assert init.wait() == 3  # returns at all: the member was SIGKILLed after 2 s


MAIN_WITH_MEMBER = r"""
import os, signal, sys, time
ready_r, ready_w = os.pipe()
if os.fork() == 0:  # same process group as the main program
    if sys.argv[1] == "handles":
        def on(number, frame):
            print("got %d" % number, flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, on)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("member ready", flush=True)
    os.write(ready_w, b"x")
    while True:
        signal.pause()
os.read(ready_r, 1)
sys.exit(3)
"""


# --- storms, --also, --pre-stop ------------------------------------------------------

@needs_unshare
@both_waiters
def test_storm_of_signals(pid1, waiter):
    init = pid1(["--", *app(STORM_APP)], waiter)
    init.out.expect("ready")
    for index in range(300):
        init.kill(signal.SIGRTMIN + 1)
        if index % 3 == 0:
            init.kill(signal.SIGUSR1)
    init.kill(signal.SIGRTMIN + 2)
    line = init.out.expect("counts")
    rt_count, usr1_count = (int(word) for word in line.split()[1:])
    if waiter == "sigtimedwait":
        assert rt_count == 300  # queued real-time signals: every one forwarded
    else:
        assert rt_count >= 1  # Python handlers coalesce repeats of one signal
    assert usr1_count >= 1  # standard signals coalesce, but are never lost
    assert init.wait() == 0


@needs_unshare
def test_also_first_to_exit_decides_and_stops_the_others(pid1, tmp_path):
    fifo = tmp_path / "go"
    os.mkfifo(str(fifo))
    init = pid1(["--also", "sh -c 'read line < %s; exit 5'" % fifo, "--", *app(APP)])
    init.out.expect("ready")
    with open(str(fifo), "w") as go:
        go.write("go\n")
    init.out.expect("got %d" % signal.SIGTERM)
    assert init.wait() == 5


@needs_unshare
def test_also_programs_receive_forwarded_signals(pid1):
    second = APP.replace('b"got %d', 'b"also got %d').replace('b"ready', 'b"also ready')
    init = pid1(["--also", "%s -c '%s'" % (PY, second.replace("'", '"')), "--", *app(APP)])
    init.out.expect_lines("ready", "also ready")
    init.kill(signal.SIGUSR1)
    init.kill(signal.SIGTERM)
    assert init.wait() == 0
    seen = init.out.rest()
    for text in ("got %d", "also got %d"):
        assert text % signal.SIGUSR1 in seen
        assert text % signal.SIGTERM in seen


@needs_unshare
def test_pre_stop_runs_before_the_signal_is_forwarded(pid1, tmp_path):
    mark = tmp_path / "mark"
    checks = APP.replace('b"got %d\\n" % number',
                         'b"got %%d mark=%%d\\n" %% (number, os.path.exists("%s"))' % mark)
    assert checks != APP
    init = pid1(["--pre-stop", "sh -c 'sleep 0.3; echo ran > %s'" % mark, "--", *app(checks)])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    assert init.out.expect("got %d" % signal.SIGTERM).endswith("mark=1")
    assert init.wait() == 0


@needs_unshare
def test_pre_stop_is_bounded_by_the_grace(pid1):
    init = pid1(["--grace", "1", "--pre-stop", "sleep 60", "--", *app(APP)])
    init.out.expect("ready")
    init.kill(signal.SIGTERM)
    assert init.wait() == 128 + signal.SIGKILL
    assert not any(line.startswith("got") for line in init.out.rest())


@needs_unshare
def test_verbose_logs_signals_reaping_and_status(pid1):
    init = pid1(["--verbose", "--rewrite", "USR1:USR2", "--", *app(APP)])
    init.out.expect("ready")
    init.kill(signal.SIGUSR1)
    init.out.expect("got %d" % signal.SIGUSR2)
    init.kill(signal.SIGTERM)
    assert init.wait() == 0
    log = init.stderr()
    for text in ("initify-init: received SIGUSR1", "initify-init: forwarded SIGUSR2 to group",
                 "initify-init: received SIGTERM", "initify-init: reaped 2 (status 0)",
                 "initify-init: exiting with status 0"):
        assert text in log, log
    assert all(line.startswith("initify-init: ") for line in log.splitlines())


# --- not PID 1: subreaper ------------------------------------------------------------

ONE_ORPHAN = r"""
import os, signal, sys, time
pid_r, pid_w = os.pipe()
if os.fork() == 0:
    orphan = os.fork()
    if orphan == 0:
        time.sleep(600)
        os._exit(0)
    os.write(pid_w, b"%d\n" % orphan)
    os._exit(0)
os.wait()
print("orphan " + os.read(pid_r, 100).decode().strip(), flush=True)
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    signal.pause()
"""


def parent_of(pid: int) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def test_subreaper_outside_a_namespace_adopts_and_reaps_orphans():
    process = subprocess.Popen([PY, str(INIT), "--", *app(ONE_ORPHAN)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        lines = Lines(process.stdout)
        orphan_pid = int(lines.expect("orphan ").split()[1])
        lines.expect("ready")
        assert parent_of(orphan_pid) == process.pid, "the orphan was not re-parented to the init"
        os.kill(orphan_pid, signal.SIGKILL)
        assert imagekit.wait_until(lambda: imagekit.process_state(orphan_pid) == "", WAIT), "orphan not reaped"
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        assert process.stderr.read() == b""  # no warning: it could become a subreaper
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- job control on a pty ----------------------------------------------------------

TTY_APP = r"""
import signal, sys, time
signal.signal(signal.SIGINT, lambda *a: sys.exit(42))
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


@pytest.mark.parametrize("as_pid_1", [False, True])
def test_job_control_on_a_pty(as_pid_1):
    if as_pid_1 and (not imagekit.have("unshare") or os.geteuid() != 0):
        pytest.skip("needs unshare and root")
    if not imagekit.have("setsid"):
        pytest.skip("needs setsid")
    master, slave = os.openpty()
    command = ["setsid", "-c", PY, str(INIT), "--", *app(TTY_APP)]
    if as_pid_1:
        command = ["unshare", "--pid", "--fork", "--mount-proc"] + command
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    output = Lines(os.fdopen(master, "rb", buffering=0))
    try:
        output.expect("ready")
        init = imagekit.children_of(process.pid)[0] if as_pid_1 else process.pid
        child = imagekit.children_of(init)[0]
        os.write(master, b"\x1a")  # Ctrl-Z: SIGTSTP to the terminal's foreground group, the init
        assert imagekit.wait_until(lambda: imagekit.process_state(child) == "T", WAIT), "child not suspended"
        if not as_pid_1:  # a namespace's PID 1 cannot stop itself; otherwise the init suspends too
            assert imagekit.wait_until(lambda: imagekit.process_state(init) == "T", WAIT), "init not suspended"
        os.kill(init, signal.SIGCONT)  # what `fg` does
        assert imagekit.wait_until(lambda: imagekit.process_state(child) in ("S", "R"), WAIT), "child not resumed"
        assert imagekit.process_state(init) in ("S", "R")
        os.write(master, b"\x03")  # Ctrl-C: SIGINT, forwarded to the child
        assert process.wait(WAIT) == 42
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

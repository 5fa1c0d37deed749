"""Tests of initify.dockerfile.shell against what real shells (dash as /bin/sh, and bash) actually do.

The oracle is a tiny program that prints its argv and its PID as JSON. A command text is run
through a real shell with that program as the command, and what it printed is compared with
what initify.dockerfile.shell predicted: the argv for `split_words`, "the program has the shell's PID"
for `analyse(...).ends_with_exec` and `add_exec`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from initify.dockerfile.shell import add_exec, analyse, classify, exec_argv, split_words

SHELLS = [path for path in (shutil.which("dash"), shutil.which("bash")) if path]
# analyse/add_exec need tree-sitter-bash (pyproject: tree-sitter>=0.23, tree-sitter-bash>=0.23).
needs_parser = pytest.mark.skipif(
    importlib.util.find_spec("tree_sitter_bash") is None, reason="tree-sitter-bash is not installed"
)

DUMPER_SOURCE = """\
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "pid": os.getpid()}))
"""


@pytest.fixture(scope="module")
def dumper(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Path of an executable that prints {"argv": [...], "pid": N} (a path with no specials)."""
    path = tmp_path_factory.mktemp("argv") / "dump"
    path.write_text(f"#!{sys.executable} -S\n{DUMPER_SOURCE}")
    path.chmod(0o755)
    assert split_words(str(path)) == [str(path)], "the dumper path itself must be a plain word"
    return str(path)


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working directory, so that a glob could never match anything by chance."""
    return tmp_path_factory.mktemp("empty")


def run_sh_c(shell: str, text: str, cwd: Path) -> List[str]:
    """The argv the dumper received when `shell -c text` ran it (text starts with the dumper)."""
    done = subprocess.run([shell, "-c", text], cwd=cwd, capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)["argv"]


def run_script(shell: str, script: str, path: Path, args: Tuple[str, ...] = ()) -> Tuple[int, List[dict], int]:
    """Run `script` as a file with `shell`: (shell PID, dumper outputs, exit status).

    The script gets `echo "shell=$$"` prepended so the shell's own PID is known.
    """
    with open(path, "w", newline="") as handle:  # keep CRLF as written
        handle.write('echo "shell=$$"\n' + script)
    done = subprocess.run([shell, str(path), *args], capture_output=True, text=True, timeout=30)
    lines = [line.rstrip("\r") for line in done.stdout.splitlines()]
    shell_pid = int(lines[0].split("=")[1])
    outputs = [json.loads(line) for line in lines[1:] if line.startswith("{")]
    return shell_pid, outputs, done.returncode


# ------------------------------------------------------------------------------------------
# split_words
# ------------------------------------------------------------------------------------------

PLAIN_ARGUMENTS = [
    "app.py",
    "a b   c",
    "a\tb",
    "'single quoted  words'",
    '"double quoted  words"',
    "''",
    '""',
    "a '' b",
    "it\\'s",
    "back\\\\slash",
    "escaped\\ space",
    "\"a\\\\b\\\"c\\$d\\`e\"",  # \\ \" \$ \` are escapes inside double quotes
    '"keep \\n and \\t and \\q"',  # other backslashes stay inside double quotes
    "'\\n stays'",
    "mixed'sq'\"dq\"plain",
    "a\\\nb",  # backslash-newline joins
    "a \\\n b",
    '"line\\\ncontinued"',
    "'multi\nline'",
    '"multi\nline"',
    "--port=8000",
    "-c 'import sys; print(sys.argv)'",
    "key=value",
    "a#b",
    "{}",
    "a{b}c",
    "]",
    "!",
    "x!y",
    "%s",
    "@foo",
    "^",
    "-",
    "--",
    "a,b",
    "caf\u00e9 \u65e5\u672c",
    "'$HOME' \"\\$HOME\" \\$HOME",
    "'*.py' \"?\" \\[a]",
    "'~/x' \\~",
    "'a;b' \"c|d\" e\\&f \\(g\\)",
    "'#' \\#x",
    "'{a,b}' \\{a,b}",
    "trailing   ",
    "if then fi",  # keywords are ordinary words after the command name
    "'\r' \"\r\" \\\r",  # a quoted CR is kept
]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("arguments", PLAIN_ARGUMENTS)
def test_split_words_matches_real_shell(shell: str, arguments: str, dumper: str, empty_dir: Path) -> None:
    text = f"{dumper} {arguments}"
    predicted = split_words(text)
    assert predicted is not None, text
    assert predicted == [dumper] + run_sh_c(shell, text, empty_dir)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t\n",
        "app $PORT",
        "app ${PORT}",
        'app "$PORT"',
        "app $(date)",
        "app `date`",
        "app $((1+2))",
        "app $'ansi'",
        'app $"translated"',
        "app *.py",
        "app file?",
        "app [ab]",
        "app ~/x",
        "app x=~/y",  # bash expands this one, dash does not
        "~/bin/app",
        "app a && b",
        "a || b",
        "a; b",
        "a | b",
        "a &",
        "app > log",
        "app 2>&1",
        "app <in",
        "FOO=1 app",
        "FOO+=1 app",
        "_x=1",
        "app # comment",
        "# only a comment",
        "a\nb",
        "(app)",
        "{ app; }",
        "{",
        "! app",
        "if true; then app; fi",
        "while",
        "for x in a; do app; done",
        "case",
        "[[ -f x ]]",
        "function f",
        "time app",
        "echo {a,b}",
        "echo {1..3}",
        "app 'unterminated",
        'app "unterminated',
        "app trailing\\",
        "app\r",  # a stray CR from a CRLF file: refused rather than kept in the argv
        "app \x01",
        "app \0",
    ],
)
def test_split_words_refuses_what_needs_a_shell(text: str) -> None:
    assert split_words(text) is None


def test_split_words_allows_blank_lines_around_one_command() -> None:
    assert split_words("\n  app a\n\n") == ["app", "a"]


def test_a_quoted_first_word_is_not_an_assignment_or_keyword(dumper: str, empty_dir: Path) -> None:
    # "FOO=1" quoted is a command name, not an assignment; sh tries to run it.
    assert split_words("'FOO=1' app") == ["FOO=1", "app"]
    assert split_words('"if" x') == ["if", "x"]
    for shell in SHELLS:
        done = subprocess.run([shell, "-c", "'FOO=1' app"], cwd=empty_dir, capture_output=True, text=True)
        assert done.returncode == 127  # "FOO=1: not found": it was run as a command


# Words of any characters (no NUL, which argv cannot carry), quoted in one of several ways.
WORD_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")


def quote_word(word: str, style: int) -> str:
    """Render `word` so that sh reads it back exactly, in one of four quoting styles."""
    if style == 0:  # single quotes, ' written as '\''
        return "'" + word.replace("'", "'\\''") + "'"
    if style == 1:  # double quotes with \ before the four escapable characters
        return '"' + "".join("\\" + c if c in '$`"\\' else c for c in word) + '"'
    if style == 2:  # backslash before every non-alphanumeric character; newline in quotes
        return "".join(c if c.isalnum() else ("'\n'" if c == "\n" else "\\" + c) for c in word) or "''"
    # mixed: alternate single and double quoting per character
    return "".join(quote_word(c, i % 2) for i, c in enumerate(word)) or '""'


@st.composite
def quoted_commands(draw: st.DrawFn) -> Tuple[str, List[str]]:
    """(text, argv): a command line built from random words, and the argv it stands for."""
    words = draw(st.lists(st.text(WORD_CHARS, max_size=8), min_size=1, max_size=5))
    parts = [quote_word(word, draw(st.integers(0, 3))) for word in words]
    separators = [draw(st.sampled_from([" ", "\t", "  ", " \\\n "])) for _ in parts]
    return "".join(sep + part for sep, part in zip(separators, parts)), words


@pytest.mark.skipif(not SHELLS, reason="no dash or bash")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quoted_commands())
def test_split_words_property_quoted_words(dumper: str, empty_dir: Path, command: Tuple[str, List[str]]) -> None:
    text, words = command
    assert split_words(dumper + text) == [dumper] + words
    for shell in SHELLS:
        assert run_sh_c(shell, dumper + text, empty_dir) == words


TRICKY = st.text(st.sampled_from(list("ab =,.-_'\"\\\t\n$*?[]{}~#;&|<>()!\r\u00e9")), max_size=14)


@pytest.mark.skipif(not SHELLS, reason="no dash or bash")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TRICKY)
def test_split_words_property_any_text_is_exact_or_refused(dumper: str, empty_dir: Path, arguments: str) -> None:
    """Whenever split_words answers at all, real shells build exactly that argv."""
    text = f"{dumper} {arguments}"
    predicted = split_words(text)
    if predicted is None:
        return
    for shell in SHELLS:
        assert [dumper] + run_sh_c(shell, text, empty_dir) == predicted, (shell, text)


def test_exec_argv() -> None:
    assert exec_argv("python app.py") == ["python", "app.py"]
    assert exec_argv("exec python app.py") == ["python", "app.py"]
    assert exec_argv("exec -a name python") is None
    assert exec_argv("exec") is None
    assert exec_argv("echo hi") is None  # dash's echo is not /bin/echo
    assert exec_argv("cd /app") is None
    assert exec_argv("python $X") is None


# ------------------------------------------------------------------------------------------
# classify
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("python app.py", "plain"),
        ("'python' \"app.py\"", "plain"),
        ("", "empty"),
        ("  \n\t", "empty"),
        ("# nothing", "empty"),
        ("gunicorn -b 0.0.0.0:$PORT app:app", "expansion"),
        ('gunicorn -b "0.0.0.0:${PORT:-8000}" app:app', "expansion"),
        ('app "$@"', "expansion"),
        ("$APP --flag", "expansion"),
        ("app ${X:-'a b'}", "expansion"),
        ('app "${X:-"$Y"}"', "compound"),  # nested quoted expansion: refused, stays safe
        ("app $1 $# $?", "expansion"),
        ("app ${X:-$(date)}", "compound"),
        ("app $(date)", "compound"),
        ("app `date`", "compound"),
        ("app $((1+2))", "compound"),
        ("app $X > log", "compound"),
        ("FOO=$X app", "compound"),
        ("app $X && other", "compound"),
        ("a | b", "compound"),
        ("app $X &", "compound"),
        ("app *.py", "compound"),
        ("app ~/x $X", "compound"),
        ("if true; then app; fi", "compound"),
        ("(app $X)", "compound"),
        ("app $X\nother", "compound"),
        ("app $", "compound"),
        ("app $'x'", "compound"),
        ("app ${}", "compound"),  # dash and bash: "Bad substitution", the command never runs
        ("app ${!X} ${X/a/b} ${X:1} ${X^}", "compound"),  # bash-only forms: dash refuses them
        ("app ${#X:-a}", "compound"),
        ("app ${#X} ${#} ${$#} ${10} ${X%%.*}", "expansion"),
    ],
)
def test_classify(text: str, expected: str) -> None:
    assert classify(text) == expected


@pytest.mark.skipif(not SHELLS, reason="no dash or bash")
@pytest.mark.parametrize(
    "arguments",
    ["--port $PORT", '"${PORT:-8000}" ${UNSET:-fallback}', '"$@" $#', "${EMPTY:-}x '$PORT'", 'a"$PORT"b${PORT}'],
)
def test_expansion_is_safe_to_prefix_with_exec(dumper: str, empty_dir: Path, arguments: str) -> None:
    """"expansion" means: `exec TEXT` runs the same argv as TEXT, as the shell's own process."""
    text = f"{dumper} {arguments}"
    assert classify(text) == "expansion"
    env = dict(os.environ, PORT="8080", EMPTY="")
    for shell in SHELLS:
        outputs = []
        for command in (text, f"exec {text}"):
            done = subprocess.run(
                [shell, "-c", f'echo "shell=$$"; {command}', "sh", "x y", "z"],
                cwd=empty_dir, env=env, capture_output=True, text=True, check=True,
            )
            shell_line, program_line = done.stdout.splitlines()
            outputs.append((int(shell_line.split("=")[1]), json.loads(program_line)))
        (_, plain), (exec_shell_pid, execed) = outputs
        assert plain["argv"] == execed["argv"]
        assert execed["pid"] == exec_shell_pid


EXPANSION_PIECES = st.lists(
    st.sampled_from(["$X", "${X}", "${X:-", "${Y:-d e}", "}", "$@", "$1", "$#", '"', "'", " ", "a", "\\",
                     ";", "$(", ")", "`", "*", "~", "=", "{", ",", "$", ":", "-", "#", ">", "&"]),
    max_size=10,
).map("".join)


@needs_parser
@settings(max_examples=300, deadline=None)
@given(EXPANSION_PIECES)
def test_classify_agrees_with_tree_sitter_on_single_commands(arguments: str) -> None:
    """Whatever classify calls plain or expansion, the bash grammar sees as one bare command.

    A second opinion only: the exec property below runs real shells.
    """
    text = f"app {arguments}"
    if classify(text) not in ("plain", "expansion"):
        return
    from initify.dockerfile.shell import _parser

    root = _parser().parse(text.encode()).root_node
    if root.has_error:  # tree-sitter-bash's own gaps (`{=`, a final `\\ ` in 0.23): real shells decide
        return
    statements = [child for child in root.children if child.is_named and child.type != "comment"]
    assert [node.type for node in statements] == ["command"], text
    banned = {"variable_assignment", "file_redirect", "heredoc_redirect", "command_substitution",
              "arithmetic_expansion", "process_substitution", "pipeline", "list"}
    stack = [statements[0]]
    while stack:
        node = stack.pop()
        assert node.type not in banned, text
        stack.extend(node.children)


@pytest.mark.skipif(not SHELLS, reason="no dash or bash")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EXPANSION_PIECES)
@example(arguments="${} ${$#}")  # found by this property: `${}` fails before anything runs
def test_classify_expansion_property_exec_changes_nothing_but_the_pid(dumper: str, empty_dir: Path, arguments: str) -> None:
    """For any text classify calls "expansion", `exec TEXT` gives the same argv, as the shell's PID."""
    text = f"{dumper} {arguments}"
    if classify(text) != "expansion" or "$$" in arguments:  # $$ differs between two shells anyway
        return
    env = dict(os.environ, X="x  *", Y="")
    for shell in SHELLS:
        results = []
        for command in (text, f"exec {text}"):
            done = subprocess.run([shell, "-c", f'echo "shell=$$"; {command}', "sh", "p q", "r"],
                                  cwd=empty_dir, env=env, capture_output=True, text=True)
            lines = done.stdout.splitlines()
            results.append((int(lines[0].split("=")[1]), json.loads(lines[1]) if len(lines) > 1 else None, done.returncode))
        (_, plain, status), (exec_pid, execed, exec_status) = results
        assert plain is not None and execed is not None, (shell, text)
        assert (plain["argv"], status) == (execed["argv"], exec_status), (shell, text)
        assert execed["pid"] == exec_pid


# ------------------------------------------------------------------------------------------
# analyse
# ------------------------------------------------------------------------------------------

# (script with {D} for the dumper, ends_with_exec, last_command, runs_args, compound_last)
ANALYSE_CASES = [
    ("exec {D} a", True, "exec {D} a", False, False),
    ('exec "$@"', True, 'exec "$@"', True, False),
    ('"$@"', False, '"$@"', True, False),
    ("{D} a", False, "{D} a", False, False),
    ('set -e\nif [ "$1" = x ]; then\n  shift\nfi\nexec "$@"\n', True, 'exec "$@"', True, False),
    ("FOO=1 exec {D} a 2>/dev/null", True, "FOO=1 exec {D} a", False, False),
    ("exec 3>/dev/null\n{D} a", False, "{D} a", False, False),
    ("exec 3>/dev/null", False, "exec", False, False),
    ("{D} a | cat", False, "{D} a | cat", False, True),
    # `a && exec b`: when b runs at all it has the shell's PID (a failing `a` ends the script).
    ("true && exec {D} a", True, "exec {D} a", False, False),
    ("true && true && exec {D} a", True, "exec {D} a", False, False),
    ("true || exec {D} a", False, "true || exec {D} a", False, True),
    ("(exec {D} a)", False, "(exec {D} a)", False, True),
    ("exec {D} a &", False, "exec {D} a", False, True),
    ("{D} a &\nwait", False, "wait", False, False),
    (
        '_main() {\n\tif [ "$1" = x ]; then\n\t\techo setup\n\tfi\n\texec "$@"\n}\n'
        "_is_sourced() { false; }\nif ! _is_sourced; then\n\t_main \"$@\"\nfi\n",
        True, 'exec "$@"', True, False,
    ),
    ('main() { "$@"; }\nmain "$@"\n', False, '"$@"', True, False),
    ('if [ "$1" = a ]; then exec {D} a; else exec {D} b; fi', True, "exec {D} b", False, False),
    ('if [ "$1" = a ]; then exec {D} a; else {D} b; fi', False, "{D} b", False, False),
    ('if [ "$1" = a ]; then echo usage >&2; exit 1; fi\nexec {D} ok', True, "exec {D} ok", False, False),
    ('if [ -z "$1" ]; then echo usage; exit 2; else exec {D} "$@"; fi', True, 'exec {D} "$@"', False, False),
    ('case "$1" in\n  a) exec {D} a ;;\n  *) exec {D} other ;;\nesac', True, "exec {D} other", False, False),
    ('case "$1" in\n  a) exec {D} a ;;\n  *) {D} other ;;\nesac', False, "{D} other", False, False),
    ("{ echo hi; exec {D} g; }", True, "exec {D} g", False, False),
    ("{D} a\nexit $?", False, "{D} a", False, False),
    ("exec env {D} a", True, "exec env {D} a", False, False),  # like gosu / su-exec
    ("{D} a # trailing comment\n# another\n", False, "{D} a", False, False),
    ("{D} a\nhelper() { :; }\n", False, "{D} a", False, False),
]


def fill(template: str, dumper: str) -> str:
    return template.replace("{D}", dumper)


@needs_parser
@pytest.mark.parametrize("case", ANALYSE_CASES, ids=[str(i) for i in range(len(ANALYSE_CASES))])
def test_analyse_cases(case: tuple, dumper: str) -> None:
    template, ends_with_exec, last_command, runs_args, compound_last = case
    script = fill(template, dumper)
    result = analyse(script)
    assert result.ok, result.error
    assert result.ends_with_exec is ends_with_exec, result.reason
    assert result.last_command == fill(last_command, dumper)
    assert result.runs_args is runs_args
    assert result.compound_last is compound_last
    assert script[result.last_start : result.last_end] == result.last_command
    assert result.last_line == script[: result.last_start].count("\n") + 1


@needs_parser
@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("case", ANALYSE_CASES, ids=[str(i) for i in range(len(ANALYSE_CASES))])
def test_analyse_agrees_with_the_pid_the_program_really_gets(case: tuple, shell: str, dumper: str, tmp_path: Path) -> None:
    """ends_with_exec is True exactly when the program that runs last has the shell's PID."""
    template, ends_with_exec = case[0], case[1]
    script = fill(template, dumper)
    shell_pid, outputs, _ = run_script(shell, script, tmp_path / "s.sh", args=(dumper, "x"))
    if not outputs:  # this script runs no dumper in the foreground (loops, recursion, wait)
        assert not ends_with_exec
        return
    assert (outputs[-1]["pid"] == shell_pid) is ends_with_exec


@needs_parser
@pytest.mark.parametrize(
    "script, last_command",
    [
        ("f() { f; }\nf", "f"),
        ("while true; do sleep 1; done", "while true; do sleep 1; done"),
        ("for x in a b; do app; done", "for x in a b; do app; done"),
        ("! app", "! app"),
    ],
)
def test_analyse_compound_endings(script: str, last_command: str) -> None:
    """Endings that are not a plain exec (not run: some never end)."""
    result = analyse(script)
    assert result.ok and not result.ends_with_exec and result.compound_last
    assert result.last_command == last_command


@needs_parser
def test_analyse_trap_and_wait_forwards_signals() -> None:
    script = 'trap \'kill -TERM "$child"\' TERM INT\napp &\nchild=$!\nwait "$child"\n'
    result = analyse(script)
    assert result.ok and not result.ends_with_exec
    assert result.forwards_signals
    assert result.last_command == 'wait "$child"'
    assert "TERM" in result.traps


@needs_parser
def test_analyse_one_line_forwarder() -> None:
    result = analyse("trap 'kill -TERM $!' TERM; app & wait $!")
    assert result.forwards_signals and not result.ends_with_exec and result.last_command == "wait $!"


@needs_parser
@pytest.mark.parametrize(
    "script, program",
    [('exec gosu postgres "$@"', "gosu"), ("exec su-exec app:app /app/server", "su-exec"), ("exec -a name app", "app")],
)
def test_analyse_names_the_execed_program(script: str, program: str) -> None:
    result = analyse(script)
    assert result.ends_with_exec and result.program == program and not result.runs_args


@needs_parser
def test_analyse_trap_handler_function_forwards_signals() -> None:
    script = "term() {\n  kill -TERM \"$pid\"\n}\ntrap term TERM\napp &\npid=$!\nwait\n"
    assert analyse(script).forwards_signals


@needs_parser
def test_analyse_wait_without_trap_does_not_forward() -> None:
    assert not analyse("app &\nwait\n").forwards_signals
    assert not analyse("trap 'echo bye' TERM\napp &\nwait\n").forwards_signals


@needs_parser
def test_analyse_reports_parse_errors_without_raising() -> None:
    for script in ("if true; then", "case x in", "app )", "f() {", "echo $((", "echo $(ls", "exec \"$@", "cat <<EOF\nabc\n"):
        result = analyse(script)
        assert not result.ok and result.error, script
        assert not result.ends_with_exec


@needs_parser
def test_analyse_empty_and_comment_only() -> None:
    for script in ("", "# nothing\n", "f() { exec app; }\n"):
        result = analyse(script)
        assert result.ok and not result.ends_with_exec and result.last_command is None


@needs_parser
def test_analyse_exit_only_paths() -> None:
    result = analyse("echo usage\nexit 1\n")
    assert result.ok and not result.ends_with_exec and result.last_command == "exit 1"


@needs_parser
def test_analyse_offsets_are_characters_not_bytes() -> None:
    script = "echo 'caf\u00e9 \u65e5\u672c'\napp \u00e9\n"
    result = analyse(script)
    assert script[result.last_start : result.last_end] == "app \u00e9"
    assert result.last_line == 2


@needs_parser
def test_analyse_crlf_script() -> None:
    script = "#!/bin/sh\r\nset -e\r\nexec app\r\n"
    result = analyse(script)
    assert result.ok and result.ends_with_exec and result.last_line == 3


@needs_parser
def test_analyse_is_a_sh_c_string_too() -> None:
    result = analyse("cd /app && exec gunicorn app")
    assert result.ok and result.ends_with_exec and not result.compound_last
    assert result.last_command == "exec gunicorn app"


# ------------------------------------------------------------------------------------------
# add_exec
# ------------------------------------------------------------------------------------------

ADD_EXEC_CASES = [
    ("cd / && {D} a", "cd / && exec {D} a"),
    ("{D} a", "exec {D} a"),
    ('"$@"', 'exec "$@"'),
    ("set -e\necho start >&2\n{D} a 'b c'\n", "set -e\necho start >&2\nexec {D} a 'b c'\n"),
    ("FOO=1 {D} $FOO", "FOO=1 exec {D} $FOO"),
    ("2>/dev/null {D} a", "2>/dev/null exec {D} a"),
    ("{D} a 2>&1\n# done\n", "exec {D} a 2>&1\n# done\n"),
    ('if [ "$1" = x ]; then exec {D} x; else {D} y; fi', 'if [ "$1" = x ]; then exec {D} x; else exec {D} y; fi'),
    ('case "$1" in a) {D} a;; *) {D} b;; esac', 'case "$1" in a) exec {D} a;; *) exec {D} b;; esac'),
    ("{ echo hi >&2; {D} g; }", "{ echo hi >&2; exec {D} g; }"),
    ("{D} a\nexit $?\n", "exec {D} a\nexit $?\n"),
    ("\t{D} a  ", "\texec {D} a  "),
]


@needs_parser
@pytest.mark.parametrize("case", ADD_EXEC_CASES, ids=[str(i) for i in range(len(ADD_EXEC_CASES))])
def test_add_exec_text(case: Tuple[str, str], dumper: str) -> None:
    before, after = (fill(text, dumper) for text in case)
    assert add_exec(before) == after
    assert analyse(after).ends_with_exec


@needs_parser
@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("case", ADD_EXEC_CASES, ids=[str(i) for i in range(len(ADD_EXEC_CASES))])
@pytest.mark.parametrize("args", [("x",), ("y", "z z")])
def test_add_exec_behaves_the_same_but_execs(case: Tuple[str, str], args: Tuple[str, ...], shell: str, dumper: str, tmp_path: Path) -> None:
    before = fill(case[0], dumper)
    after = add_exec(before)
    assert after is not None
    argv = (dumper, *args)
    shell_pid, outputs, status = run_script(shell, before, tmp_path / "before.sh", argv)
    exec_pid, exec_outputs, exec_status = run_script(shell, after, tmp_path / "after.sh", argv)
    assert [out["argv"] for out in outputs] == [out["argv"] for out in exec_outputs]
    assert status == exec_status
    assert outputs[-1]["pid"] != shell_pid  # before: a child of the shell
    assert exec_outputs[-1]["pid"] == exec_pid  # after: the shell's own process


@needs_parser
@pytest.mark.parametrize(
    "script",
    [
        "",
        "# nothing",
        "exec app",
        'exec "$@"',
        "app | cat",
        "app &",
        "app &\nwait",
        "(app)",
        "while true; do app; done",
        "echo done",  # builtin: exec would run /bin/echo instead
        "cd /app",
        "main() { app; }\nmain",  # inside a function: refused
        "trap 'rm -f /tmp/lock' EXIT\napp",  # exec would drop the EXIT trap
        "! app",
        "if true; then",
        "x=1",
        "app\nexit 0",
    ],
)
def test_add_exec_refuses_what_is_not_exact(script: str) -> None:
    assert add_exec(script) is None


@needs_parser
def test_add_exec_keeps_every_other_byte_crlf() -> None:
    script = "#!/bin/sh\r\nset -e\r\n\r\n# start\r\npython app.py --port 80\r\n"
    assert add_exec(script) == "#!/bin/sh\r\nset -e\r\n\r\n# start\r\nexec python app.py --port 80\r\n"


@needs_parser
def test_add_exec_keeps_non_ascii_text() -> None:
    script = "echo 'd\u00e9marrage \u65e5\u672c'\napp --name \u00e9t\u00e9\n"
    assert add_exec(script) == "echo 'd\u00e9marrage \u65e5\u672c'\nexec app --name \u00e9t\u00e9\n"


PRELUDES = ["", "set -e\n", "echo start >&2\n", 'X="a b"\n', "helper() { echo h >&2; }\nhelper\n", "# c\n"]
LASTS = [
    "{D} $X",
    '{D} "$X" lit',
    '"$@"',
    "X=q {D} \"$X\"",
    "{D} a >&1",
    'if [ -n "$1" ]; then {D} then; else {D} else; fi',
    'case "$2" in z*) {D} z;; *) {D} other;; esac',
    "{ {D} group; }",
]


@needs_parser
@pytest.mark.skipif(not SHELLS, reason="no dash or bash")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    preludes=st.lists(st.sampled_from(PRELUDES), max_size=3),
    last=st.sampled_from(LASTS),
    trailer=st.sampled_from(["", "\n", "\n# end\n", "  # c\n", "\nexit $?\n"]),
    args=st.lists(st.sampled_from(["", "z", "a b", "y"]), max_size=2),
)
def test_add_exec_property_same_output_and_pid(preludes: List[str], last: str, trailer: str, args: List[str], dumper: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    before = "".join(preludes) + fill(last, dumper) + trailer
    after = add_exec(before)
    assert after is not None, before
    assert after.replace("exec ", "") == before.replace("exec ", "")
    work = tmp_path_factory.mktemp("prop")
    argv = (dumper, *args)
    for shell in SHELLS:
        shell_pid, outputs, status = run_script(shell, before, work / "before.sh", argv)
        exec_pid, exec_outputs, exec_status = run_script(shell, after, work / "after.sh", argv)
        assert [out["argv"] for out in outputs] == [out["argv"] for out in exec_outputs]
        assert status == exec_status
        assert outputs[-1]["pid"] != shell_pid
        assert exec_outputs[-1]["pid"] == exec_pid


def test_module_import_does_not_load_parsers() -> None:
    code = "import sys, initify.dockerfile.shell; print('tree_sitter' in sys.modules, 'bashlex' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.split() == ["False", "False"]

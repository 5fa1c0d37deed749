"""Shell analysis for the rules that care about what PID 1 runs.

Three questions are answered here:

* `split_words` / `classify`: is a shell-form command (`CMD python app.py`) plain words, so that
  it can become an exact exec-form argv, or does it need a shell at run time?
* `analyse`: does a `sh -c` string or an entrypoint script hand off to its real program with
  `exec` at the end, so that the program becomes PID 1 and receives SIGTERM? (dash, Debian's
  /bin/sh, forks the last command instead of exec-ing it, and no shell forwards signals.)
* `add_exec`: insert `exec ` before the last command when doing so changes nothing else.

Parser choice: tree-sitter-bash (PyPI `tree-sitter` + `tree-sitter-bash`). On the 82 real
entrypoint/start scripts of the shared corpus, bashlex parsed 25: it raises on every `case`
(NotImplementedError for patterns), on `$((...))`, `[[ ... ]]` and arrays `a=(...)`, all common
in entrypoints (postgres, rabbitmq, nginx, jupyter). tree-sitter-bash parsed 81 cleanly and the
last one with one local error inside a `${X:+(...)}` word, which leaves the command structure
intact and is tolerated (see `_WORD_LEVEL`). tree-sitter also imports in about a millisecond
and parses the whole corpus in 25 ms. It is still imported lazily so that this module imports
without it (`analyse` then reports ok=False and `classify` needs no parser at all).

`split_words` and `classify` do not use the parser: the question they answer is "is this only
words, quotes and escapes (plus parameter expansions)?", and the argv must be computed with
exactly sh's quote removal, which no parser gives. A strict scanner does this and refuses
everything else, and the tests check it against real dash and bash.
"""

from __future__ import annotations

import functools
import os
import re
from typing import TYPE_CHECKING, Dict, FrozenSet, List, NamedTuple, Optional, Tuple

from initify.record import Record

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tree_sitter import Node, Parser

# Words that are only reserved as the first word of a command (POSIX plus bash's extras).
RESERVED_WORDS: FrozenSet[str] = frozenset(
    "! { } case do done elif else esac fi for if in then until while [[ ]] function select time"
    " coproc".split()
)

# Builtins of dash and bash: `exec NAME` would look NAME up on PATH instead, which either fails
# (`cd`, `export`) or runs a different program (`echo`, `printf`, `test`, `kill`).
SHELL_BUILTINS: FrozenSet[str] = frozenset(
    ". : [ alias bg break cd chdir command continue echo eval exec exit export false fc fg"
    " getopts hash jobs kill local printf pwd read readonly return set shift test times trap"
    " true type ulimit umask unalias unset wait bind builtin caller compgen complete compopt"
    " declare dirs disown enable help history let logout mapfile popd pushd readarray shopt"
    " source suspend typeset".split()
)

# Characters that, unquoted, make a word need the shell: operators, redirections, expansions,
# globs. `#`, `~` and `{` are handled separately since they are special only in some places.
_UNQUOTED_SPECIAL = frozenset("|&;<>()$`*?[")
_BLANKS = " \t"
_DQ_ESCAPABLE = '$`"\\'
_SPECIAL_PARAMETERS = frozenset("@*#?-$!0123456789")
_TERM_SIGNALS = frozenset({"TERM", "SIGTERM", "15", "INT", "SIGINT", "2"})


# --------------------------------------------------------------------------------------------
# split_words / classify: a strict scanner for "words, quotes and escapes" (and `$NAME`)
# --------------------------------------------------------------------------------------------


class _NeedsShell(Exception):
    """Raised by the scanner when the text uses something beyond what it accepts."""


class _Word(Record):
    """One word as scanned: its raw text, its value after quote removal, what it contained."""

    __slots__ = ("raw", "value", "has_expansion", "unquoted_brace")

    def __init__(self) -> None:
        self.raw = ""
        self.value = ""
        self.has_expansion = False
        self.unquoted_brace = False


class _Scanner:
    """Splits one simple command into words exactly like sh's tokenizer and quote removal.

    With `allow_parameters`, `$NAME`, `$1`, `$@`... and `${...}` without command substitution
    are accepted (the word's value is then meaningless, only `has_expansion` matters).
    Anything else that needs the shell raises `_NeedsShell`.
    """

    def __init__(self, text: str, allow_parameters: bool) -> None:
        self.text = text
        self.pos = 0
        self.allow_parameters = allow_parameters
        self.words: List[_Word] = []
        self.current: Optional[_Word] = None
        self.word_start = 0
        self.after_newline = False

    def scan(self) -> List[_Word]:
        """Scan the whole text; return its words."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _BLANKS or char == "\n":
                self._end_word()
                self.after_newline = self.after_newline or (char == "\n" and bool(self.words))
                self.pos += 1
            elif char == "\\":
                self._backslash()
            elif char == "'":
                self._single_quotes()
            elif char == '"':
                self._double_quotes()
            elif char == "$" and self.allow_parameters:
                self._word().has_expansion = True
                self._parameter()
            else:
                self._plain_char(char)
        self._end_word()
        return self.words

    def _word(self) -> _Word:
        """The word being built, starting one if needed (a second command line is refused)."""
        if self.current is None:
            if self.after_newline:
                raise _NeedsShell("several commands")
            self.current = _Word()
            self.word_start = self.pos
        return self.current

    def _end_word(self) -> None:
        if self.current is not None:
            self.current.raw = self.text[self.word_start : self.pos]
            self.words.append(self.current)
            self.current = None

    def _backslash(self) -> None:
        if self.pos + 1 >= len(self.text):
            raise _NeedsShell("trailing backslash")
        escaped = self.text[self.pos + 1]
        self.pos += 2
        if escaped != "\n":  # backslash-newline is a line continuation: it disappears
            self._word().value += escaped

    def _single_quotes(self) -> None:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise _NeedsShell("unterminated single quote")
        self._word().value += self.text[self.pos + 1 : end]
        self.pos = end + 1

    def _double_quotes(self) -> None:
        word = self._word()
        text = self.text
        pos = self.pos + 1
        parts: List[str] = []  # joined once: `value += char` made a 1 MB word quadratic
        while pos < len(text) and text[pos] != '"':
            char = text[pos]
            if char == "\\" and pos + 1 < len(text) and text[pos + 1] in _DQ_ESCAPABLE + "\n":
                if text[pos + 1] != "\n":
                    parts.append(text[pos + 1])
                pos += 2
            elif char == "$" and self.allow_parameters:
                word.has_expansion = True
                self.pos = pos
                self._parameter()
                pos = self.pos
            elif char in "$`":
                raise _NeedsShell("expansion inside double quotes")
            else:
                parts.append(char)
                pos += 1
        if pos >= len(text):
            raise _NeedsShell("unterminated double quote")
        word.value += "".join(parts)
        self.pos = pos + 1

    def _parameter(self) -> None:
        """Consume `$NAME`, `$1`, `$@`... or `${...}`; refuse `$(`, `$'`, a lone `$`."""
        text = self.text
        pos = self.pos + 1
        nxt = text[pos] if pos < len(text) else ""
        if nxt == "{":
            _check_braced_parameter(text, pos + 1)
            self.pos = _end_of_braced_parameter(text, pos + 1)
        elif nxt in _SPECIAL_PARAMETERS and nxt:
            self.pos = pos + 1
        elif nxt.isascii() and (nxt.isalpha() or nxt == "_"):
            while pos < len(text) and text[pos].isascii() and (text[pos].isalnum() or text[pos] == "_"):
                pos += 1
            self.pos = pos
        else:
            raise _NeedsShell("not a parameter expansion")

    def _plain_char(self, char: str) -> None:
        """Consume `char` and the plain characters after it in one go (one concatenation per
        run, not per character: a 1 MB word stays linear)."""
        if char == "#" and self.current is None:
            raise _NeedsShell(f"unquoted {char!r}")
        word = self._word()
        text = self.text
        start = pos = self.pos
        end = len(text)
        while pos < end:
            char = text[pos]
            if char in _BLANKS or char in _RUN_ENDS:
                break
            if char == "$" and self.allow_parameters:
                break
            if char in _UNQUOTED_SPECIAL or char == "~":
                raise _NeedsShell(f"unquoted {char!r}")
            if char == "\0" or "\ud800" <= char <= "\udfff" or (ord(char) < 32 and char != "\t") or char == "\x7f":
                raise _NeedsShell("control character")
            if char == "{":
                word.unquoted_brace = True
            pos += 1
        word.value += text[start:pos]
        self.pos = pos


_RUN_ENDS = frozenset("\n\\'\"")  # what ends a run of plain characters (besides blanks and `$`)

_POSIX_OPERATORS = (":-", ":=", ":?", ":+", "%%", "##", "-", "=", "?", "+", "%", "#")


def _check_braced_parameter(text: str, pos: int) -> None:
    """Refuse a `${` whose content at `pos` is not a POSIX parameter expansion: `${}` and bash's
    `${!x}`, `${x/a/b}`, `${x:1}`, `${x^}` make dash fail with "Bad substitution".

    Accepted: `${P}`, `${P<op>word}` with a POSIX operator, and `${#P}` (length), where P is a
    name, a positional number or a special parameter.
    """
    def parameter_end(at: int) -> int:
        if at < len(text) and (text[at] == "_" or (text[at].isascii() and text[at].isalpha())):
            while at < len(text) and (text[at] == "_" or (text[at].isascii() and text[at].isalnum())):
                at += 1
            return at
        if at < len(text) and text[at].isdigit():
            while at < len(text) and text[at].isdigit():
                at += 1
            return at
        if at < len(text) and text[at] in _SPECIAL_PARAMETERS:
            return at + 1
        raise _NeedsShell("not a POSIX parameter expansion")

    if text.startswith("#", pos) and not text.startswith("#}", pos) and pos + 1 < len(text) and text[pos + 1] not in ":-=?+%#":
        if text.startswith("}", parameter_end(pos + 1)):
            return  # ${#P}: the length of P
        raise _NeedsShell("not a POSIX parameter expansion")
    end = parameter_end(pos)
    if not (text.startswith("}", end) or text.startswith(_POSIX_OPERATORS, end)):
        raise _NeedsShell("not a POSIX parameter expansion")


def _end_of_braced_parameter(text: str, pos: int) -> int:
    """Index just past the `}` closing a `${` whose content starts at `pos`.

    Nested `${...}` and quotes are followed; command substitution, backticks and arithmetic
    are refused, so what is accepted is a parameter expansion and nothing else.
    """
    depth = 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "`" or text.startswith("$(", pos):
            raise _NeedsShell("command substitution")
        if char == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                raise _NeedsShell("unterminated single quote")
            pos = end + 1
            continue
        if char == '"':
            pos = _end_of_double_quotes_in_parameter(text, pos + 1)
            continue
        if text.startswith("${", pos):
            depth += 1
            pos += 2
            continue
        if char == "}":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    raise _NeedsShell("unterminated ${")


def _end_of_double_quotes_in_parameter(text: str, pos: int) -> int:
    """Index just past the `"` closing a double-quoted part of a `${...}` word.

    Expansions inside are refused unless they are simple `$NAME` ones: keeping this strict
    keeps `_end_of_braced_parameter` exact without a full recursive word parser.
    """
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
        elif char == "`" or char == "$":
            raise _NeedsShell("expansion nested in a quoted ${...} word")
        elif char == '"':
            return pos + 1
        else:
            pos += 1
    raise _NeedsShell("unterminated double quote")


def _is_assignment(raw: str) -> bool:
    """Whether an unquoted first word is `NAME=...` (or bash's `NAME+=...`)."""
    name, equals, _ = raw.partition("=")
    name = name[:-1] if name.endswith("+") else name
    return bool(equals) and name.isascii() and name.isidentifier()


def _scan_command(text: str, allow_parameters: bool) -> Optional[List[_Word]]:
    """The words of `text` if it is one simple command of the accepted kind, else None."""
    if "\0" in text:
        return None
    try:
        words = _Scanner(text, allow_parameters).scan()
    except _NeedsShell:
        return None
    if not words:
        return None
    first = words[0].raw
    if first in RESERVED_WORDS or _is_assignment(first):
        return None
    for word in words:
        # bash expands `a{b,c}` and `{1..3}` (dash does not): refuse rather than guess.
        if word.unquoted_brace and ("," in word.raw or ".." in word.raw):
            return None
    return words


def split_words(text: str) -> Optional[List[str]]:
    """The argv sh builds for `text` when it is one simple command of plain words, else None.

    Quotes and backslashes are removed exactly as POSIX sh does (including backslash-newline
    continuations). None means the text needs a shell at run time: any expansion, glob, `~`,
    operator, redirection, assignment prefix, comment, keyword, a second command, bash brace
    expansion, or an unquoted control character (a stray `\\r` from CRLF is refused rather
    than kept in the argv). Empty or blank text gives None.

    The first word may still be a shell builtin (`cd`, `echo`); see `exec_argv`.
    """
    words = _scan_command(text, allow_parameters=False)
    return None if words is None else [word.value for word in words]


def exec_argv(text: str) -> Optional[List[str]]:
    """The argv to put in an exec-form CMD for shell-form `text`, when it is exact, else None.

    Like `split_words`, but a leading `exec` is dropped (`exec app` runs `app`), and a command
    that is a shell builtin is refused (exec form would run /bin/echo or fail on `cd`).
    """
    argv = split_words(text)
    if argv and argv[0] == "exec":
        argv = argv[1:]
        if argv and argv[0].startswith("-"):  # bash's `exec -a NAME` / `-c` / `-l`
            return None
    if not argv or argv[0] in SHELL_BUILTINS or argv[0] in RESERVED_WORDS:
        return None
    return argv


def classify(text: str) -> str:
    """"plain", "expansion", "compound" or "empty" for a shell-form command.

    * "plain": `split_words` gives its exact argv.
    * "expansion": one simple command that needs the shell only for parameter expansion
      (`$PORT`, `"${PORT:-8000}"`, `"$@"`): no operator, redirection, command substitution,
      glob, `~` or assignment prefix, so prefixing `exec ` is safe.
    * "compound": anything else (lists, pipes, redirections, compound commands, command
      substitution, globs, `FOO=1 app`...).
    * "empty": only blanks and newlines, or only a comment.
    """
    if _is_blank_or_comment(text):
        return "empty"
    if split_words(text) is not None:
        return "plain"
    words = _scan_command(text, allow_parameters=True)
    if words is not None and any(word.has_expansion for word in words):
        return "expansion"
    return "compound"


def _is_blank_or_comment(text: str) -> bool:
    """Whether `text` runs nothing: blank lines and whole-line `#` comments only."""
    return all(not line.strip(" \t") or line.lstrip(" \t").startswith("#") for line in text.split("\n"))


# --------------------------------------------------------------------------------------------
# analyse / add_exec: tree-sitter-bash
# --------------------------------------------------------------------------------------------


class ParserUnavailable(Exception):
    """tree-sitter or tree-sitter-bash is not installed."""


@functools.lru_cache(maxsize=1)
def _parser() -> "Parser":
    """The bash parser, built once. Imported here so importing this module stays cheap."""
    try:
        import tree_sitter
    except ImportError as exc:
        raise ParserUnavailable(f"tree-sitter-bash is not installed ({exc})") from exc
    return tree_sitter.Parser(tree_sitter.Language(_bash_language()))


def _bash_language() -> object:
    """tree-sitter-bash's language pointer.

    The package's __init__ imports importlib.resources (about 8 ms, for a highlight query we do
    not use), so load its compiled `_binding` extension directly when it can be found; a hook
    runs on every commit, and that start-up time matters.
    """
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("tree_sitter_bash")
    if spec is None:
        raise ParserUnavailable("tree-sitter-bash is not installed")
    for folder in spec.submodule_search_locations or []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_binding" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader("tree_sitter_bash._binding", path)
                binding_spec = importlib.util.spec_from_file_location("tree_sitter_bash._binding", path, loader=loader)
                if binding_spec is not None:
                    module = importlib.util.module_from_spec(binding_spec)
                    loader.exec_module(module)
                    return module.language()
    import tree_sitter_bash  # an unusual layout: let the package find its binding

    return tree_sitter_bash.language()


class Tail(NamedTuple):
    """One command that can be the last one a script runs, and what kind of ending it is.

    kind:
      "exec"     `exec CMD...`: the shell is replaced, fine.
      "command"  a simple command run as a child (or a builtin like `wait`): not exec.
      "compound" a pipeline, `&&`/`||` list, subshell, loop, `!`, background job: not exec.
      "stop"     the script ends without running a program: `exit 1`, `return`, an `if`
                 without `else`, a `case` without `*)`. Ignored by `ends_with_exec`.
    """

    kind: str
    text: str
    line: int  # 1-based
    start: int  # 0-based character offsets into the script
    end: int
    reason: str
    program: Optional[str] = None  # the program run: `app` in `exec app`, `"$@"`
    insert_at: Optional[int] = None  # where `exec ` goes (start of the command name)
    function: Optional[str] = None  # the function whose body holds this command
    branch: Optional[str] = None  # the `case`/`if` branch that holds it (`app:init)`, `if [ "$1" = x ]`)


class ScriptAnalysis(Record):
    """What `analyse` found about how a script ends.

    ok / error: False and a reason when the script cannot be parsed (callers then do not flag).
    ends_with_exec: every ending that runs a program is `exec CMD` (and there is one).
    last_command / last_line / last_start / last_end: the deciding command (the first ending
        that is not exec, else the last exec), its 1-based line and 0-based character offsets.
    program: the program it runs (`gosu` for `exec gosu user "$@"`, `"$@"` for `"$@"`).
    runs_args: that program is `"$@"` / `$@`. compound_last: the deciding ending is a pipeline,
        list, subshell, loop, `!` or background job. forwards_signals: a TERM/INT trap that
        kills, plus `wait` (a hand-written forwarder).
    tails: every ending found (see `Tail`); traps: trapped signal names; functions: the names
        of the script's functions; warnings: tolerated parse errors; reason: the verdict in words.
    """

    __slots__ = ("ok", "error", "ends_with_exec", "last_command", "last_line", "last_start", "last_end",
                 "runs_args", "compound_last", "forwards_signals", "program", "reason", "tails", "traps",
                 "functions", "warnings", "trap_action", "cleanup_trap", "branch", "background")

    def __init__(self, ok: bool, error: Optional[str] = None, tails: Optional[List[Tail]] = None,
                 traps: Optional[List[str]] = None, forwards_signals: bool = False,
                 functions: Optional[List[str]] = None, warnings: Optional[List[str]] = None) -> None:
        self.ok = ok
        self.error = error
        self.tails: List[Tail] = tails or []
        self.traps: List[str] = traps or []
        self.forwards_signals = forwards_signals
        self.functions: List[str] = functions or []
        self.warnings: List[str] = warnings or []
        self.trap_action: Optional[str] = None  # the action of the TERM/INT trap, as written
        self.cleanup_trap = False  # that trap only cleans up: it stops no child and waits for none
        self.branch: Optional[str] = None  # the branch of the deciding tail, when it is in one
        self.background = False  # the script starts a job in the background (`&`) somewhere
        # The verdict, filled from the tails by _decide():
        self.ends_with_exec = False
        self.last_command: Optional[str] = None
        self.last_line: Optional[int] = None
        self.last_start: Optional[int] = None
        self.last_end: Optional[int] = None
        self.runs_args = False
        self.compound_last = False
        self.program: Optional[str] = None
        self.reason = ""


class _Source:
    """The script as text and as the UTF-8 bytes tree-sitter works on, with offset mapping."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogateescape")

    def node_text(self, node: "Node") -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")

    def char_offset(self, byte_offset: int) -> int:
        return len(self.data[:byte_offset].decode("utf-8", "surrogateescape"))


# An ERROR node nested in these only spoils one word, not the command structure around it
# (tree-sitter-bash cannot read `${X:+(text)}`, which sh accepts). A MISSING node (an
# unterminated quote, `$(`, `fi`...) is always fatal.
_WORD_LEVEL = frozenset({"string", "expansion", "concatenation", "raw_string", "heredoc_body"})
_NOT_STATEMENTS = frozenset({"comment", "function_definition", "heredoc_body"})
_COMPOUND_REASONS = {
    "pipeline": "a pipeline",
    "list": "an && / || list",
    "subshell": "a subshell",
    "negated_command": "a negated command (!)",
    "while_statement": "a loop",
    "for_statement": "a loop",
    "c_style_for_statement": "a loop",
}


def _iter_nodes(root: "Node"):
    """All nodes under `root`, depth first, without recursion."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


# Nodes that hold words, not statements: a function definition or a `trap`/`wait` command is
# never inside one that matters, so the structure walk does not descend into them (speed).
_WORD_NODES = frozenset(
    {"word", "string", "raw_string", "simple_expansion", "expansion", "concatenation", "number",
     "variable_name", "heredoc_body", "comment", "ansi_c_string", "translated_string", "regex"}
)


def _structure(root: "Node") -> Tuple[List["Node"], List["Node"], List["Node"]]:
    """(function definitions, commands, statements started in the background with `&`) of a
    script, found in one walk that skips words."""
    functions: List["Node"] = []
    commands: List["Node"] = []
    background: List["Node"] = []
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _WORD_NODES:
            continue
        if kind == "function_definition":
            functions.append(node)
        elif kind == "command":
            commands.append(node)
        elif kind == "&" and node.prev_sibling is not None:
            background.append(node.prev_sibling)
        stack.extend(reversed(node.children))
    return functions, commands, background


def _error_nodes(root: "Node", source: _Source) -> Tuple[List["Node"], List[str]]:
    """(error nodes that may spoil the structure, descriptions of the word-level ones, tolerated:
    see `_WORD_LEVEL`)."""
    errors: List["Node"] = []
    tolerated: List[str] = []
    if not root.has_error:
        return errors, tolerated
    for node in _iter_nodes(root):
        if node.type != "ERROR" and not node.is_missing:
            continue
        parent = node.parent
        while parent is not None and parent.type not in _WORD_LEVEL:
            parent = parent.parent
        if parent is not None and not node.is_missing:
            tolerated.append(f"line {node.start_point[0] + 1}: cannot parse {source.node_text(node)[:40]!r}")
        else:
            errors.append(node)
    return errors, tolerated


def _statements(nodes: List["Node"]) -> List["Node"]:
    """The named children that are statements run in order (not comments or definitions)."""
    return [node for node in nodes if node.is_named and node.type not in _NOT_STATEMENTS]


def _command_name(node: "Node", source: _Source) -> str:
    name = node.child_by_field_name("name")
    return "" if name is None else source.node_text(name)


def _arguments(node: "Node") -> List["Node"]:
    """The argument nodes of a `command` node (not its name, assignments or redirections)."""
    return [child for index, child in enumerate(node.children) if node.field_name_for_child(index) == "argument"]


def _unwrap(node: "Node") -> "Node":
    """The statement inside a redirected statement (`app >log` -> `app`)."""
    while node.type == "redirected_statement" and node.child_by_field_name("body") is not None:
        node = node.child_by_field_name("body")
    return node


class _TailFinder:
    """Finds the commands a script can end with, following if/case/{ }/function calls."""

    def __init__(self, definitions: List["Node"], source: _Source, args: Optional[Tuple[str, ...]] = None) -> None:
        self.source = source
        self.args = args  # the script's arguments when known: `case "$1"` then takes one branch
        self.branches: List[str] = []  # the case/if branches being walked, outermost first
        self.visited: set = set()  # functions the walk went into
        self.functions: Dict[str, "Node"] = {}
        for node in definitions:
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.functions[source.node_text(name)] = body

    def block(self, nodes: List["Node"], function: Optional[str], visiting: FrozenSet[str]) -> List[Tail]:
        """Tails of a statement sequence: those of its last statement.

        A last `exit` / `exit $?` / `return` without a status passes on the status of the
        statement before it, so that statement decides; any other exit/return is a stop.
        """
        statements = _statements(nodes)
        while statements:
            last = statements[-1]
            if last.next_sibling is not None and last.next_sibling.type == "&":
                return [self._tail("compound", last, "runs in the background (&)", function)]
            inner = _unwrap(last)
            if inner.type == "command" and _command_name(inner, self.source) in ("exit", "return"):
                statuses = [self.source.node_text(arg) for arg in _arguments(inner)]
                if statuses in ([], ["$?"], ['"$?"']):
                    statements = statements[:-1]
                    continue
                return [self._tail("stop", inner, "exits with its own status", function)]
            return self.statement(last, function, visiting)
        return []

    def statement(self, node: "Node", function: Optional[str], visiting: FrozenSet[str]) -> List[Tail]:
        """Tails of one statement."""
        node = _unwrap(node)
        kind = node.type
        if kind == "command":
            return self.command(node, function, visiting)
        if kind == "compound_statement":
            return self.block(node.children, function, visiting)
        if kind == "if_statement":
            return self.if_statement(node, function, visiting)
        if kind == "case_statement":
            return self.case_statement(node, function, visiting)
        if kind == "list":
            operators = [child.type for child in node.children if child.type in ("&&", "||")]
            right = node.children[-1]
            if operators == ["&&"] and right.is_named:
                # `a && exec b`: either a fails and the script ends with no program left
                # running, or the right-hand side decides.
                stop = self._tail("stop", node, "an earlier command of the && list failed", function)
                return self.statement(right, function, visiting) + [stop]
        reason = _COMPOUND_REASONS.get(kind)
        if reason is not None:
            return [self._tail("compound", node, f"ends with {reason}", function)]
        first_word = (self.source.node_text(node).split() or [kind])[0]
        return [self._tail("command", node, f"ends with {first_word!r}, run by the shell itself", function)]

    def if_statement(self, node: "Node", function: Optional[str], visiting: FrozenSet[str]) -> List[Tail]:
        """Every branch counts; with no `else`, falling through is a stop. A condition that tests
        `$1` against a word is decided when the script's arguments are known: a false one is
        skipped, a true one is the only branch left."""
        tails: List[Tail] = []
        for branch in [node] + [c for c in node.children if c.type in ("elif_clause", "else_clause")]:
            opener = "else" if branch.type == "else_clause" else "then"
            body = _after_token(branch, opener, stop_types=("elif_clause", "else_clause", "fi"))
            if branch.type == "else_clause":
                label = "else"
                decided: Optional[bool] = True
            else:
                condition = _between_tokens(branch, ("if", "elif"), opener)
                text = " ".join(self.source.node_text(part) for part in condition).rstrip("; \n")
                label = ("elif " if branch.type == "elif_clause" else "if ") + text
                decided = _first_argument_test(text, self.args)
            if decided is False:
                continue
            self.branches.append(label)
            tails.extend(self.block(body, function, visiting))
            self.branches.pop()
            if decided is True:
                return tails
        tails.append(self._tail("stop", node, "no branch taken (if without else)", function))
        return tails

    def case_statement(self, node: "Node", function: Optional[str], visiting: FrozenSet[str]) -> List[Tail]:
        """Every `pattern)` branch counts; without a `*)` branch, matching none is a stop."""
        tails: List[Tail] = []
        catch_all = False
        value = node.child_by_field_name("value")
        subject = self.source.node_text(value) if value is not None else ""
        first = _first_argument(subject, self.args)
        for item in (c for c in node.children if c.type == "case_item"):
            patterns = [
                self.source.node_text(child)
                for index, child in enumerate(item.children)
                if item.field_name_for_child(index) == "value"
            ]
            matched = None if first is None else any(_case_matches(first, pattern) for pattern in patterns)
            if matched is False:
                continue
            catch_all = catch_all or "*" in patterns or bool(matched)
            body = _after_token(item, ")", stop_types=(";;", ";&", ";;&"))
            self.branches.append("|".join(patterns) + ")")
            found = self.block(body, function, visiting)
            self.branches.pop()
            tails.extend(found or [self._tail("stop", item, "empty case branch", function)])
            if matched:
                break  # the script's first argument selects this branch and no other
        if not catch_all:
            tails.append(self._tail("stop", node, "no case pattern matched", function))
        return tails

    def command(self, node: "Node", function: Optional[str], visiting: FrozenSet[str]) -> List[Tail]:
        """A simple command: exec, a call to a function of the script, or a child process."""
        name = _command_name(node, self.source)
        if name == "exec":
            program = _exec_program([self.source.node_text(arg) for arg in _arguments(node)])
            if program is None:
                return [self._tail("command", node, "exec without a command only redirects", function)]
            return [self._tail("exec", node, "execs", function, program=program)]
        body = self.functions.get(name)
        if body is not None:
            if name in visiting:
                return [self._tail("compound", node, f"recursive call to {name}", function)]
            if body.type != "compound_statement":
                return [self._tail("compound", node, f"function {name} runs in a subshell", function)]
            self.visited.add(name)
            return self.block(body.children, name, visiting | {name})
        if name in SHELL_BUILTINS:
            return [self._tail("command", node, f"ends with the shell builtin {name!r}", function, program=name)]
        return [self._tail("command", node, f"runs {name!r} as a child of the shell", function, program=name)]

    def _tail(self, kind: str, node: "Node", reason: str, function: Optional[str], program: Optional[str] = None) -> Tail:
        source = self.source
        name = node.child_by_field_name("name") if node.type == "command" else None
        return Tail(
            kind=kind,
            text=source.node_text(node),
            line=node.start_point[0] + 1,
            start=source.char_offset(node.start_byte),
            end=source.char_offset(node.end_byte),
            reason=reason,
            program=program,
            insert_at=None if name is None else source.char_offset(name.start_byte),
            function=function,
            branch=self.branches[0] if self.branches else None,
        )


def _after_token(node: "Node", token: str, stop_types: Tuple[str, ...]) -> List["Node"]:
    """The children of `node` after its first `token` child, up to one of `stop_types`."""
    result: List["Node"] = []
    started = False
    for child in node.children:
        if started and child.type in stop_types:
            break
        if started:
            result.append(child)
        elif child.type == token:
            started = True
    return result


def _between_tokens(node: "Node", openers: Tuple[str, ...], closer: str) -> List["Node"]:
    """The children of `node` after its first token in `openers`, up to `closer` (an if's condition)."""
    result: List["Node"] = []
    started = False
    for child in node.children:
        if started and child.type == closer:
            break
        if started:
            result.append(child)
        elif child.type in openers:
            started = True
    return result


_FIRST_ARGUMENT_WORDS = frozenset({"$1", '"$1"', "${1}", '"${1}"', "${1:-}", '"${1:-}"'})


def _first_argument(word: str, args: Optional[Tuple[str, ...]]) -> Optional[str]:
    """The value of `word` when it is `$1` (quoted or braced) and the arguments are known."""
    if args is None or word.strip() not in _FIRST_ARGUMENT_WORDS:
        return None
    return args[0] if args else ""


def _unquote(word: str) -> Optional[str]:
    """A literal word without its quotes; None when it holds an expansion or a glob."""
    words = split_words(word)
    if words is None or len(words) != 1:
        return None
    return words[0]


def _case_matches(value: str, pattern: str) -> Optional[bool]:
    """Whether a `case` pattern matches `value` (globs as sh reads them), None when unknown."""
    import fnmatch

    if "$" in pattern or "`" in pattern:
        return None
    if any(char in pattern for char in "*?["):
        unquoted = pattern.replace('"', "").replace("'", "")
        return fnmatch.fnmatchcase(value, unquoted)
    literal = _unquote(pattern)
    return None if literal is None else value == literal


_TEST_FIRST = re.compile(r"""^(?:\[\[?|test)\s+(\S+)\s+(==?|!=)\s+(\S+?)\s*(?:\]\]?)?$""")


def _first_argument_test(condition: str, args: Optional[Tuple[str, ...]]) -> Optional[bool]:
    """The value of `[ "$1" = word ]` (also `==`, `!=`, `[[ ]]`, `test`) when the arguments are
    known and the other side is a literal word; None for anything else."""
    match = _TEST_FIRST.match(condition.strip())
    if match is None:
        return None
    left, operator, right = match.groups()
    value = _first_argument(left, args)
    if value is None:
        value, right = _first_argument(right, args), left
    if value is None:
        return None
    literal = _unquote(right)
    if literal is None:
        return None
    equal = value == literal
    return equal if operator != "!=" else not equal


def _exec_program(arguments: List[str]) -> Optional[str]:
    """The program `exec ARGS` runs, skipping bash's `-a NAME`, `-c`, `-l`; None if none."""
    index = 0
    while index < len(arguments) and arguments[index].startswith("-"):
        option = arguments[index]
        index += 2 if option == "-a" else 1
        if option == "--":
            break
    return arguments[index] if index < len(arguments) else None


def _is_args(program: Optional[str]) -> bool:
    return program in ('"$@"', "$@", '"${@}"', "${@}")


_STOPS_CHILDREN = re.compile(r"\bkill\b|\b(stop|quit|shutdown|graceful-stop|graceful|terminate)\b")


_PLACEHOLDERS = frozenset({"sleep", "tail"})


class _Trap(NamedTuple):
    signals: List[str]
    action: str  # as written
    stops_children: bool  # the action (or the function it calls) kills or stops something


def _traps(commands: List["Node"], source: _Source, functions: Dict[str, "Node"]) -> List[_Trap]:
    """Every `trap ACTION SIGNALS...` of the script, with what its action does."""
    found: List[_Trap] = []
    for node in commands:
        if _command_name(node, source) != "trap":
            continue
        arguments = [source.node_text(arg) for arg in _arguments(node)]
        if len(arguments) < 2 or arguments[0] == "-":
            continue
        action, signals = arguments[0], [s.strip("'\"").upper() for s in arguments[1:]]
        text = action
        for word in re.findall(r"[A-Za-z_][\w-]*", action):
            handler = functions.get(word)
            if handler is not None:
                body = source.node_text(handler)
                text += "\n" + body
                for inner in re.findall(r"[A-Za-z_][\w-]*", body):  # one more level of calls
                    if inner in functions and inner != word:
                        text += "\n" + source.node_text(functions[inner])
        found.append(_Trap(signals, action, bool(_STOPS_CHILDREN.search(text))))
    return found


def _last_statement(root: "Node", source: _Source) -> Optional["Node"]:
    """The script's last top-level statement, trailing `exit`/`exit $?` passed over."""
    statements = _statements(root.children)
    while statements:
        inner = _unwrap(statements[-1])
        if inner.type == "command" and _command_name(inner, source) in ("exit", "return") and \
                [source.node_text(a) for a in _arguments(inner)] in ([], ["$?"], ['"$?"']):
            statements = statements[:-1]
            continue
        return statements[-1]
    return None


def _has_errors_before(errors: List["Node"], root: "Node", finder: "_TailFinder", tails: List[Tail], source: _Source) -> Tuple[List[str], List[str]]:
    """(fatal, recovered) parse errors. An error inside a statement that runs before the script's
    last top-level statement, outside every function the tail goes through, leaves the tail
    known: tree-sitter resumes after it (bash accepts some forms it cannot read, such as
    `if !(cmd) then`). Any other error makes the tail unknown."""
    last = _last_statement(root, source)
    programs = {tail.program for tail in tails if tail.program}
    fatal: List[str] = []
    recovered: List[str] = []
    for node in errors:
        what = f"line {node.start_point[0] + 1}: " + (
            f"missing {node.type!r}" if node.is_missing else f"cannot parse {source.node_text(node)[:40]!r}"
        )
        top = node
        while top.parent is not None and top.parent != root:
            top = top.parent
        text = source.node_text(top)
        hides_function = any(re.search(r"(^|\s)" + re.escape(name) + r"\s*\(\s*\)", text) for name in programs)
        before = last is not None and top.end_byte <= last.start_byte and top != last
        in_walked_function = top.type == "function_definition" and _definition_name(top, source) in finder.visited
        if before and not in_walked_function and not hides_function:
            recovered.append(what)
        else:
            fatal.append(what)
    return fatal, recovered


def _definition_name(node: "Node", source: _Source) -> str:
    name = node.child_by_field_name("name")
    return "" if name is None else source.node_text(name)


@functools.lru_cache(maxsize=1024)
def analyse(script: str, args: Optional[Tuple[str, ...]] = None) -> ScriptAnalysis:
    """How a `sh -c` string or script file ends: does it hand off to its program with exec?

    Results are cached by script text and arguments (docker-library images share one entrypoint
    across many variants) and shared between callers: treat them as read-only.

    The last top-level statement is walked: `exec CMD` ends with exec; `if` / `case` / `{ }`
    end with exec when every branch that runs a command does (branches that `exit N`/`return`,
    an `if` without `else` and a `case` without `*)` run no program and are ignored); a call to
    a function of the script is followed into the function's last statement (cycles guarded);
    a pipeline, `&&`/`||` list, subshell, loop or background job is not exec. A trailing
    `exit`/`exit $?` passes the verdict to the statement before it. With no command at all
    ends_with_exec is False.

    `args` are the script's arguments when known (exec form CMD, manifest args): a `case "$1"`
    or `if [ "$1" = word ]` then follows the one branch they select, as the shell does. When the
    script reassigns them (`set --`, `shift`) they are treated as unknown.

    A parse error inside a word, or in a statement before the last one (outside the functions
    the tail goes through), is recovered from; any other gives ok=False and the reason in
    `error`: the tail is unknown, and callers say nothing.
    """
    try:
        parser = _parser()
    except ParserUnavailable as exc:
        return ScriptAnalysis(ok=False, error=str(exc))
    try:
        source = _Source(script)
    except UnicodeEncodeError as exc:
        return ScriptAnalysis(ok=False, error=f"not encodable as UTF-8: {exc}")
    root = parser.parse(source.data).root_node
    errors, tolerated = _error_nodes(root, source)
    definitions, commands, background = _structure(root)
    if args is not None:
        last = _last_statement(root, source)
        for command in commands:
            name = _command_name(command, source)
            resets = name == "shift" or (name == "set" and "--" in [source.node_text(a) for a in _arguments(command)])
            inside_last = last is not None and last.start_byte <= command.start_byte < last.end_byte
            if resets and not inside_last:
                args = None  # the script changes its arguments before it dispatches on them
                break
    finder = _TailFinder(definitions, source, args)
    tails = finder.block(root.children, None, frozenset())
    fatal, recovered = _has_errors_before(errors, root, finder, tails, source) if errors else ([], [])
    if fatal:
        return ScriptAnalysis(ok=False, error="shell syntax error: " + "; ".join(fatal[:3]))
    traps = _traps(commands, source, finder.functions)
    result = ScriptAnalysis(
        ok=True,
        tails=tails,
        traps=[signal for trap in traps for signal in trap.signals],
        functions=sorted(finder.functions),
        warnings=[f"tolerated parse error at {what}" for what in tolerated + recovered],
    )
    result.background = bool(background)
    _decide(result)
    stop_traps = [trap for trap in traps if _TERM_SIGNALS.intersection(trap.signals)]
    if stop_traps:
        trap = stop_traps[-1]
        result.trap_action = trap.action
        ends_waiting = (result.program == "wait") or (result.compound_last and "loop" in result.reason)
        # A trap that exits while only placeholders run (`sleep infinity &`, `tail -f ... &`)
        # stops the container as promptly as forwarding would: nothing is cut off.
        placeholders = all(_command_name(_unwrap(job), source) in _PLACEHOLDERS for job in background)
        stops = trap.stops_children or (placeholders and "exit" in trap.action)
        result.forwards_signals = stops and ends_waiting
        result.cleanup_trap = not stops
    return result


def _decide(result: ScriptAnalysis) -> None:
    """Fill the verdict fields from the tails: the first failing tail decides, else the last exec."""
    running = [tail for tail in result.tails if tail.kind != "stop"]
    failing = [tail for tail in running if tail.kind != "exec"]
    result.ends_with_exec = bool(running) and not failing
    if failing:
        decider: Optional[Tail] = failing[0]
    elif running:
        decider = running[-1]
    else:
        decider = result.tails[-1] if result.tails else None
    if decider is None:
        result.reason = "runs no command"
        return
    result.last_command = decider.text
    result.last_line = decider.line
    result.last_start = decider.start
    result.last_end = decider.end
    result.program = decider.program
    result.runs_args = _is_args(decider.program)
    result.compound_last = decider.kind == "compound"
    result.branch = decider.branch
    result.reason = decider.reason if running else "every path exits without running a program"


def stops_on_term(analysis: object) -> bool:
    """Whether a script that does not exec still stops on SIGTERM: it traps TERM (or INT) with
    an action that kills or stops its children, and ends waiting (`wait`, or a loop) so that the
    trap runs at once (a trap runs only once the foreground command returns). A trap that only
    cleans up does not count: the shell exits and the kernel SIGKILLs the children it leaves."""
    return bool(getattr(analysis, "forwards_signals", False))


def add_exec(script: str) -> Optional[str]:
    """`script` with `exec ` inserted before each last command, when that is exact; else None.

    Exact means: every ending is either already exec, a stop, or a simple command run by the
    main shell (not in a function, pipeline, list, subshell, loop or background), whose name is
    not a builtin, keyword or function of the script, and the script sets no trap (exec would
    drop it). `exec ` goes before the command name, after any `VAR=value` prefixes and
    redirections, which exec applies to the program exactly as before. Every other byte,
    CRLF line endings included, is kept. None when nothing needs exec or it is not exact.
    """
    analysis = analyse(script)
    if not analysis.ok or analysis.ends_with_exec or analysis.traps:
        return None
    targets = [tail for tail in analysis.tails if tail.kind == "command"]
    if not targets or any(tail.kind == "compound" for tail in analysis.tails):
        return None
    for tail in targets:
        if tail.function is not None or tail.insert_at is None or not _can_exec(tail.program, analysis):
            return None
    result = script
    for offset in sorted((tail.insert_at for tail in targets if tail.insert_at is not None), reverse=True):
        result = result[:offset] + "exec " + result[offset:]
    return result if analyse(result).ends_with_exec else None


def _can_exec(program: Optional[str], analysis: ScriptAnalysis) -> bool:
    """Whether `exec PROGRAM` runs the same thing the shell would have run as a child."""
    if not program:
        return False
    literal = split_words(program)
    if literal is None:  # an expansion such as "$@" or $CMD: decided at run time, as before
        return classify(program) == "expansion"
    name = literal[0] if len(literal) == 1 else ""
    return bool(name) and name not in SHELL_BUILTINS and name not in RESERVED_WORDS and name not in analysis.functions

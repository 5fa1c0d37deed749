"""Interpreters as PID 1: which code from the build context they run, and whether it handles SIGTERM.

The kernel delivers a signal to PID 1 only when PID 1 installed a handler for it. python, node,
ruby, php, deno and bun install none for SIGTERM (Python and Ruby handle SIGINT only), so
`CMD ["python", "app.py"]` ignores `docker stop` unless app.py, or the server it starts, sets one.
This module answers IN111's question for one launch-chain step: the code file (read from the
build context), and the handler found in it, if any. It reads the entry file and the local
modules it imports (one level), and looks for the handler patterns and the known servers of
rules/knowledge.toml. When the code cannot be read it answers None, and IN111 stays silent.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import List, Optional, Tuple

from initify.dockerfile import facts as facts_module
from initify.dockerfile.facts import ContextScript, ImageFacts, Step
from initify.knowledge import loader as knowledge
from initify.record import Record

# Options after which the interpreter runs code that is not a file of the build context.
_INLINE_CODE = {"python": ("-c",), "node": ("-e", "--eval", "-p", "--print"), "ruby": ("-e",),
                "php": ("-r", "-S", "-a"), "deno": (), "bun": ("-e", "--eval")}
_PY_IMPORT = re.compile(r"^\s*(?:from\s+(\.?[\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)
_JS_IMPORT = re.compile(r"""(?:require\(\s*|from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}/[^'"]+)['"]""")
_RB_IMPORT = re.compile(r"""^\s*require_relative\s+['"]([^'"]+)['"]""", re.MULTILINE)
_MAX_FILES = 24


class Interpreted(Record):
    """What an interpreter as PID 1 runs: the entry code and the handler it installs (or None)."""

    __slots__ = ("interpreter", "entry", "script", "handler")

    def __init__(self, interpreter: str, entry: str, script: Optional[ContextScript], handler: Optional[str]) -> None:
        self.interpreter = interpreter  # knowledge key: "python", "node"...
        self.entry = entry  # the file in the image (or `-m module`)
        self.script = script  # the entry file as read from the build context
        self.handler = handler  # what handles SIGTERM ("signal.signal(SIGTERM...)", "uvicorn"), None: nothing


def interpreted(facts: ImageFacts, step: Step) -> Optional[Interpreted]:
    """The context code a `program` step runs through a known interpreter, and its SIGTERM handler.

    None when `step` is not an interpreter, or runs code initify cannot read (inline `-c`/`-e`,
    a module or file that is not copied from the build context, a REPL)."""
    kb = knowledge.load()
    if step.kind != "program" or not step.argv:
        return None
    interpreter = kb.interpreter_for(step.argv[0])
    if interpreter is None:
        return None
    found = _entry(interpreter, step.argv[1:])
    if found is None:
        return None
    kind, name, rest = found
    frameworks = [f for f in kb.signal_frameworks if f.interpreter == interpreter.key]
    if kind == "module":
        framework = next((f for f in frameworks if name.split(".")[0] in f.modules), None)
        if framework is not None:
            return Interpreted(interpreter.key, f"-m {name}", None, framework.name)
        script = _first_script(facts, [_in_workdir(facts, name.replace(".", "/") + suffix) for suffix in (".py", "/__main__.py")])
        entry = f"-m {name}"
    else:
        path = _in_workdir(facts, name)
        candidates = [path]
        if not posixpath.splitext(path)[1]:
            candidates += [path + ext for ext in interpreter.extensions] + [posixpath.join(path, "index.js")]
        script = _first_script(facts, candidates)
        entry = script.image_path if script is not None else path
    if script is None:
        return None
    texts = _texts(facts, interpreter.key, script)
    special = _framework_entry(interpreter.key, script.text, rest)
    if special is not None:
        if special == "unknown":
            return None
        return Interpreted(interpreter.key, entry, script, special or None)
    handler = _handler(interpreter, frameworks, texts)
    return Interpreted(interpreter.key, entry, script, handler)


def _entry(interpreter: knowledge.Interpreter, args: List[str]) -> Optional[Tuple[str, str, List[str]]]:
    """("file", path, rest) or ("module", name, rest) that the interpreter runs; None if neither."""
    inline = _INLINE_CODE.get(interpreter.key, ())
    index = 0
    if interpreter.key in ("deno", "bun") and args[:1] == ["run"]:
        index = 1
    elif interpreter.key == "deno":
        return None  # `deno serve`, `deno task`...: not a plain script run
    while index < len(args):
        word = args[index]
        if word == "--":
            index += 1
            break
        if not word.startswith("-") or word == "-":
            break
        option = word.split("=", 1)[0]
        if option in inline or (interpreter.key == "python" and word.startswith("-c")):
            return None
        if interpreter.key == "python" and word.startswith("-m"):
            name = word[2:] or (args[index + 1] if index + 1 < len(args) else "")
            rest = args[index + (1 if word[2:] else 2):]
            return ("module", name, rest) if name else None
        if interpreter.key == "php" and word == "-f" and index + 1 < len(args):
            return "file", args[index + 1], args[index + 2:]
        index += 2 if word in interpreter.options_with_value and "=" not in word else 1
    if index >= len(args) or args[index] == "-":
        return None
    return "file", args[index], args[index + 1:]


def _in_workdir(facts: ImageFacts, path: str) -> str:
    return posixpath.normpath(posixpath.join(facts.workdir, path))


def _first_script(facts: ImageFacts, paths: List[str]) -> Optional[ContextScript]:
    for path in paths:
        if "$" in path:
            return None
        script = facts_module.find_context_script(facts, path)
        if script is not None:
            return script
    return None


def _texts(facts: ImageFacts, language: str, script: ContextScript) -> List[str]:
    """The entry file's text and those of the local modules it imports (one level deep)."""
    texts = [script.text]
    folder = posixpath.dirname(script.image_path)
    for path in _local_imports(language, script.text, folder)[:_MAX_FILES]:
        found = facts_module.find_context_script(facts, path) if "$" not in path else None
        if found is not None and found is not script:
            texts.append(found.text)
    return texts


def _local_imports(language: str, text: str, folder: str) -> List[str]:
    """Image paths the code may import from beside it (candidates; missing ones are skipped)."""
    paths: List[str] = []
    if language == "python":
        for match in _PY_IMPORT.finditer(text):
            name = (match.group(1) or match.group(2)).lstrip(".").replace(".", "/")
            if name:
                paths += [posixpath.join(folder, name + ".py"), posixpath.join(folder, name, "__init__.py")]
    elif language in ("node", "deno", "bun"):
        for match in _JS_IMPORT.finditer(text):
            target = posixpath.normpath(posixpath.join(folder, match.group(1)))
            paths.append(target)
            if not posixpath.splitext(target)[1]:
                paths += [target + ext for ext in (".js", ".ts", ".mjs", ".cjs")] + [posixpath.join(target, "index.js")]
    elif language == "ruby":
        for match in _RB_IMPORT.finditer(text):
            target = posixpath.normpath(posixpath.join(folder, match.group(1)))
            paths.append(target if target.endswith(".rb") else target + ".rb")
    return paths


def _framework_entry(language: str, text: str, rest: List[str]) -> Optional[str]:
    """A verdict for entry files whose behaviour depends on their arguments (Django's manage.py,
    Flask's app.run): a handler name, "" for none, "unknown", or None when not such a file."""
    if language != "python":
        return None
    if "execute_from_command_line" in text:
        if rest[:1] != ["runserver"]:
            return "unknown"  # another management command: its own code decides
        # Django's autoreloader (StatReloader) sets a SIGTERM handler in the child it restarts.
        return "" if "--noreload" in rest else "Django's runserver auto-reloader"
    runs = re.search(r"\.run\(([^)]*)\)", text)
    if re.search(r"\bFlask\(", text) and runs is not None and not re.search(r"\b(uvicorn|hypercorn|gevent|waitress|eventlet)\b", text):
        arguments = runs.group(1)
        if re.search(r"debug\s*=\s*True|use_reloader\s*=\s*True", arguments):
            return "werkzeug's auto-reloader (debug=True)"
    return None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> "re.Pattern[str]":
    return re.compile(pattern)


def _handler(interpreter: knowledge.Interpreter, frameworks: List[knowledge.SignalFramework], texts: List[str]) -> Optional[str]:
    """What in the code handles SIGTERM: a handler call, or a known server it starts; else None."""
    for text in texts:
        for pattern in interpreter.handlers:
            match = _compiled(pattern).search(text)
            if match is not None:
                return match.group(0).split("\n")[0][:60]
        for framework in frameworks:
            if _compiled(framework.pattern).search(text):
                return framework.name
    return None

"""Property: the exec form `initify fix` writes runs exactly the argv `/bin/sh -c` ran.

Shell-form CMDs without expansions are generated, written into a Dockerfile, fixed, and both the
old and the new instruction are read back with BuildKit's parser (PyPI `dockerfile`). The old
text goes through the real /bin/sh, the new JSON array is executed directly; a tiny program
prints the argv it got, and the two outputs must be equal.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import dockerfile as buildkit
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from initify.commands import fix
from initify.dockerfile import shell

PRINTER = textwrap.dedent(
    """\
    #!{python}
    import json, sys
    sys.stdout.write(json.dumps(sys.argv[1:]))
    """
)

# Word characters that need quoting in sh, but no expansion: no $, `, *, ?, [, ~ and no newline.
WORD = st.text(alphabet=st.sampled_from(list("ab Z0-_=.,:/@%+'\"\\;&|<>(){}#!^\t")), min_size=0, max_size=8)


def quote(word: str, style: int) -> str:
    if style == 0:  # single quotes, a quote written as '\''
        return "'" + word.replace("'", "'\\''") + "'"
    if style == 1:  # double quotes: escape the four specials
        return '"' + "".join("\\" + c if c in '"\\$`' else c for c in word) + '"'
    # backslash before every non-alphanumeric character
    return "".join(c if c.isalnum() else "\\" + c for c in word) or "''"


@pytest.fixture(scope="module")
def printer(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("printer") / "printargv"
    path.write_text(PRINTER.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def _run_both(tmp: Path, printer: str, command: str) -> None:
    original = f"FROM debian:12\nCMD {printer} {command}\n"
    path = tmp / "Dockerfile"
    path.write_text(original)
    plan = fix.plan([str(path)], fix.FixOptions(select=["IN101"]))
    (state,) = plan.changed()
    shell_text = buildkit.parse_string(original)[-1].value[0]
    new = buildkit.parse_string(state.text)[-1]
    assert new.json, state.text
    through_sh = subprocess.run(["/bin/sh", "-c", shell_text], capture_output=True, text=True, timeout=30)
    direct = subprocess.run(list(new.value), capture_output=True, text=True, timeout=30)
    assert through_sh.returncode == 0, through_sh.stderr
    assert direct.stdout == through_sh.stdout


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.tuples(WORD, st.integers(0, 2)), min_size=0, max_size=5))
def test_quoted_words_run_the_same_argv(words, printer, tmp_path_factory):
    command = " ".join(quote(word, style) for word, style in words)
    # A Dockerfile line loses trailing blanks, and a trailing backslash continues it: not shell text.
    assume(command == command.rstrip(" \t") and not command.endswith("\\"))
    _run_both(tmp_path_factory.mktemp("argv"), printer, command)


RAW = st.text(alphabet=st.sampled_from(list("ab Z0-=.,:/@%+'\"\\\t")), min_size=0, max_size=24)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=RAW)
def test_raw_text_that_initify_calls_plain_runs_the_same_argv(raw, printer, tmp_path_factory):
    """Unstructured text: whenever the splitter accepts it, sh must agree."""
    if raw.rstrip(" \t").endswith("\\") or shell.classify(f"x {raw}") != "plain":
        return  # a trailing backslash continues the Dockerfile line; other text needs the shell
    _run_both(tmp_path_factory.mktemp("raw"), printer, raw)

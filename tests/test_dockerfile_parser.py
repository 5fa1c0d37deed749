"""The Dockerfile parser, checked rule by rule and against BuildKit's own parser.

The oracle is the `dockerfile` package (BuildKit's Go parser, an older v0.12-ish release). It stops
at the parse stage, so it accepts unknown instructions that `docker build` rejects one step later;
initify raises InputError for those. Known, intentional divergences are listed in
DIVERGENT_FIXTURES with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from initify.dockerfile.parser import KEYWORDS, parse, read, split_flags
from initify.errors import InputError
from initify.dockerfile.model import Dockerfile

oracle = pytest.importorskip("dockerfile")

_SEPARATOR = re.compile(r"[\t\v\f\r ]+")

Summary = Tuple[str, int, int, str, Dict[str, Optional[str]]]


def oracle_summary(commands: Any) -> List[Summary]:
    """(keyword, start, end, args, flags) per instruction, as BuildKit sees them."""
    rows: List[Summary] = []
    for command in commands:
        first_line = (command.original or "").split("\n")[0].strip()  # heredoc bodies follow
        parts = _SEPARATOR.split(first_line, 1)
        flags: Dict[str, Optional[str]] = {}
        for flag in command.flags:
            name, sep, value = flag[2:].partition("=")
            flags[name] = value if sep else None
        args = parts[1] if len(parts) > 1 else ""
        rows.append(((command.cmd or "").upper(), command.start_line, command.end_line, args, flags))
    return rows


def our_summary(dockerfile: Dockerfile) -> List[Summary]:
    return [(i.keyword, i.start_line, i.end_line, i.args, i.flags) for i in dockerfile.instructions]


def oracle_heredocs(commands: Any) -> List[List[Tuple[str, str]]]:
    """(name, content) per heredoc per instruction; content normalised to \\n like the model."""
    return [[(h.name, h.content.replace("\r\n", "\n")) for h in c.heredocs] for c in commands]


def our_heredocs(dockerfile: Dockerfile) -> List[List[Tuple[str, str]]]:
    return [[(h.delimiter, h.body) for h in i.heredocs] for i in dockerfile.instructions]


def reconstruct(dockerfile: Dockerfile) -> str:
    """Rebuild the file from instruction spans plus the physical lines between them."""
    lines = dockerfile.text.split("\n")
    physical = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    pieces: List[str] = []
    line = 1
    for instruction in dockerfile.instructions:
        pieces.extend(physical[line - 1 : instruction.start_line - 1])
        pieces.append(instruction.raw)
        line = instruction.end_line + 1
    pieces.extend(physical[line - 1 :])
    return "".join(pieces)


def assert_spans_cover_file(dockerfile: Dockerfile) -> None:
    """Spans are ordered, do not overlap, and every line outside them is blank or a comment."""
    assert reconstruct(dockerfile) == dockerfile.text
    lines = dockerfile.text.split("\n")
    inside = set()
    previous_end = 0
    for instruction in dockerfile.instructions:
        assert previous_end < instruction.start_line <= instruction.end_line
        previous_end = instruction.end_line
        inside.update(range(instruction.start_line, instruction.end_line + 1))
    for number, line in enumerate(lines, 1):
        if number not in inside:
            assert line.strip() == "" or line.lstrip().startswith("#"), (number, line)


# Hand-written tricky inputs; for each, initify must agree with BuildKit's parser.
AGREEING_FIXTURES: Dict[str, str] = {
    "simple": "FROM alpine:3.20\nCMD [\"sh\"]\n",
    "no-final-newline": "FROM a\nRUN x",
    "arg-before-from-multistage": (
        "ARG BASE=debian:12\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "RUN go build ./...\nFROM ${BASE}\nCOPY --from=build --chmod=0755 /out/app /app\n"
    ),
    "lowercase-and-indent": "from a\n  run echo hi\n\tCmd [\"x\"]\n",
    "continuation-trailing-blanks": "FROM a\nRUN a \\ \t\n    b \\  \n    c\n",
    "comment-and-blank-in-continuation": (
        "FROM a\nRUN apt-get update \\\n# a comment\n\n   \n    && apt-get install -y x \\\n"
        "  # indented comment \\\n    && true\nCMD x\n"
    ),
    "continuation-at-eof": "FROM a\nRUN a \\\n",
    "continuation-then-blank-lines-at-eof": "FROM a\nRUN a \\\n\n\n",
    # An escape preceded by an escape is not a continuation (BuildKit's regex has no
    # look-behind, so three backslashes do not continue either).
    "escaped-escape": "FROM a\nRUN echo \\\\\nRUN b\\\\\\\nCMD c\n",
    "escape-alone-on-continuation-line": "FROM a\nRUN a \\\n\\\n  \\\n b\n",
    "escape-backtick": (
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore\n"
        "RUN Write-Host C:\\path\\ `\n    ; dir c:\\\nSHELL [\"powershell\"]\n"
    ),
    "directive-case-and-blanks": "#  ESCAPE = ` \nFROM a\nRUN a `\n  b\n",
    "directive-after-comment-is-comment": "# hello\n# escape=`\nFROM a\nRUN a \\\n b\n",
    "directive-after-blank-is-comment": "\n# escape=`\nFROM a\nRUN a \\\n b\n",
    "syntax-directive": "# syntax=docker/dockerfile:1.7\nFROM a\n",
    "flags": (
        "FROM a\nRUN --mount=type=cache,target=/root/.cache --network=none pip install x\n"
        "HEALTHCHECK --interval=5s --timeout=3s CMD curl -f http://localhost/\n"
        "COPY --link --from=b /a /b\nRUN --mount=\"type=bind,src=x\" -- --not-a-flag\n"
    ),
    "onbuild": "FROM a\nONBUILD CMD [\"x\"]\nonbuild run echo hi\n",
    "heredoc-run": "FROM a\nRUN <<EOF\nset -eux\n# not a comment\napt-get update\nEOF\nCMD x\n",
    "heredoc-chomp": "FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\nCMD x\n",
    "heredoc-quoted-copy": "FROM a\nCOPY <<'EOF' /etc/conf\n$HOME stays\nEOF\n",
    "heredoc-several": "FROM a\nRUN <<EOF1 <<\"EOF2\" cat\none\nEOF1\ntwo\nEOF2\n",
    "heredoc-with-program": "FROM a\nRUN python3 <<EOF > /x\nprint(1)\nEOF\n",
    "heredoc-after-continuation": "FROM a\nRUN cat <<EOF | sh \\\n && echo <<E2\nx\nEOF\ny\nE2\n",
    "heredoc-empty-body": "FROM a\nRUN <<EOF\nEOF\n",
    "heredoc-fd": "FROM a\nRUN 3<<EOF cat /dev/fd/3\nx\nEOF\n",
    "heredoc-quoted-word-is-not-one": "FROM a\nRUN echo '<<EOF' \"<<X\"\n",
    "heredoc-in-exec-form": "FROM a\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\n",
    "heredoc-add": "FROM a\nADD <<EOF /x\nhello\nEOF\n",
    "crlf": "FROM a\r\nRUN a \\\r\n  b\r\n\r\n# c\r\nRUN <<EOF\r\nx\r\nEOF\r\n",
    "bom": "\ufeffFROM a\nRUN b\n",
    "lone-cr-is-not-a-line-break": "FROM a\nRUN a\rb\n",
    "stray-escape-line-joins-next": "FROM a\n\\\n\nRUN x\n",
}

# Inputs where initify deliberately differs from the oracle, with the reason.
DIVERGENT_FIXTURES: Dict[str, Tuple[str, str]] = {
    # BuildKit >= 0.14 knows `# check=`; the oracle's older parser stops reading directives at
    # it, so it would miss the escape directive on the next line.
    "check-directive": ("# check=skip=all\n# escape=`\nFROM a\nRUN a `\n b\n", "parses"),
    # The oracle stops at the parse stage; `docker build` then fails with "unknown instruction".
    "unknown-instruction": ("FROM a\nfoo bar\n", "raises"),
    "cmd-heredoc": ("FROM a\nCMD <<EOT\necho hi\nEOT\n", "raises"),
    "go-template": ("{{ .base }}\nRUN x\n", "raises"),
    # BuildKit's instruction stage rejects these ONBUILD forms.
    "onbuild-onbuild": ("FROM a\nONBUILD ONBUILD RUN x\n", "raises"),
    "onbuild-empty": ("FROM a\nONBUILD\n", "raises"),
    # A continuation that never reaches an instruction: BuildKit makes an empty node and then
    # rejects it as an unknown instruction.
    "empty-continuation": ("FROM a\n  \\\n\n", "raises"),
    # An unterminated quote makes BuildKit's lexer return no words, so no heredoc is read and
    # the body lines become (unknown) instructions.
    "heredoc-line-with-open-quote": ("FROM a\nRUN cat <<EOF && echo it's\nx\nEOF\n", "raises"),
}

# BuildKit refuses a file without instructions ("file with no instructions"); initify accepts it
# (nothing to lint is not an input error).
EMPTY_FILES = ["", "\n\n", "# just\n# comments\n", "# syntax=docker/dockerfile:1\n"]


@pytest.mark.parametrize("name", sorted(AGREEING_FIXTURES))
def test_fixture_agrees_with_buildkit(name: str) -> None:
    text = AGREEING_FIXTURES[name]
    commands = oracle.parse_string(text)
    ours = parse(text)
    assert our_summary(ours) == oracle_summary(commands)
    assert our_heredocs(ours) == oracle_heredocs(commands)
    assert_spans_cover_file(ours)


def test_heredoc_in_onbuild_agrees_with_buildkit() -> None:
    # The oracle's Python wrapper does not expose heredocs attached to ONBUILD, so only the
    # spans are compared; BuildKit reads the body (the span ends at the terminator).
    text = "FROM a\nONBUILD RUN <<EOF\necho\nEOF\nCMD x\n"
    result = parse(text)
    assert our_summary(result) == oracle_summary(oracle.parse_string(text))
    onbuild = result.instructions[1]
    assert onbuild.onbuild is not None
    assert [(h.delimiter, h.body) for h in onbuild.onbuild.heredocs] == [("EOF", "echo\n")]
    assert onbuild.heredocs == onbuild.onbuild.heredocs


@pytest.mark.parametrize("text", EMPTY_FILES)
def test_files_without_instructions_are_accepted(text: str) -> None:
    with pytest.raises(oracle.GoParseError):
        oracle.parse_string(text)
    result = parse(text)
    assert result.instructions == []
    assert reconstruct(result) == text


def test_divergent_check_directive() -> None:
    text = DIVERGENT_FIXTURES["check-directive"][0]
    result = parse(text)
    assert result.directives == {"check": "skip=all", "escape": "`"}
    assert [(i.keyword, i.args) for i in result.instructions] == [("FROM", "a"), ("RUN", "a  b")]
    assert len(oracle.parse_string(text)) == 3  # the oracle reads ` b` as an instruction


@pytest.mark.parametrize(
    "name", sorted(name for name, (_, outcome) in DIVERGENT_FIXTURES.items() if outcome == "raises")
)
def test_divergent_inputs_raise(name: str) -> None:
    text = DIVERGENT_FIXTURES[name][0]
    oracle.parse_string(text)  # accepted at BuildKit's parse stage
    with pytest.raises(InputError):
        parse(text)


# --- Parser directives -------------------------------------------------------------------


def test_escape_directive_changes_continuation_and_makes_backslash_literal() -> None:
    result = parse("# escape=`\nFROM a\nRUN copy C:\\dir\\ `\n    D:\\\n")
    assert result.escape == "`"
    assert result.directives == {"escape": "`"}
    run = result.instructions[1]
    assert (run.start_line, run.end_line) == (3, 4)
    assert run.args == "copy C:\\dir\\     D:\\"


def test_directive_names_are_case_insensitive_and_all_three_are_read() -> None:
    result = parse("# Syntax=docker/dockerfile:1\n#CHECK = error=true\n# escape=\\\nFROM a\n")
    assert result.directives == {"syntax": "docker/dockerfile:1", "check": "error=true", "escape": "\\"}


@pytest.mark.parametrize(
    "text",
    [
        "# hello\n# escape=`\nFROM a\n",  # after a plain comment
        "\n# escape=`\nFROM a\n",  # after a blank line
        "FROM a\n# escape=`\n",  # after an instruction
        "# unknown=1\n# escape=`\nFROM a\n",  # after an unknown directive name
    ],
)
def test_late_directive_is_only_a_comment(text: str) -> None:
    result = parse(text)
    assert result.directives == {}
    assert result.escape == "\\"
    assert (result.text.split("\n").index("# escape=`") + 1, "escape=`") in result.comments


def test_directives_are_also_comments() -> None:
    result = parse("# syntax=x\n# escape=`\n\n# note\nFROM a\n")
    assert result.comments == [(1, "syntax=x"), (2, "escape=`"), (4, "note")]


def test_duplicate_directive_is_an_error() -> None:
    with pytest.raises(InputError) as error:
        parse("# escape=`\n# ESCAPE=`\nFROM a\n", "Dockerfile.win")
    assert error.value.line == 2
    assert str(error.value) == "Dockerfile.win:2: only one escape parser directive can be used"


def test_invalid_escape_token_is_an_error() -> None:
    with pytest.raises(InputError) as error:
        parse("# escape=x\nFROM a\n")
    assert error.value.line == 1
    assert "invalid escape token" in error.value.reason


# --- Continuations, comments, keywords ---------------------------------------------------


def test_continuation_joins_lines_like_buildkit() -> None:
    text = "FROM a\nRUN set -eux; \\\n# why\n\n\t \n\tapt-get update \\  \n\t&& true\nUSER app\n"
    result = parse(text)
    run = result.instructions[1]
    assert (run.start_line, run.end_line) == (2, 7)
    assert run.args == "set -eux; \tapt-get update \t&& true"
    assert run.raw == "RUN set -eux; \\\n# why\n\n\t \n\tapt-get update \\  \n\t&& true\n"
    assert result.comments == [(3, "why")]
    assert result.instructions[2].start_line == 8


def test_comment_lines_are_collected_everywhere_but_in_heredoc_bodies() -> None:
    text = "# top\nFROM a\n  # indented\nRUN a \\\n    # inside\n    b\nRUN <<EOF\n# body\nEOF\n#\n"
    result = parse(text)
    assert result.comments == [(1, "top"), (3, "indented"), (5, "inside"), (10, "")]


def test_keyword_case_and_column() -> None:
    result = parse("from a AS b\n    Run echo\n\tcMd [\"x\"]\n")
    assert [(i.keyword, i.original_keyword, i.column) for i in result.instructions] == [
        ("FROM", "from", 1),
        ("RUN", "Run", 5),
        ("CMD", "cMd", 2),
    ]


def test_arg_before_from_and_stages() -> None:
    result = parse("ARG V=1\nFROM a:${V} AS build\nRUN make\nFROM scratch\nCOPY --from=build /x /x\n")
    assert [i.keyword for i in result.instructions] == ["ARG", "FROM", "RUN", "FROM", "COPY"]
    assert result.instructions[0].args == "V=1"
    assert result.instructions[4].flags == {"from": "build"}
    assert result.instructions[4].value == "/x /x"


def test_every_keyword_is_recognised() -> None:
    text = "".join(f"{keyword.lower()} x\n" for keyword in sorted(KEYWORDS) if keyword != "ONBUILD")
    assert [i.keyword for i in parse(text).instructions] == sorted(KEYWORDS - {"ONBUILD"})


def test_unknown_instruction_reports_its_line() -> None:
    with pytest.raises(InputError) as error:
        parse("FROM a\n\nfoo bar\n", "x/Dockerfile")
    assert str(error.value) == "x/Dockerfile:3: unknown instruction: foo"


def test_empty_and_comment_only_files_have_no_instructions() -> None:
    assert parse("").instructions == []
    assert parse("\n  \n\t\n").instructions == []
    only_comments = parse("# a\n   # b\n")
    assert only_comments.instructions == []
    assert only_comments.comments == [(1, "a"), (2, "b")]


# --- ONBUILD -------------------------------------------------------------------------------


def test_onbuild_wraps_the_inner_instruction_with_the_same_span() -> None:
    result = parse("FROM a\nONBUILD  cmd [\"serve\"]\nonbuild COPY --chown=1 \\\n  a b\n")
    first, second = result.instructions[1:]
    assert first.keyword == "ONBUILD" and first.args == "cmd [\"serve\"]"
    assert first.onbuild is not None
    assert (first.onbuild.keyword, first.onbuild.original_keyword) == ("CMD", "cmd")
    assert first.onbuild.args == "[\"serve\"]"
    assert (first.onbuild.start_line, first.onbuild.end_line, first.onbuild.raw) == (2, 2, first.raw)
    assert first.onbuild.column == 10
    assert second.onbuild is not None
    assert (second.onbuild.flags, second.onbuild.value) == ({"chown": "1"}, "a b")
    assert (second.onbuild.start_line, second.onbuild.end_line) == (3, 4)


def test_onbuild_unknown_trigger_is_an_error() -> None:
    with pytest.raises(InputError, match="unknown instruction: BOGUS"):
        parse("FROM a\nONBUILD BOGUS x\n")


# --- Heredocs ------------------------------------------------------------------------------


def test_heredoc_fields() -> None:
    text = "FROM a\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-'CONF' /etc/x.conf\n\tkey=1\n\tCONF\nCMD x\n"
    run, copy = parse(text).instructions[1:3]
    (doc,) = run.heredocs
    assert (doc.delimiter, doc.body, doc.strip_tabs, doc.expand) == ("EOF", "echo $HOME\n", False, True)
    assert (doc.start_line, doc.end_line) == (3, 4)
    assert (run.start_line, run.end_line, run.args) == (2, 4, "<<EOF")
    (conf,) = copy.heredocs
    assert (conf.delimiter, conf.body, conf.strip_tabs, conf.expand) == ("CONF", "\tkey=1\n", True, False)
    assert (copy.start_line, copy.end_line, copy.value) == (5, 7, "<<-'CONF' /etc/x.conf")


def test_several_heredocs_in_one_instruction() -> None:
    text = 'FROM a\nRUN <<A <<"B" paste /dev/fd/0\n1\nA\n2\n3\nB\n'
    first, second = parse(text).instructions[1].heredocs
    assert (first.delimiter, first.body, first.start_line, first.end_line) == ("A", "1\n", 3, 4)
    assert (second.delimiter, second.body, second.expand) == ("B", "2\n3\n", False)
    assert (second.start_line, second.end_line) == (5, 7)


def test_heredoc_empty_body_starts_at_its_terminator() -> None:
    (doc,) = parse("FROM a\nRUN <<EOF\nEOF\n").instructions[1].heredocs
    assert (doc.body, doc.start_line, doc.end_line) == ("", 3, 3)


def test_unterminated_heredoc_is_an_error() -> None:
    with pytest.raises(InputError) as error:
        parse("FROM a\nRUN <<EOF\necho hi\n")
    assert error.value.line == 2
    assert "unterminated heredoc" in error.value.reason


def test_heredoc_is_not_read_for_cmd() -> None:
    # BuildKit reads `CMD <<EOT` as a one-line instruction, then fails on the body line.
    with pytest.raises(InputError) as error:
        parse("FROM a\nCMD <<EOT\nserve --port 80\nEOT\n")
    assert error.value.line == 3
    assert error.value.reason == "unknown instruction: serve"


def test_heredoc_not_read_when_quoted_or_exec_form() -> None:
    result = parse("FROM a\nRUN echo '<<EOF'\nRUN [\"sh\", \"-c\", \"<<EOF\"]\n")
    assert [i.heredocs for i in result.instructions] == [[], [], []]
    assert [i.end_line for i in result.instructions] == [1, 2, 3]


# --- Line endings, BOM, reconstruction -----------------------------------------------------


def test_crlf_is_kept_in_raw_and_removed_from_args() -> None:
    text = "FROM a\r\nRUN a \\\r\n  b\r\nRUN <<EOF\r\nx\r\nEOF\r\n"
    result = parse(text)
    assert result.newline == "\r\n"
    assert result.text == text
    run, heredoc_run = result.instructions[1:]
    assert run.raw == "RUN a \\\r\n  b\r\n"
    assert run.args == "a   b"
    assert heredoc_run.heredocs[0].body == "x\n"
    assert heredoc_run.raw == "RUN <<EOF\r\nx\r\nEOF\r\n"
    assert reconstruct(result) == text


def test_bom_is_removed_and_does_not_shift_lines() -> None:
    result = parse("\ufeff# escape=`\nFROM a\n")
    assert result.bom is True
    assert result.text == "# escape=`\nFROM a\n"
    assert result.escape == "`"
    assert (result.instructions[0].start_line, result.instructions[0].column) == (2, 1)
    assert parse("FROM a\n").bom is False


@pytest.mark.parametrize("name", sorted(AGREEING_FIXTURES))
def test_raw_spans_reconstruct_the_file(name: str) -> None:
    text = AGREEING_FIXTURES[name].lstrip("\ufeff")
    assert reconstruct(parse(text)) == text


# --- split_flags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, flags, value",
    [
        ("--from=build --chmod=0755 a b", {"from": "build", "chmod": "0755"}, "a b"),
        ("--mount=type=cache,target=/x cmd --opt", {"mount": "type=cache,target=/x"}, "cmd --opt"),
        ("--platform=$BUILDPLATFORM img AS x", {"platform": "$BUILDPLATFORM"}, "img AS x"),
        ("--interval=5s CMD curl -f http://x/", {"interval": "5s"}, "CMD curl -f http://x/"),
        ("--link /a /b", {"link": None}, "/a /b"),
        ("--chown=\"app user\" a b", {"chown": "app user"}, "a b"),
        ("--x=1 -- --y=2 z", {"x": "1"}, "--y=2 z"),
        ("echo --not-a-flag", {}, "echo --not-a-flag"),
        ("  -x --y", {}, "-x --y"),
        ("", {}, ""),
        ("--only", {"only": None}, ""),
    ],
)
def test_split_flags(args: str, flags: Dict[str, Optional[str]], value: str) -> None:
    assert split_flags(args) == (flags, value)


# --- read() ----------------------------------------------------------------------------------


def test_read_keeps_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbfFROM a\r\nCMD x\r\n")
    result = read(str(path))
    assert (result.bom, result.newline, result.text) == (True, "\r\n", "FROM a\r\nCMD x\r\n")
    assert result.path == str(path)
    assert result.instructions[1].raw == "CMD x\r\n"


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"FROM a\nRUN \xff\xfe x\n", "not UTF-8 text (byte 0xff at offset 11)"),
        (b"FROM a\x00\x01\x02", "binary file (NUL byte at offset 6)"),
        ("FROM a\n".encode("utf-16"), "UTF-16 text is not supported (save the file as UTF-8)"),
    ],
)
def test_read_rejects_undecodable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read(str(path))
    assert error.value.reason == reason
    assert error.value.path == str(path)
    assert error.value.line is None


def test_read_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read: No such file or directory"):
        read(str(tmp_path / "nope"))
    with pytest.raises(InputError, match="cannot read"):
        read(str(tmp_path))


# --- Random line soups against the oracle ----------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LINE_POOL = [
    "FROM a AS b",
    "from --platform=$BUILDPLATFORM a",
    "RUN a \\",
    "  b \\  ",
    "\tc",
    "\\",
    "RUN echo \\\\",
    "run x `",
    "# comment",
    "  # indented comment \\",
    "# escape=`",
    "# syntax=docker/dockerfile:1",
    "",
    "   ",
    "RUN <<EOF",
    "RUN <<-EOF cat",
    "COPY <<'X' <<\"Y\" /d",
    "ADD 2<<EOF /x",
    "RUN ['not', 'json'] <<EOF",
    'RUN ["sh", "<<EOF"]',
    "EOF",
    "\tEOF",
    "X",
    "Y",
    'CMD ["x"]',
    "cmd <<EOF",
    "onbuild run <<EOF",
    "ONBUILD COPY --from=b a b",
    "HEALTHCHECK --interval=5s CMD z",
    "RUN --mount=type=cache,target=/x -- y",
    "body line",
    "ENV A=1 B=2",
]


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(st.sampled_from(LINE_POOL), max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
)
def test_random_line_soup_agrees_with_buildkit(lines: List[str], newline: str, final_newline: bool) -> None:
    text = newline.join(lines) + (newline if final_newline and lines else "")
    try:
        commands = oracle.parse_string(text)
    except oracle.GoParseError:
        commands = None
    try:
        ours = parse(text)
    except InputError:
        if commands is not None:
            # Allowed only where BuildKit's next stage rejects the file.
            cmds = [((c.cmd or "").upper(), (c.sub_cmd or "").upper(), c.value) for c in commands]
            assert any(
                cmd not in KEYWORDS
                or (cmd == "ONBUILD" and (sub not in KEYWORDS or sub in ("ONBUILD", "FROM", "MAINTAINER")))
                for cmd, sub, _ in cmds
            ), cmds
        return
    assert reconstruct(ours) == text
    if commands is not None:
        assert our_summary(ours) == oracle_summary(commands)
        expected = oracle_heredocs(commands)
        got = our_heredocs(ours)
        for index, instruction in enumerate(ours.instructions):
            if instruction.keyword == "ONBUILD":  # not exposed by the oracle's wrapper
                got[index] = expected[index]
        assert got == expected
    else:
        assert ours.instructions == []  # BuildKit only refuses files without instructions

"""The fast YAML reader (libyaml, through ruamel.yaml's C extension, composed into ruamel.yaml nodes) against ruamel.yaml's own round
trip: every real manifest and compose file, every fixture, random YAML and the odd cases load to
the same objects at the same lines and columns and give the same findings and fixes; what the fast
reader cannot read the same way goes to ruamel.yaml (the same errors, alias-bomb and duplicate-key
refusals included)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initify import engine
from initify.compose.files import load_compose
from initify.errors import InputError
from initify.kubernetes import fast_yaml
from initify.kubernetes.findings import findings_for, pair_images
from initify.kubernetes.manifests import detect_style, load_manifest, new_yaml, parse_documents, read_text
from initify.options import Options

ROOT = Path(__file__).resolve().parent.parent
CORPUS = next((c for c in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus",
                           Path("/work/shared/corpus")) if c.is_dir()), None)


def yaml_files() -> List[Path]:
    """Every YAML file of the corpus (read in place) and of the project's own fixtures and samples."""
    roots = [ROOT / "tests", ROOT / "samples"] + ([CORPUS] if CORPUS is not None else [])
    return sorted(path for root in roots for pattern in ("*.yaml", "*.yml") for path in root.rglob(pattern))


def shape(node: Any, seen: Dict[int, int]) -> Any:
    """All a reader of the loaded documents can see, as plain data: types, values, the line and
    column of every node, key, value and item, flow style, anchors, shared (aliased) nodes."""
    if id(node) in seen:
        return ("same node as", seen[id(node)])
    if isinstance(node, dict):
        seen[id(node)] = len(seen)
        merged = [item[1] if isinstance(item, tuple) else item for item in (getattr(node, "merge", None) or [])]
        return (type(node).__name__, node.lc.line, node.lc.col, sorted((repr(k), v) for k, v in (node.lc.data or {}).items()),
                node.fa.flow_style(), [(shape(k, seen), shape(v, seen)) for k, v in node.items()],
                [shape(m, seen) for m in merged])
    if isinstance(node, list):
        seen[id(node)] = len(seen)
        return (type(node).__name__, node.lc.line, node.lc.col, sorted((node.lc.data or {}).items()),
                node.fa.flow_style(), [shape(v, seen) for v in node])
    return (type(node).__name__, repr(node), getattr(getattr(node, "anchor", None), "value", None))


def loaded(text: str, round_trip: bool) -> Any:
    """What parse_documents gives for `text`: the documents' shape, or the error it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel.yaml warns on a reused anchor
        try:
            return ("documents", [shape(doc, {}) for doc in parse_documents("x.yaml", text, detect_style(text), round_trip)])
        except InputError as error:
            return ("error", str(error))
        except RecursionError:
            return ("nested too deeply",)


def fast_reads(text: str) -> bool:
    """Whether the fast reader reads `text` itself (rather than leaving it to ruamel.yaml: it says
    so, or ruamel.yaml's constructor fails, as on a duplicate key)."""
    try:
        fast_yaml.load_all(text, new_yaml(detect_style(text)).constructor)
    except Exception:  # noqa: BLE001 - parse_documents reads such a text again with ruamel.yaml
        return False
    return True


def test_ruamel_yaml_c_extension_is_installed():
    """Without the C extension every file silently takes the slow path: the set-up must have it."""
    assert fast_yaml.available()


# --- every real file ---------------------------------------------------------------------------


def test_there_are_files_to_compare():
    files = yaml_files()
    assert len(files) >= 20
    if CORPUS is not None:
        assert sum(1 for path in files if CORPUS in path.parents) >= 150


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: str(path.relative_to(path.parents[1])))
def test_the_fast_reader_loads_every_file_as_the_round_trip_does(path):
    try:
        text, _ = read_text(str(path))
    except InputError:
        pytest.skip("not UTF-8 text")
    text = text.replace("\r\n", "\n")
    assert loaded(text, round_trip=False) == loaded(text, round_trip=True)


def _findings(path: Path, round_trip: bool) -> List[Tuple[Any, ...]]:
    """Codes, lines, columns, messages and planned fixes of a manifest or compose file, with the
    documents read one way or the other (the rules and yaml_edit as `initify fix` runs them)."""
    loader = load_compose if "compose" in path.name else load_manifest
    try:
        item = loader(str(path), round_trip=round_trip)
    except InputError as error:
        return [("error", str(error))]
    if getattr(item, "helm", False):
        return [("helm",)]
    selection = engine.Selection()
    paired = pair_images([(item, selection)], {}, Options())
    return [(f.code, f.line, f.column, f.message, f.fix and (f.fix.safe, f.fix.edits))
            for f in findings_for(item, selection, paired, (1, 33))]


@pytest.mark.parametrize("path", [p for p in yaml_files() if CORPUS is not None and CORPUS in p.parents
                                  or "manifests" in p.parts or "lint" in p.parts or "compose" in p.parts or "samples" in p.parts],
                         ids=lambda path: str(path.relative_to(path.parents[1])))
def test_the_fast_reader_gives_the_same_findings_and_fixes(path):
    assert _findings(path, round_trip=False) == _findings(path, round_trip=True)


def test_the_fast_reader_reads_nearly_every_real_file_itself():
    """A fast path that always fell back would pass every test above and speed up nothing."""
    texts = []
    for path in yaml_files():
        try:
            texts.append(read_text(str(path))[0].replace("\r\n", "\n"))
        except InputError:
            continue
    fast = sum(fast_reads(text) for text in texts)
    assert fast >= 0.9 * len(texts), (fast, len(texts))


# --- what the fast reader leaves to ruamel.yaml ------------------------------------------------

POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n"
       '    command: ["sh", "-c", "python app.py"]\n')
BOMB = "\n".join(['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
                 + [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]) + "\n"

ODD = {
    "directive": "%YAML 1.1\n---\ntty: yes\n",
    "explicit tag": "a: !!str 3\nb: !Ref x\n",
    "reused anchor": "a: &x 1\nb: &x 2\nc: *x\n",
    "alias name with a colon": "a: &b: 1\n",
    "lone carriage return": "a: 1\rb: 2\n",
    "next line": "a: 1\x85b: 2\n",
    "line separator": "a: 1\u2028b: 2\n",
    "tab": "a: b\tc\n",
    "byte order mark inside": "a: 1\n\ufeffb: 2\n",
    "empty value in flow": "a: {b: }\n",
    "empty value then complex key": "a:\n? b\n: c\n",
    "syntax error": "a: [1, 2\nb: 3\n",
    "undefined alias": "a: *nowhere\n",
    "deep nesting": "a: " + "[" * 1200 + "]" * 1200 + "\n",
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_texts_are_left_to_ruamel_yaml_and_read_the_same(name):
    text = ODD[name]
    assert not fast_reads(text)
    assert loaded(text, round_trip=False) == loaded(text, round_trip=True)


EVEN = {
    "empty values": "a:\nb:  # comment\nc:\n  d:\ne:",
    "empty value at the end without a line break": "a: 1\nb:   ",
    "empty items": "a:\n-\n- # c\n- x\n",
    "anchors, aliases and merges": "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
    "scalars": 'a: 0x1F\nb: 017\nc: 1_000\nd: 1.5\ne: .inf\nf: yes\ng: "q"\nh: \'s\'\ni: ~\nj: 2024-01-02\nk: 2024-13-45\n',
    "block scalars": "a: |\n  one\n  two\nb: >-\n  folded\n  text\n\nc: |+\n  kept\n\n",
    "documents": "---\na: 1\n...\n---\n# only a comment\n---\n- x\n",
    "unicode": "é😀: [a, b]\nkey: ünï\n",
    "non-specific tags": "a: ! 3\nb: ! [1, 2]\nc: ! {d: 1}\n",
    "alias bomb": BOMB,
    "many pods": "---\n".join([POD] * 5),
}


@pytest.mark.parametrize("name", sorted(EVEN))
def test_common_texts_are_read_by_the_fast_reader_the_same(name):
    text = EVEN[name]
    assert fast_reads(text)
    assert loaded(text, round_trip=False) == loaded(text, round_trip=True)


def test_an_alias_bomb_is_refused_on_the_fast_path():
    """libyaml composes the nine levels of aliases as shared nodes (no expansion) and the same
    count refuses them."""
    text = POD + "---\n" + BOMB
    assert fast_reads(text)
    with pytest.raises(InputError, match="YAML aliases expand to more than 1,000,000 values"):
        parse_documents("pod.yaml", text, detect_style(text), round_trip=False)


def test_a_duplicate_key_is_refused_on_the_fast_path_as_on_the_round_trip():
    text = POD.replace("  name: p\n", "  name: p\n  name: secret-value\n")
    errors = []
    for round_trip in (False, True):
        with pytest.raises(InputError) as raised:
            parse_documents("pod.yaml", text, detect_style(text), round_trip)
        errors.append(str(raised.value))
    assert errors[0] == errors[1] and 'duplicate key "name"' in errors[0] and "secret" not in errors[0]


# --- random YAML -------------------------------------------------------------------------------

KEYS = ["a", "b", "name", "tty", "command", '"q"', "'s'", "1", "k k", "<<", "&k key", "? x", "*a"]
VALUES = ["", "x", "b c", "1", "0x1F", "017", "1.5", "true", "yes", "null", "~", '"q"', "'s'", "[a, b]", "{a: 1}",
          "[]", "{}", "&a v", "*a", "&b", "é ü", "x # c", '["sh", "-c", "x"]', "2024-13-45", "{a: }", "x:y", "!!str 3",
          "[a,\n  b]", '"two\n  lines"', "plain\n  more"]
ENDINGS = ["", "", "  # c", "  "]


@st.composite
def mapping_lines(draw: Any, indent: int = 0, depth: int = 0) -> List[str]:
    lines: List[str] = []
    pad = " " * indent
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 9))
        key = draw(st.sampled_from(KEYS))
        if choice == 0 and depth < 3:
            lines.append(pad + key + ":" + draw(st.sampled_from(ENDINGS)))
            lines += draw(mapping_lines(indent + draw(st.sampled_from([2, 4])), depth + 1))
        elif choice == 1 and depth < 3:
            lines.append(pad + key + ":")
            column = indent + draw(st.sampled_from([0, 2]))
            for _ in range(draw(st.integers(1, 3))):
                item = draw(st.sampled_from(["", " x", " k: v", "  # c", " &s 1", " *s"]))
                lines.append(" " * column + "-" + item)
        elif choice == 2:
            lines.append(draw(st.sampled_from(["# comment", "", "   ", pad + "# indented"])))
        else:
            value = draw(st.sampled_from(VALUES))
            first, *rest = value.split("\n")
            lines.append(pad + key + ":" + (" " + first if first else "") + draw(st.sampled_from(ENDINGS)))
            lines += [pad + line for line in rest]
    return lines


@st.composite
def yaml_texts(draw: Any) -> str:
    parts: List[str] = []
    for index in range(draw(st.integers(1, 3))):
        if index or draw(st.booleans()):
            parts.append(draw(st.sampled_from(["---", "--- # doc", "...\n---"])))
        parts += draw(mapping_lines())
    return "\n".join(parts) + draw(st.sampled_from(["\n", "", "\n\n", "\n  "]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_texts())
def test_random_yaml_loads_the_same_either_way(text):
    assert loaded(text, round_trip=False) == loaded(text, round_trip=True)

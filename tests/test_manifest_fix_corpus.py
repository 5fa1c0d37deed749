"""`initify fix --unsafe-fixes` over every manifest and compose file of ../shared/corpus, in
temporary copies: re-linting shows none of the fixed codes, a second fix changes nothing, and a
document that validated with kubernetes-validate (strict) before still validates after."""

from __future__ import annotations

import io
import shutil

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from initify import discover
from initify.commands import fix
from initify.commands import lint

from tests.corpus import CORPUS
FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")
    and discover.kind_of(str(p)) in (discover.MANIFEST, discover.COMPOSE)
) if CORPUS.is_dir() else []
VERSION = "1.33"

pytestmark = pytest.mark.skipif(not FILES, reason="shared corpus not present")


def _valid_docs(text: str) -> list:
    """Per document: True when it validates strictly, False when not, None when not Kubernetes."""
    result = []
    try:
        docs = list(YAML(typ="safe").load_all(io.StringIO(text)))
    except Exception:  # noqa: BLE001 - unparsable for the safe loader: nothing to compare
        return []
    for doc in docs:
        if not (isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc):
            result.append(None)
            continue
        try:
            kubernetes_validate.validate(doc, VERSION, strict=True)
            result.append(True)
        except Exception:  # noqa: BLE001 - invalid, or a kind the schemas do not know
            result.append(False)
    return result


@pytest.mark.parametrize("source", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_fix_corpus_yaml(source, tmp_path):
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    original = path.read_bytes().decode("utf-8")
    options = fix.FixOptions(unsafe_fixes=True, k8s_version=VERSION)
    try:
        plan = fix.plan([str(path)], options)
    except Exception as error:  # an InputError must say where; nothing may be written
        from initify.errors import InputError

        assert isinstance(error, InputError)
        assert path.read_bytes().decode("utf-8") == original
        return
    fixed_codes = {a.finding.code for a in plan.applied}
    fix.write(plan)
    text = path.read_bytes().decode("utf-8")
    remaining = {f.code for f in lint.run([str(path)], lint.Options(k8s_version=VERSION)).findings}
    assert not remaining & fixed_codes, remaining & fixed_codes
    assert fix.plan([str(path)], options).changed() == []
    if not plan.changed():
        assert text == original
    before, after = _valid_docs(original), _valid_docs(text)
    assert len(before) == len(after)
    for was, now in zip(before, after):
        if was:
            assert now, "a document that validated before the fix does not validate after it"

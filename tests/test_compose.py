"""Tests for initify.compose.files and initify.knowledge.durations."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import List

import pytest

from initify.compose.files import ComposeFile, ComposeService, is_compose_path, load_compose
from initify.knowledge.durations import parse_duration
from initify.errors import InputError
from initify.kubernetes.manifests import dump_documents, render_documents
DATA = Path(__file__).parent / "data" / "compose"
FIXTURES = sorted(DATA.iterdir())
from tests.corpus import CORPUS


def corpus_compose_files() -> List[Path]:
    """Compose files listed in the corpus MANIFEST.tsv (repo `a/b` lives in folder `a__b`)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        pytest.skip("corpus not available")
    with manifest.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "compose"]
    return [CORPUS / row["repo"].replace("/", "__") / row["path"] for row in rows]


def services(name: str) -> List[ComposeService]:
    return load_compose(str(DATA / name)).services


@pytest.mark.parametrize(
    "path, expected",
    [
        ("compose.yaml", True),
        ("compose.yml", True),
        ("docker-compose.yml", True),
        ("docker-compose.yaml", True),
        ("deploy/docker-compose.prod.yml", True),
        ("compose.override.yaml", True),
        ("docker-compose.yml.bak", False),
        ("my-compose.yml", False),
        ("compose.json", False),
        ("k8s/deployment.yaml", False),
    ],
)
def test_is_compose_path(path: str, expected: bool) -> None:
    assert is_compose_path(path) is expected


def test_string_command_is_split_like_a_shell_without_running_one() -> None:
    web = services("compose.yaml")[0]
    assert (web.name, web.line) == ("web", 3)
    assert web.command_from_string
    assert web.command_raw == 'gunicorn -w 3 -b 0.0.0.0:8000 "app:create_app()"'
    assert web.command == ["gunicorn", "-w", "3", "-b", "0.0.0.0:8000", "app:create_app()"]
    assert (web.build_context, web.dockerfile, web.image) == ("./web", None, None)
    assert (web.init, web.stop_signal, web.stop_grace_period) == (True, "SIGINT", 90.0)
    assert (web.line_of("command"), web.line_of("stop_grace_period"), web.line_of("image")) == (5, 8, 3)


def test_list_command_build_mapping_and_entrypoint() -> None:
    worker = services("compose.yaml")[1]
    assert (worker.build_context, worker.dockerfile) == ("./worker", "Dockerfile.prod")
    assert (worker.entrypoint, worker.entrypoint_from_string) == (["/usr/bin/tini", "--"], False)
    assert (worker.command, worker.command_from_string) == (["python", "-m", "worker"], False)
    assert worker.command_raw is worker.node["command"]
    assert worker.stop_grace_period == 0.5
    assert worker.init is None


def test_sh_c_string_is_a_shell_wrapper_argv() -> None:
    shell = services("compose.yaml")[2]
    assert shell.command == ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
    assert (shell.image, shell.build_context, shell.stop_grace_period) == ("alpine:3.20", None, 7200.0)


def test_null_command_empty_entrypoint_and_build_without_context() -> None:
    db, bare = services("compose.yaml")[3:]
    assert (db.command, db.entrypoint, db.stop_grace_period) == (None, None, 10.0)
    assert (bare.build_context, bare.dockerfile) == (".", "Containerfile")
    assert (bare.command, bare.command_from_string) == (None, False)
    assert (bare.entrypoint, bare.entrypoint_from_string) == ([], True)
    assert bare.line_of("command") == 26


def test_anchors_and_merge_keys_are_resolved() -> None:
    cf = load_compose(str(DATA / "docker-compose.anchors.yml"))
    api, jobs, copy = cf.services
    assert [s.name for s in (api, jobs, copy)] == ["api", "jobs", "copy"]
    assert (api.image, api.init, api.stop_grace_period, api.stop_signal) == ("example/app:1", True, 30.0, "SIGQUIT")
    assert api.command == ["serve", "--port", "8080"]
    assert api.line_of("image") == 4  # merged keys point into the anchored mapping
    assert api.line_of("stop_signal") == 12
    assert (jobs.command, jobs.command_from_string, jobs.line_of("command")) == (
        ["./run-jobs", "--queue", "default"], True, 15)
    assert copy.node is cf.document["x-defaults"]  # `copy: *defaults` is the anchored mapping itself
    assert (copy.line, copy.image, copy.line_of("command")) == (16, "example/app:1", 7)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_fixture_round_trip_is_byte_identical(path: Path) -> None:
    cf = load_compose(str(path))
    text = path.read_text(encoding="utf-8")
    assert render_documents(cf.documents, cf.style) == text
    assert dump_documents(cf) == text


def test_edit_then_dump() -> None:
    cf = load_compose(str(DATA / "compose.yaml"))
    cf.services[3].node["init"] = True
    out = dump_documents(cf)
    assert "    stop_grace_period: 10s\n    init: true\n" in out
    assert out.startswith("# Services covering every field initify reads.\n")
    assert load_compose("compose.yaml", out).services[3].init is True


@pytest.mark.parametrize(
    "text, seconds",
    [("1m30s", 90.0), ("10s", 10.0), ("500ms", 0.5), ("2h", 7200.0), ("1.5s", 1.5), ("0", 0.0),
     ("1h2m3s", 3723.0), ("250us", 0.00025), ("-5s", -5.0), (".5m", 30.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", "", "s", "1x", "1m30", "abc", "1 s", "1.2.3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_bad_duration_is_an_input_error_at_its_line() -> None:
    text = "services:\n  app:\n    image: x\n    stop_grace_period: 10 seconds\n"
    with pytest.raises(InputError) as caught:
        load_compose("compose.yaml", text)
    assert caught.value.line == 4
    assert caught.value.reason.startswith("stop_grace_period: invalid duration '10 seconds'")


def test_numeric_grace_period_is_seconds_and_numbers_become_words() -> None:
    text = "services:\n  app:\n    image: 3\n    stop_grace_period: 15\n    command: [echo, 1, true]\n    entrypoint: 7\n"
    app = load_compose("compose.yaml", text).services[0]
    assert (app.image, app.stop_grace_period, app.command, app.entrypoint) == ("3", 15.0, ["echo", "1", "true"], ["7"])


def test_unbalanced_quote_in_string_command_is_an_input_error() -> None:
    text = "services:\n  app:\n    image: x\n    command: sh -c \"echo hi\n"
    with pytest.raises(InputError) as caught:
        load_compose("compose.yaml", text)
    assert caught.value.line == 4
    assert "No closing quotation" in caught.value.reason


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "- a list\n", "services: [a, b]\n", "services:\n  app: just-a-string\n",
     "version: '2'\nweb:\n  image: old-v1-format\n"],
)
def test_files_without_readable_services_give_none(text: str) -> None:
    assert load_compose("compose.yaml", text).services == []


def test_invalid_yaml_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        load_compose("compose.yaml", "services:\n  app:\n    image: [x\n")
    assert caught.value.line == 4


def test_corpus_compose_files_load() -> None:
    files = corpus_compose_files()
    assert len(files) == 42
    assert all(is_compose_path(str(path)) for path in files)
    loaded: List[ComposeFile] = [load_compose(str(path)) for path in files]
    all_services = [s for cf in loaded for s in cf.services]
    assert len(all_services) > 80
    assert all(s.image or s.build_context for s in all_services)
    for cf in loaded:
        assert dump_documents(cf) == cf.text
    identical = sum(render_documents(cf.documents, cf.style) == cf.text for cf in loaded)
    assert identical >= 23  # 23 of 42 at the time of writing; see YamlStyle for what differs


def test_build_target_and_args(tmp_path) -> None:
    text = (
        "services:\n"
        "  a:\n    build:\n      context: ./a\n      target: runtime\n"
        "      args:\n        PORT: 8080\n        EMPTY: ''\n        FROM_ENV:\n"
        "  b:\n    build:\n      context: .\n      args: [VERSION=1.2, FROM_ENV, EQUALS=a=b]\n"
        "  c:\n    build: ./c\n"
    )
    a, b, c = load_compose(str(tmp_path / "compose.yaml"), text).services
    assert (a.build_target, a.build_args) == ("runtime", {"PORT": "8080", "EMPTY": ""})
    assert (b.build_target, b.build_args) == (None, {"VERSION": "1.2", "EQUALS": "a=b"})
    assert (c.build_context, c.build_target, c.build_args) == ("./c", None, {})

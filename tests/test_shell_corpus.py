"""initify.dockerfile.shell on the real entrypoint/start scripts of the shared corpus (read in place)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Dict, List

import pytest

from initify.dockerfile.shell import add_exec, analyse

from tests.corpus import CORPUS

pytestmark = [
    pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="shared corpus absent"),
    pytest.mark.skipif(importlib.util.find_spec("tree_sitter_bash") is None, reason="tree-sitter-bash is not installed"),
]


def corpus_scripts() -> Dict[str, Path]:
    """`repo/path` -> file, for every script row of MANIFEST.tsv."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return {}
    with open(CORPUS / "MANIFEST.tsv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "script"]
    return {f"{row['repo']}/{row['path']}": CORPUS / row["repo"].replace("/", "__") / row["path"] for row in rows}


SCRIPTS = corpus_scripts()


def read(name: str) -> str:
    return SCRIPTS[name].read_text(encoding="utf-8")


def test_corpus_has_the_82_scripts() -> None:
    assert len(SCRIPTS) == 82


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_corpus_script_parses(name: str) -> None:
    result = analyse(read(name))
    assert result.ok, result.error
    assert result.reason


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_add_exec_on_corpus_only_inserts_exec(name: str) -> None:
    script = read(name)
    fixed = add_exec(script)
    if fixed is None:
        return
    assert fixed.replace("exec ", "") == script.replace("exec ", "")
    assert len(fixed) > len(script)
    assert analyse(fixed).ends_with_exec
    assert add_exec(fixed) is None  # idempotent


def names(fragment: str) -> List[str]:
    return [name for name in SCRIPTS if fragment in name]


@pytest.mark.parametrize("name", [n for n in names("postgres") if n.endswith("docker-entrypoint.sh")])
def test_postgres_entrypoint_execs_through_main_function(name: str) -> None:
    # `exec "$@"` is the last line of `_main`, called last inside `if ! _is_sourced; then ...; fi`
    script = read(name)
    result = analyse(script)
    assert result.ends_with_exec
    assert result.last_command == 'exec "$@"'
    assert result.runs_args
    assert [tail.function for tail in result.tails if tail.kind == "exec"] == ["_main"]
    assert script.splitlines()[result.last_line - 1].strip() == 'exec "$@"'


def test_postgres_ensure_initdb_is_not_a_server_start() -> None:
    result = analyse(read("docker-library/postgres/17/bookworm/docker-ensure-initdb.sh"))
    assert result.ok and not result.ends_with_exec
    assert result.last_command == "unset PGPASSWORD"
    # The `else` branch is a case whose branches all `exit N`: stops, ignored.
    assert {tail.kind for tail in result.tails} == {"command", "stop"}


@pytest.mark.parametrize(
    "fragment",
    ["rabbitmq/4.3/alpine", "redis/docker-entrypoint.sh", "nginxinc/docker-nginx/mainline/debian", "traefik-library-image/v3.7", "mysql-galera"],
)
def test_entrypoints_ending_exec_args(fragment: str) -> None:
    (name,) = names(fragment)
    result = analyse(read(name))
    assert result.ends_with_exec and result.runs_args and result.last_command == 'exec "$@"'


def test_rethinkdb_execs_in_both_branches() -> None:
    result = analyse(read("kubernetes/examples/_archived/storage/rethinkdb/image/run.sh"))
    assert result.ends_with_exec
    assert [tail.kind for tail in result.tails] == ["exec", "exec"]


def test_jupyter_start_tolerates_a_local_parse_error() -> None:
    result = analyse(read("jupyter/docker-stacks/images/docker-stacks-foundation/start.sh"))
    assert result.ok and result.ends_with_exec
    assert result.warnings  # tree-sitter-bash cannot read `${X:+(chown ...)}`, inside one word
    assert result.last_command == 'exec "${cmd[@]}"'


def test_phabricator_runs_apache_as_a_child_and_add_exec_fixes_it() -> None:
    script = read("kubernetes/examples/_archived/phabricator/php-phabricator/run.sh")
    result = analyse(script)
    assert not result.ends_with_exec and result.last_command == "apache2 -D FOREGROUND"
    fixed = add_exec(script)
    assert fixed is not None and fixed.rstrip().endswith("exec apache2 -D FOREGROUND")


def test_guestbook_redis_slave_if_else_both_fixed() -> None:
    script = read("kubernetes/examples/web/guestbook/redis-slave/run.sh")
    assert [tail.kind for tail in analyse(script).tails] == ["command", "command"]
    fixed = add_exec(script)
    assert fixed is not None and fixed.count("exec redis-server") == 2


def test_redis_example_follows_the_function_but_will_not_edit_it() -> None:
    script = read("kubernetes/examples/_archived/storage/redis/image/run.sh")
    result = analyse(script)
    assert not result.ends_with_exec
    assert result.last_command.startswith("redis-server")
    assert result.tails[-1].function == "launchslave"
    assert add_exec(script) is None


def test_nfs_loop_with_trap_is_compound() -> None:
    result = analyse(read("kubernetes/examples/_archived/volumes/nfs/nfs-data/run_nfs.sh"))
    assert result.compound_last and not result.ends_with_exec
    assert result.traps == ["TERM"]


def test_compose_nginx_start_is_an_and_list() -> None:
    text = read("docker/awesome-compose/nginx-wsgi-flask/nginx/start.sh")
    result = analyse(text)
    assert not result.ends_with_exec and result.program == "nginx"
    fixed = add_exec(text)
    assert fixed == text.replace("&& nginx", "&& exec nginx")

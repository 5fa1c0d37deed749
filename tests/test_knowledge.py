"""The knowledge base initify reads (rules/knowledge.json) is the one people edit (knowledge.toml)."""

import json
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from initify.knowledge import loader as knowledge

ROOT = Path(__file__).resolve().parent.parent


def test_json_copy_holds_exactly_what_the_toml_says():
    with open(ROOT / "rules" / "knowledge.toml", "rb") as handle:
        edited = tomllib.load(handle)
    shipped = json.loads((ROOT / "rules" / "knowledge.json").read_text(encoding="utf-8"))
    shipped.pop("_note")
    assert shipped == edited, "rules/knowledge.json is stale: run python scripts/build_knowledge.py"


def test_build_script_check_mode_detects_a_stale_copy(tmp_path):
    script = ROOT / "scripts" / "build_knowledge.py"
    fresh = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    # The script works on the rules/ folder beside it: run a copy against an edited TOML.
    (tmp_path / "scripts").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "scripts" / "build_knowledge.py").write_text(script.read_text())
    toml = (ROOT / "rules" / "knowledge.toml").read_text()
    (tmp_path / "rules" / "knowledge.toml").write_text(toml.replace('"tini-static",', '"tini-static", "tini-new",', 1))
    (tmp_path / "rules" / "knowledge.json").write_text((ROOT / "rules" / "knowledge.json").read_text())
    stale = subprocess.run([sys.executable, str(tmp_path / "scripts" / "build_knowledge.py"), "--check"],
                           capture_output=True, text=True)
    assert stale.returncode == 1 and "out of date" in stale.stderr
    subprocess.run([sys.executable, str(tmp_path / "scripts" / "build_knowledge.py")], check=True)
    rebuilt = json.loads((tmp_path / "rules" / "knowledge.json").read_text())
    assert "tini-new" in rebuilt["inits"]["tini"]["names"]


def test_loaded_knowledge_comes_from_the_shipped_copy():
    loaded = knowledge.load()
    assert loaded.init_for("/usr/bin/tini").key == "tini"
    assert loaded.daemon_for("nginx").stop_signal == "SIGQUIT"
    assert loaded.is_launcher("npm") and loaded.is_shell("/bin/dash")


# --- the image table -------------------------------------------------------------------------

def _image_rows():
    with open(ROOT / "rules" / "knowledge.toml", "rb") as handle:
        return tomllib.load(handle)


def test_every_image_fact_has_a_source():
    data = _image_rows()
    families = data["image_families"]
    for name, family in families.items():
        facts = [key for key in family if key in knowledge.IMAGE_FACTS]
        assert facts, name
        for fact in facts:
            assert family["sources"].get(fact, "").strip(), f"family {name}: {fact} has no source"
    for row in data["images"]:
        assert row["source"].strip() and row["family"] in families, row["pattern"]
    for entry in knowledge.load().images:
        assert set(entry.facts) == set(entry.sources) and all(entry.sources.values()), entry.pattern


def test_every_image_pattern_is_reachable_in_its_order():
    """Each row's example matches its own pattern and no earlier row takes it: a variant row
    (`*alpine*`) listed after its repository's catch-all would never be used."""
    kb = knowledge.load()
    for entry in kb.images:
        assert knowledge.fnmatch.fnmatchcase(knowledge.table_name(entry.example), entry.pattern), entry.example
        assert kb.image_entry(entry.example) is entry, f"{entry.pattern} is shadowed for {entry.example}"


def test_the_common_bases_are_covered():
    kb = knowledge.load()
    for reference in ("debian", "ubuntu:24.04", "alpine", "busybox", "fedora:41", "registry.access.redhat.com/ubi9/ubi",
                      "centos:7", "rockylinux:9", "amazonlinux:2023", "gcr.io/distroless/static-debian12", "scratch",
                      "python:3.12-slim", "node:22-alpine", "golang:1.23", "eclipse-temurin:21", "ruby:3.3",
                      "php:8.3-fpm", "nginx", "httpd:2.4", "postgres:16", "redis:7-alpine", "docker.io/library/alpine:3.20"):
        assert kb.image_entry(reference) is not None, reference


def test_variants_pick_their_distribution():
    kb = knowledge.load()
    assert kb.image_entry("python:3.12-alpine").facts["package_manager"] == "apk"
    assert kb.image_entry("python:3.12-slim-bookworm").facts["kill"] == ""
    assert kb.image_entry("python:3.12-bookworm").facts["kill"] == "/usr/bin/kill"
    assert kb.image_entry("node:22-alpine").facts["sh"] == "busybox"
    assert kb.image_entry("alpine:3.20").facts["init"] == "busybox"
    assert kb.image_entry("fedora:41").facts["sh"] == "bash"

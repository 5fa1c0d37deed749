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

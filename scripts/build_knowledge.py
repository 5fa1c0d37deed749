"""Write rules/knowledge.json from rules/knowledge.toml.

The TOML file is the knowledge base people edit (it has comments and a source for every entry);
initify reads the JSON copy, because Python's TOML parser costs ~4 ms to import and run on every
`initify lint` while the JSON one is already loaded. tests/test_knowledge.py fails when the two
disagree. Usage: python scripts/build_knowledge.py [--check]
"""

import json
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RULES = Path(__file__).resolve().parent.parent / "rules"
NOTE = "generated from knowledge.toml by scripts/build_knowledge.py: edit the TOML, then run it"


def render(toml_path: Path) -> str:
    with open(toml_path, "rb") as handle:
        data = tomllib.load(handle)
    return json.dumps({"_note": NOTE, **data}, indent=1, ensure_ascii=False) + "\n"


def main(argv: list) -> int:
    wanted = render(RULES / "knowledge.toml")
    target = RULES / "knowledge.json"
    if "--check" in argv:
        if not target.is_file() or target.read_text(encoding="utf-8") != wanted:
            print(f"{target} is out of date: run python scripts/build_knowledge.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

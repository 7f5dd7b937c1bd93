"""Write the expected output next to golden fixtures.

python scripts/regen_golden.py                # only fixtures without an expected file
python scripts/regen_golden.py --all          # rewrite all (review the diff!)
python scripts/regen_golden.py tests/data/macos/arp--basic.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mpkit.golden import expected_path, fixtures, frame_to_golden
from mpkit.parsers import parse

ROOT = Path(__file__).resolve().parents[1] / "tests" / "data"


def main(argv: list[str]) -> int:
    regen_all = "--all" in argv
    named = [Path(a).resolve() for a in argv if not a.startswith("--")]
    for _platform, kind, path in fixtures(ROOT):
        exp = expected_path(path)
        if named and path.resolve() not in named:
            continue
        if exp.exists() and not regen_all and not named:
            continue
        frame = parse(kind, path.read_text(encoding="utf-8", errors="replace"))
        exp.write_text(json.dumps(frame_to_golden(frame), indent=1, sort_keys=False) + "\n")
        print(f"wrote {exp.relative_to(ROOT.parent.parent)} ({len(frame)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Write tests/data/known_misses.json: the library cases the shipped model still gets wrong, and how.

    python scripts/known_misses.py

Run after refitting the model (`python -m mpkit.diagnose.fit`); review the diff before committing:
a case that leaves the list is fixed, one that joins it is a regression to explain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mpkit  # noqa: E402
from mpkit.diagnose.library import find_cases, score  # noqa: E402


def main() -> int:
    dirs = [ROOT / "data" / "cases", ROOT.parent / "shared" / "cases"]
    misses: dict[str, list[str]] = {}
    for d in dirs:
        for c in find_cases(d):
            s = score(c, mpkit.diagnose(c.path).to_dict())
            bad = [
                k
                for k, ok in (
                    ("acceptable", s.acceptable),
                    ("top3", s.top3),
                    ("not_overconfident", not s.overconfident),
                )
                if not ok
            ]
            if bad:
                misses[c.key] = bad
    out = ROOT / "tests" / "data" / "known_misses.json"
    out.write_text(json.dumps(dict(sorted(misses.items())), indent=1) + "\n")
    print(f"{len(misses)} known misses written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

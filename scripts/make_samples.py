"""Write mpkit's sample bundles (``mpkit/samples_data/<name>/``) exactly as ``mpkit probe`` lays them out.

    python scripts/make_samples.py              # into <repo>/mpkit/samples_data (package data)
    python scripts/make_samples.py /tmp/out     # anywhere else (the tests compare the two)

Deterministic: no clock, no environment; the only randomness is ``random.Random``
seeded per bundle. Every time in every file derives from one UTC timeline per
bundle, so daemon-log local times, journal offsets, QMP epochs, lease expiries,
snapshot folder names, tcpdump times and manifest/attempt times all agree.

The bundles themselves live in ``scripts/samples/``, one module each
(``SAMPLES`` in ``scripts/samples/__init__.py`` lists them); this script only
writes them and ``mpkit/samples_data/README.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the only copy of the samples: they ship inside the package (mpkit.samples finds them there)
DEFAULT_OUT = ROOT / "mpkit" / "samples_data"


def main(argv: Sequence[str]) -> int:
    """Write every sample and the README into ``argv[0]`` (default: the package's samples folder)."""
    if len(argv) > 1 or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    # this checkout's mpkit (its collection catalog) and the sample modules next to this script
    sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
    from samples import SAMPLES
    from samples.readme import readme

    out = Path(argv[0]) if argv else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        bundle = sample.build()
        bundle.save(out)
        size = sum(len(v) for v in bundle.files.values())
        print(f"wrote {out / bundle.name} ({len(bundle.files)} files, {size} bytes)")
    (out / "README.md").write_text(readme(SAMPLES), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``mpkit/samples_data/README.md``: what the bundles are, a table of them, then one section per bundle."""

from __future__ import annotations

from collections.abc import Sequence

from .sample import Sample

INTRO = """\
# Sample bundles

Four diagnostic bundles laid out exactly as `mpkit probe <instance>` writes
them (`manifest.json`, `attempts.jsonl`, `client.txt`, the raw artifacts, and
`snapshots/<UTC time>/` taken every 2-5 s across the start attempt). They are
synthetic but consistent: every time in every file comes from one timeline per
bundle (daemon-log local times, the manifest's zone, UTC snapshot folders and
attempt times, QMP epochs, lease expiries, tcpdump times).

**Generated, do not edit by hand**: `python scripts/make_samples.py [OUTDIR]`
rewrites them from `scripts/samples/` (one module per bundle; deterministic;
`tests/test_samples_raw.py` checks that this folder is up to date). They ship
inside the package (`mpkit samples` lists them, `mpkit.sample(name)` gives a
path). MACs, IPs, host and user names are made up.

| bundle | host | Multipass | intended root cause | failed stage |
|---|---|---|---|---|
"""


def readme(samples: Sequence[Sample]) -> str:
    """The README text for these samples, in this order."""
    table = "".join(s.row() for s in samples)
    return INTRO + table + "".join("\n" + s.readme for s in samples)

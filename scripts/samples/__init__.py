"""mpkit's sample bundles, one module per bundle; :data:`SAMPLES` is the registry.

Each sample module holds its host and instance, the story of its start attempt
(what the daemon logged, what DHCP did, what the probe saw) and its section of
the samples README, and ends with a :class:`~samples.sample.Sample`. The
shared pieces:

* :mod:`.clock` — one microsecond timeline per bundle and each tool's spelling of it
* :mod:`.bundle` — the writer: files, manifest entries from the collection catalog, attempts
* :mod:`.common`, :mod:`.macos`, :mod:`.linux` — what each tool prints
* :mod:`.macos_probe` — the probe run all macOS samples share
* :mod:`.readme` — ``mpkit/samples_data/README.md``

``python scripts/make_samples.py [OUTDIR]`` writes them all.
"""

from __future__ import annotations

from . import firewall_blocks_bootpd, healthy_start, linux_dhcp_firewalled, sequoia_ip_discovery
from .sample import Sample

#: every sample, in the order of the README's table
SAMPLES: tuple[Sample, ...] = (
    sequoia_ip_discovery.SAMPLE,
    firewall_blocks_bootpd.SAMPLE,
    healthy_start.SAMPLE,
    linux_dhcp_firewalled.SAMPLE,
)

__all__ = ["SAMPLES", "Sample"]

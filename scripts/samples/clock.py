"""One clock per sample: integer microseconds since the epoch, spelled the way each tool spells time.

A sample keeps every instant as an ``int`` of UTC microseconds and a fixed UTC
offset in minutes (``off``, constant over the sample's window). The spellings
below turn one instant into what the daemon log, the journal, the unified log,
tcpdump, ``ps`` and the manifest print, so all files of a bundle agree. The
schedules at the end draw their jitter from the sample's own
``random.Random``; nothing here reads the real clock.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: microseconds per second
S = 1_000_000


# --------------------------------------------------------------------------- instants


def us_of(local: str, off_min: int) -> int:
    """Microseconds since the epoch of a local wall-clock time ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    naive = datetime.fromisoformat(local)
    aware = naive.replace(tzinfo=timezone(timedelta(minutes=off_min)))
    return (aware - EPOCH) // timedelta(microseconds=1)


def utc(us: int) -> datetime:
    """The aware UTC datetime of an instant."""
    return EPOCH + timedelta(microseconds=us)


def loc(us: int, off_min: int) -> datetime:
    """The naive local wall-clock time of an instant at a UTC offset."""
    return (utc(us) + timedelta(minutes=off_min)).replace(tzinfo=None)


def epoch_s(us: int) -> int:
    """Whole seconds since the epoch (what ``journalctl --since @N`` takes)."""
    return us // S


# --------------------------------------------------------------------------- spellings


def iso_z(us: int) -> str:
    """Manifest / attempts time: UTC ISO-8601 with milliseconds and ``Z``."""
    return utc(us).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snap_dir(us: int) -> str:
    """A snapshot folder name: :func:`iso_z` with ``-`` for ``:`` (``2025-05-13T13-08-01.123Z``)."""
    return iso_z(us).replace(":", "-")


def off_str(off: int, colon: bool = True) -> str:
    """A UTC offset as ``+02:00`` (or ``+0200`` without ``colon``)."""
    sign = "+" if off >= 0 else "-"
    h, m = divmod(abs(off), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def log_ts(us: int, off: int) -> str:
    """Qt ISODateWithMs local time, no zone (multipassd.log)."""
    return loc(us, off).isoformat(timespec="milliseconds")


def journal_ts(us: int, off: int) -> str:
    """journalctl -o short-iso, systemd >= 255 spelling of the offset (Ubuntu 24.04)."""
    return loc(us, off).isoformat(timespec="seconds") + off_str(off)


def unified_ts(us: int, off: int) -> str:
    """``log show --style ndjson`` local time with microseconds and a ``+0200`` offset."""
    return loc(us, off).strftime("%Y-%m-%d %H:%M:%S.%f") + off_str(off, colon=False)


def tcpdump_ts(us: int, off: int) -> str:
    """tcpdump's local time of day with microseconds."""
    return loc(us, off).strftime("%H:%M:%S.%f")


def etime(seconds: float) -> str:
    """ps ELAPSED: [[dd-]hh:]mm:ss."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}-{h:02d}:{m:02d}:{s:02d}"
    if h:
        return f"{h:02d}:{m:02d}:{s:02d}"
    return f"{m:02d}:{s:02d}"


def minutes_back_to(since: int, now: int) -> int:
    """A ``log show --last <N>m`` window that reaches from ``now`` back past ``since``, with 2 min to spare."""
    return -(-(now - since) // (60 * S)) + 2


# --------------------------------------------------------------------------- schedules


def snapshot_times(rng: random.Random, first: int, last: int) -> list[int]:
    """Capture instants every ~2-5 s from ``first`` until past ``last``."""
    out, t = [], first
    while True:
        out.append(t)
        if t > last:
            return out
        t += int(rng.uniform(2.0, 5.0) * S)


def dhcp_retransmits(rng: random.Random, first: int, until: int) -> list[int]:
    """systemd-networkd DISCOVER retransmissions: 2, 4, 8 … 64 s (± 1 s), capped at 64 s."""
    out, t, k = [], first, 1
    while t < until:
        out.append(t)
        t += int((min(2**k, 64) + rng.uniform(-1.0, 1.0)) * S)
        k += 1
    return out

"""Load a bundle (directory, archive, single file or pasted text) into typed frames.

:func:`load_bundle` is the one entry point.  It identifies every file (by its
canonical name, else by content, else as a paste of several outputs), parses
each artifact with its registered parser, and assembles one frame per
``FRAME`` name, with the artifact's path (``file``) and snapshot time
(``snapshot_at``) added.  Times are put on one clock (see :meth:`Bundle.clock`).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa

from . import archive as _archive
from . import paste
from .errors import BundleError
from .i18n import Message
from .parsers import KINDS, SHARED_FILENAMES, module
from .schema import coverage_of, empty_frame
from .sniff import identify, scores

log = logging.getLogger(__name__)

#: files above this size are not sniffed for paste parts (logs are read in chunks)
BIG_FILE = 64 * 1024 * 1024
#: the manifest kind of ``attempts.jsonl`` (``attempts`` in bundles written before it was renamed)
PROBE_ATTEMPT_KINDS = frozenset({"probe_attempts", "attempts"})
_SNAP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d[-:]\d\d[-:]\d\d(?:\.\d+)?Z?)$")


@dataclass
class Artifact:
    """One recognised artifact (a file, or a part of a pasted file)."""

    path: str  # relative to the bundle root ("paste.md#L10-L24" for paste parts)
    kind: str
    recognised_by: str  # "name", "content", "paste"
    score: float
    bytes: int
    snapshot_at: pd.Timestamp | None = None
    manifest_entry: dict[str, Any] | None = None
    decode_errors: int = 0
    lines: tuple[int, int] | None = None  # for paste parts: first and last line in the file
    frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def coverage(self) -> dict[str, Any]:
        """What the parser read of this artifact: lines parsed, ignored, rejected, decode errors."""
        cov = coverage_of(self.frame) if self.frame is not None else {}
        cov["decode_errors"] = self.decode_errors
        return cov


@dataclass(frozen=True)
class Unrecognised:
    """A file no parser recognised: kept as free text, listed with the reason."""

    path: str
    bytes: int
    reason: str


@dataclass(frozen=True)
class HostFacts:
    """What the bundle says about the host: platform, OS, Multipass version, driver, clock."""

    platform: str | None = None
    os_version: str | None = None
    os_name: str | None = None
    arch: str | None = None
    multipass_version: str | None = None
    driver: str | None = None
    timezone: str | None = None
    utc_offset: str | None = None
    hostname: str | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _with_origin(frame: pd.DataFrame, arts: list[Artifact]) -> pd.DataFrame:
    """``frame`` (the artifacts' rows, one after the other) with ``file`` and ``snapshot_at`` added.

    Both are built from the artifacts' row counts, with no Python object per row: a long log
    gives millions of rows.
    """
    counts = [len(a.frame) for a in arts]  # type: ignore[arg-type]
    n = sum(counts)
    paths = [a.path.encode("utf-8") for a in arts]
    lengths = np.repeat([len(p) for p in paths], counts).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = b"".join(p * c for p, c in zip(paths, counts, strict=True))
    file = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    snaps = np.repeat(
        np.array(
            [a.snapshot_at.as_unit("ns").value if a.snapshot_at is not None else NAT for a in arts],
            dtype=np.int64,
        ),
        counts,
    )
    out = frame.copy(deep=False)
    out["file"] = pd.Series(pa.chunked_array([file]).to_pandas(), index=frame.index, dtype="str")
    out["snapshot_at"] = pd.Series(snaps.view("datetime64[ns]"), index=frame.index).dt.tz_localize("UTC")
    return out


#: NaT as nanoseconds since 1970
NAT = np.iinfo(np.int64).min


def _decode(raw: bytes) -> tuple[str, int]:
    text = raw.decode("utf-8", errors="replace")
    errors = text.count("\ufffd") - raw.count("\ufffd".encode())
    return text, max(errors, 0)


def _canonical_kind(relpath: str) -> str | None:
    name = relpath.rsplit("/", 1)[-1].lower()
    for kind in KINDS:
        for fn in module(kind).FILENAMES:
            fn = fn.lower()
            if (
                name == fn
                or (not fn.endswith(".txt") and name == fn + ".txt")
                or (fn.endswith(".txt") and name == fn[:-4])
            ):
                return kind
    return None


def _snapshot_time(relpath: str) -> pd.Timestamp | None:
    parts = relpath.split("/")
    if len(parts) >= 3 and parts[0].lower() == "snapshots":
        m = _SNAP.match(parts[1])
        if m:
            s = m.group(1)
            date, _, clock = s.partition("T")
            clock = clock.rstrip("Z").replace("-", ":")
            try:
                return pd.Timestamp(f"{date}T{clock}", tz="UTC")
            except ValueError:
                return None
    return None


class Bundle:
    """Everything read from one bundle: provenance, host facts and frames."""

    def __init__(self, source: str, *, manifest: dict[str, Any] | None = None) -> None:
        self.source = source
        self.manifest = manifest
        self.artifacts: list[Artifact] = []
        self.unrecognised: list[Unrecognised] = []
        self.notes: list[str] = []
        #: text no parser consumed (unrecognised files, the prose around pasted outputs), by path:
        #: (first line number, lines); scanned for the same signatures as the logs
        self.texts: dict[str, tuple[int, list[str]]] = {}
        self.manifest_errors: list[str] = []
        self._unpacked: _archive.Unpacked | None = None
        self._empty_frames: dict[str, pd.DataFrame] = {}
        #: while loading: the frame of each small text already parsed, by (kind, text); parsers are
        #: pure, and snapshot folders repeat the same lease file or ARP table many times
        self._parsed: dict[tuple[str, str], pd.DataFrame] = {}

    # -- provenance -----------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Bundle {self.source!r}: {len(self.artifacts)} artifacts, {len(self.unrecognised)} unrecognised>"

    def kinds(self) -> set[str]:
        """The artifact kinds present in the bundle."""
        return {a.kind for a in self.artifacts}

    def has(self, kind: str) -> bool:
        """Whether at least one artifact of ``kind`` was read."""
        return kind in self.kinds()

    def artifacts_of(self, kind: str) -> list[Artifact]:
        """The artifacts of ``kind``, in the order they were read."""
        return [a for a in self.artifacts if a.kind == kind]

    def failed_sources(self) -> list[dict[str, Any]]:
        """Manifest entries of sources that were tried and failed (no file, or an error)."""
        if not self.manifest:
            return []
        out = []
        for e in self.manifest.get("artifacts", []) or []:
            if (
                not isinstance(e, dict) or e.get("kind") in PROBE_ATTEMPT_KINDS
            ):  # a failing start is evidence, not a failed source
                continue
            if e.get("error") or e.get("timed_out"):
                out.append(e)
        return out

    def truncated_sources(self) -> list[dict[str, Any]]:
        """Manifest entries of sources whose output was cut to its size cap."""
        if not self.manifest:
            return []
        return [
            e for e in self.manifest.get("artifacts", []) or [] if isinstance(e, dict) and e.get("truncated")
        ]

    @property
    def coverage(self) -> pd.DataFrame:
        """One row per artifact: kind, how it was recognised, lines read / parsed / rejected."""
        rows = []
        for a in self.artifacts:
            c = a.coverage
            rows.append(
                {
                    "file": a.path,
                    "kind": a.kind,
                    "recognised_by": a.recognised_by,
                    "snapshot_at": a.snapshot_at,
                    "bytes": a.bytes,
                    "rows": 0 if a.frame is None else len(a.frame),
                    "lines": c.get("lines", 0),
                    "parsed": c.get("parsed", 0),
                    "ignored": c.get("ignored", 0),
                    "rejected": c.get("rejected", 0),
                    "decode_errors": a.decode_errors,
                    "reject_sample": "; ".join(f"L{n}: {t[:80]}" for n, t in c.get("rejects", [])[:3]),
                    "truncated": bool(a.manifest_entry and a.manifest_entry.get("truncated")),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "file",
                "kind",
                "recognised_by",
                "snapshot_at",
                "bytes",
                "rows",
                "lines",
                "parsed",
                "ignored",
                "rejected",
                "decode_errors",
                "reject_sample",
                "truncated",
            ],
        )

    # -- host facts and the clock -------------------------------------------------------
    def _fact(self, key: str, kinds: tuple[str, ...]) -> tuple[str | None, str | None]:
        for kind in kinds:
            for a in self.artifacts_of(kind):
                f = a.frame
                if f is None or f.empty:
                    continue
                hit = f[f["key"] == key]
                if not hit.empty:
                    return str(hit["value"].iloc[-1]), a.path
        return None, None

    @cached_property
    def host(self) -> HostFacts:
        """Host facts from the manifest, else from the artifacts (sw_vers, os-release, version, …)."""
        m = (self.manifest or {}).get("host") or {}
        src: dict[str, str] = {}
        platform = m.get("platform")
        if platform:
            src["platform"] = "manifest.json"
        os_version, os_name = m.get("os_version"), None
        if os_version:
            src["os_version"] = "manifest.json"
        v, p = self._fact("ProductVersion", ("sw_vers",))
        if v:
            os_version, os_name, platform = v, "macOS", platform or "macos"
            src.setdefault("os_version", p or "")
            src.setdefault("platform", p or "")
        v, p = self._fact("VERSION_ID", ("os_release",))
        if v and not os_name:
            pretty, _ = self._fact("PRETTY_NAME", ("os_release",))
            name, _ = self._fact("NAME", ("os_release",))
            os_version, os_name, platform = os_version or v, pretty or name, platform or "linux"
            src.setdefault("os_version", p or "")
            src.setdefault("platform", p or "")
        v, p = self._fact("version", ("winver",))
        if v and not os_name:
            os_version, os_name, platform = os_version or v, "Windows", platform or "windows"
            src.setdefault("platform", p or "")
        mp_version, p = self._fact("multipassd", ("multipass_version",))
        if not mp_version:
            mp_version, p = self._fact("multipass", ("multipass_version",))
        if mp_version:
            src["multipass_version"] = p or ""
        else:
            dl = self.frame("daemon_log")
            vers = dl["daemon_version"].dropna() if not dl.empty else pd.Series([], dtype="str")
            if len(vers):
                mp_version = str(vers.iloc[-1])
                src["multipass_version"] = "daemon log (Starting Multipass)"
        if not platform:
            platform = self._guess_platform(mp_version)
            if platform:
                src["platform"] = "inferred from the artifacts present"
        driver, p = self._fact("local.driver", ("local_driver",))
        if driver:
            src["driver"] = p or ""
        return HostFacts(
            platform=platform,
            os_version=os_version,
            os_name=os_name,
            arch=m.get("arch"),
            multipass_version=mp_version,
            driver=driver,
            timezone=m.get("timezone"),
            utc_offset=m.get("utc_offset"),
            hostname=m.get("hostname"),
            sources=src,
        )

    def _guess_platform(self, version: str | None) -> str | None:
        if version:
            if "+mac" in version or ".mac" in version:
                return "macos"
            if "+win" in version or ".win" in version:
                return "windows"
        k = self.kinds()
        if k & {
            "sw_vers",
            "dhcpd_leases",
            "arp",
            "ifconfig",
            "firewall",
            "unified_log",
            "bootpd_plist",
            "hv_support",
        }:
            return "macos"
        if k & {
            "journal_text",
            "journal_json",
            "dnsmasq_leases",
            "ip_neigh",
            "ip_addr",
            "os_release",
            "host_firewall",
        }:
            return "linux"
        if k & {"windows_events", "winver", "hyperv"}:
            return "windows"
        rt = self.frame("routes")
        if not rt.empty:
            ifs = rt["interface"].astype("str")
            if (
                ifs.str.match(r"^(utun\d|bridge1\d\d|en\d)$").any()
                or rt["destination"].astype("str").str.contains("link#").any()
            ):
                return "macos"
            if ifs.str.match(r"^(mpqemubr|eth\d|wlp|enp|ens|virbr)").any():
                return "linux"
        dl = self.frame("daemon_log")
        if not dl.empty:
            msgs = dl["message"].astype("str")
            if msgs.str.contains("vmnet|hvf|/var/db/dhcpd_leases|bridge100", regex=True).any():
                return "macos"
            if msgs.str.contains("mpqemubr0|/snap/multipass|enable-kvm", regex=True).any():
                return "linux"
        return self._platform_from_text()

    def _platform_from_text(self) -> str | None:
        """The platform that what the person wrote or pasted names (client output, notes, prose)."""
        parts = [self.frame("client")["message"].astype("str"), self.free_text["message"].astype("str")]
        dl = self.frame("daemon_log")
        if not dl.empty:
            parts.append(dl["message"].astype("str").head(2000))
        text = "\n".join("\n".join(p.tolist()) for p in parts)
        votes = {plat: len(rx.findall(text)) for plat, rx in _PLATFORM_WORDS.items()}
        best = max(votes, key=lambda k: votes[k])
        if votes[best] and sorted(votes.values())[-2] < votes[best]:
            return best
        return None

    @cached_property
    def _zone(self) -> tuple[tzinfo | None, str]:
        m = (self.manifest or {}).get("host") or {}
        tzname = m.get("timezone")
        if tzname:
            try:
                return ZoneInfo(str(tzname)), Message("host time zone {zone} (manifest.json)", zone=tzname)
            except (ZoneInfoNotFoundError, ValueError):
                self.notes.append(
                    Message("manifest time zone {zone!r} is unknown here; trying utc_offset", zone=tzname)
                )
        off = m.get("utc_offset")
        if isinstance(off, str) and re.match(r"^[+-]\d\d:?\d\d$", off):
            mins = (1 if off[0] == "+" else -1) * (int(off[1:3]) * 60 + int(off[-2:]))
            return timezone(timedelta(minutes=mins)), Message(
                "UTC offset {offset} (manifest.json)", offset=off
            )
        raw = self._raw_frames.get("daemon_log")
        if raw is not None and not raw.empty:
            offs = raw["utc_offset"].dropna()
            offs = offs[raw.loc[offs.index, "program"].astype("str") != "journal-json"] if len(offs) else offs
            if len(offs):
                mins = int(Counter(offs.tolist()).most_common(1)[0][0])
                if not (raw["utc_offset"].isna() & raw["time"].notna()).any() or mins:
                    return timezone(timedelta(minutes=mins)), Message(
                        "UTC offset {minutes:+d} min printed in the journal", minutes=mins
                    )
            q = raw.dropna(subset=["qmp_time", "time"])
            if len(q):
                diff = (q["time"] - q["qmp_time"].dt.tz_convert(None)).dt.total_seconds() / 60
                rounded = (diff / 15).round() * 15
                if (abs(diff - rounded) < 2).all() and rounded.nunique() == 1:
                    mins = int(rounded.iloc[0])
                    return timezone(timedelta(minutes=mins)), Message(
                        "UTC offset {minutes:+d} min inferred from QMP event timestamps", minutes=mins
                    )
        return (
            None,
            Message(
                "no time zone known: daemon-log times are host-local wall clock, epoch-based times are shown in UTC"
            ),
        )

    @property
    def clock(self) -> str:
        """``"utc"`` when every time could be put in UTC, else ``"local-naive"``."""
        return "utc" if self._zone[0] is not None else "local-naive"

    @property
    def clock_note(self) -> str:
        """How the bundle's times were put on one clock (which zone or offset, and from where)."""
        return self._zone[1]

    # -- frames ----------------------------------------------------------------------
    @cached_property
    def _raw_frames(self) -> dict[str, pd.DataFrame]:
        groups: dict[str, list[Artifact]] = {}
        for a in self.artifacts:
            if a.frame is not None:
                groups.setdefault(module(a.kind).FRAME, []).append(a)
        out = {}
        for name, arts in groups.items():
            non_empty = [a for a in arts if len(a.frame)]  # type: ignore[arg-type]
            if not non_empty:
                first = arts[0]
                out[name] = _with_origin(first.frame.iloc[0:0], [first])  # type: ignore[union-attr]
                continue
            frames: list[pd.DataFrame] = [a.frame for a in non_empty if a.frame is not None]
            merged = (
                pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
            )
            for col in arts[0].frame.columns:  # type: ignore[union-attr]
                # concat of categoricals with other categories gives object
                if isinstance(arts[0].frame[col].dtype, pd.CategoricalDtype) and not isinstance(  # type: ignore[index]
                    merged[col].dtype, pd.CategoricalDtype
                ):
                    merged[col] = merged[col].astype("category")
            out[name] = _with_origin(merged, non_empty)
        return out

    def _to_clock(self, frame: pd.DataFrame) -> pd.DataFrame:
        zone = self._zone[0]
        frame = frame.copy(deep=False)  # columns are replaced, never written into
        for col in frame.columns:
            dt = frame[col].dtype
            if col == "snapshot_at":
                continue
            if isinstance(dt, pd.DatetimeTZDtype):
                if zone is None:
                    frame[col] = frame[col].dt.tz_convert(None)
            elif str(dt).startswith("datetime64"):
                if zone is None:
                    continue
                s = frame[col]
                if "utc_offset" in frame.columns and col == "time":
                    off = frame["utc_offset"]
                    fixed = off.notna()
                    res = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
                    if fixed.any():
                        res[fixed] = (
                            s[fixed] - pd.to_timedelta(off[fixed].astype("int64"), unit="min")
                        ).dt.tz_localize("UTC")
                    if (~fixed).any():
                        res[~fixed] = (
                            s[~fixed]
                            .dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
                            .dt.tz_convert("UTC")
                        )
                    frame[col] = res
                else:
                    frame[col] = s.dt.tz_localize(
                        zone, ambiguous="NaT", nonexistent="shift_forward"
                    ).dt.tz_convert("UTC")
        if zone is None and "snapshot_at" in frame.columns:
            frame["snapshot_at"] = frame["snapshot_at"].dt.tz_convert(None)
        return frame

    @cached_property
    def frames(self) -> dict[str, pd.DataFrame]:
        """One frame per frame name, on the bundle's clock."""
        return {name: self._to_clock(f) for name, f in self._raw_frames.items()}

    def frame(self, name: str) -> pd.DataFrame:
        """The frame ``name``, or an empty frame with its schema when nothing fed it."""
        got = self.frames.get(name)
        if got is not None:
            return got
        empty = self._empty_frames
        if name in empty:  # made once: the checks ask for absent frames many times
            return empty[name]
        for kind in KINDS:
            if module(kind).FRAME == name:
                f = empty_frame(module(kind).SCHEMA)
                f["file"] = pd.Series([], dtype="str")
                f["snapshot_at"] = pd.Series(
                    [], dtype="datetime64[ns, UTC]" if self.clock == "utc" else "datetime64[ns]"
                )
                empty[name] = f
                return f
        raise KeyError(f"no frame named {name!r}")

    @cached_property
    def free_text(self) -> pd.DataFrame:
        """Lines no parser consumed (``file``, ``line``, ``message``): notes, unrecognised files, paste prose."""
        files: list[str] = []
        lines: list[int] = []
        msgs: list[str] = []
        for path, (first, body) in self.texts.items():
            for i, ln in enumerate(body):
                if ln.strip():
                    files.append(path)
                    lines.append(first + i)
                    msgs.append(ln.rstrip())
        return pd.DataFrame(
            {
                "file": pd.Series(files, dtype="str"),
                "line": pd.Series(lines, dtype="int64"),
                "message": pd.Series(msgs, dtype="str"),
            }
        )

    def close(self) -> None:
        """Remove the temporary copy of an unpacked archive, if any."""
        if self._unpacked is not None:
            self._unpacked.cleanup()
            self._unpacked = None

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- loading --------------------------------------------------------------------------------


#: texts up to this many characters are parsed once per bundle however often they repeat
_MEMO_TEXT = 1 << 20


def _add_file(bundle: Bundle, root: Path, fpath: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Identify one file (canonical name, else paste parts, else content) and parse what it holds."""
    rel = fpath.relative_to(root).as_posix() if root != fpath else fpath.name
    if rel.lower() == "manifest.json":
        return
    size = fpath.stat().st_size
    folder = rel.split("/", 1)[0].lower() if "/" in rel else ""
    if folder in SESSION_RECORDS:  # what a tool did on the host, not what the host showed
        bundle.unrecognised.append(Unrecognised(rel, size, SESSION_RECORDS[folder]))
        return
    snap, entry = _snapshot_time(rel), entries.get(rel)

    def add(
        kind: str,
        how: str,
        score: float,
        text: str,
        *,
        path: str = rel,
        nbytes: int = size,
        decode_errors: int = 0,
        lines: tuple[int, int] | None = None,
    ) -> None:
        key = (kind, text)
        frame = bundle._parsed.get(key) if len(text) <= _MEMO_TEXT else None
        if frame is None:
            frame = module(kind).parse(text)
            if len(text) <= _MEMO_TEXT:
                bundle._parsed[key] = frame
        bundle.artifacts.append(
            Artifact(path, kind, how, score, nbytes, snap, entry, decode_errors, lines, frame)
        )

    kind = _canonical_kind(rel)
    if kind == "daemon_log" and size > BIG_FILE:  # read in chunks, never whole
        from .parsers.daemon_log import parse_path

        bundle.artifacts.append(
            Artifact(rel, kind, "name", 1.0, size, snap, entry, 0, None, parse_path(fpath))
        )
        return
    text, decode_errors = _decode(fpath.read_bytes())
    if kind is not None:
        # a canonical name wins unless the content clearly is something else (sw_vers.txt holding os-release)
        if text.strip() and module(kind).sniff(text) < 0.3:
            other, score = identify(text)
            if other is not None and (
                score >= 0.9 or (score >= 0.8 and module(other).FRAME == module(kind).FRAME)
            ):
                if other not in SHARED_FILENAMES.get(rel.rsplit("/", 1)[-1].lower(), ()):
                    bundle.notes.append(
                        Message(
                            "{file}: named like {kind} but its content is {other}; read as {other}",
                            file=rel,
                            kind=kind,
                            other=other,
                        )
                    )
                kind = other
        add(kind, "name", 1.0, text, decode_errors=decode_errors)  # an empty canonical file is evidence too
        if kind in WHOLE_TEXT_KINDS:
            _keep_text(bundle, rel, text, [])
        return
    if not text.strip():
        bundle.unrecognised.append(Unrecognised(rel, size, "empty file"))
        return
    if size <= BIG_FILE:
        parts = paste.split(text)
        covered = sum(p.last_line - p.first_line + 1 for p in parts)
        nonblank = sum(1 for ln in text.splitlines() if ln.strip())
        if len(parts) > 1 or (len(parts) == 1 and covered < 0.8 * nonblank):
            _keep_text(bundle, rel, text, [(p.first_line, p.last_line) for p in parts])
            for p in parts:
                add(
                    p.kind,
                    "paste",
                    p.score,
                    p.text,
                    path=f"{rel}#L{p.first_line}-L{p.last_line}",
                    nbytes=len(p.text.encode()),
                    lines=(p.first_line, p.last_line),
                )
            return
    other, score = identify(text)
    if other is not None:
        add(other, "content", score, text, decode_errors=decode_errors)
        return
    _keep_text(bundle, rel, text, [])
    closest = max(scores(text).items(), key=lambda kv: kv[1], default=("", 0.0))
    hint = f" (closest: {closest[0]} {closest[1]:.2f})" if closest[1] > 0 else ""
    bundle.unrecognised.append(Unrecognised(rel, size, "not recognised" + hint))


#: words that only one platform's reports use
_PLATFORM_WORDS = {
    "macos": re.compile(
        r"\bmacOS\b|\bMac ?OS\b|/Library/|/Users/|\bsw_vers\b|bridge100|\bhyperkit\b|\bhvf\b|\bvmnet|"
        r"\bbrew\b|\bSequoia\b|\bSonoma\b|\bVentura\b|\bMonterey\b|\bBig Sur\b|\bCatalina\b|Apple M\d|\bM[1-4] (?:Pro|Max|Mac)"
    ),
    "linux": re.compile(
        r"\bsnap\b|/snap/|\bsnapd\b|\bjournalctl\b|\bsystemctl\b|\bmpqemubr0\b|/dev/kvm|\bapt(?:-get)?\b|\bUbuntu \d\d\.\d\d|"
        r"\bFedora\b|\bDebian\b|\bArch Linux\b|\bmultipassd\[\d+\]"
    ),
    "windows": re.compile(
        r"\bWindows\b|\bHyper-V\b|PowerShell|\bC:\\|\.exe\b|mshome\.net|\bHNS\b|\bWSL\b|\bVBoxManage"
    ),
}

#: kinds whose every line is also kept as text: what a command printed is free-form, and a line
#: its parser does not classify can still carry a signature
WHOLE_TEXT_KINDS = frozenset({"client"})

#: files that hold the answer to a case, never evidence
NOT_EVIDENCE = frozenset({"expected.json"})

#: top-level folders holding the record of a session on the host (listed, never read as evidence)
SESSION_RECORDS = {"doctor": "mpkit doctor session record (transcript and report), not evidence"}


def _keep_text(bundle: Bundle, rel: str, text: str, covered: list[tuple[int, int]]) -> None:
    """Keep the lines of ``text`` outside the ``covered`` (first, last) line ranges for scanning."""
    if Path(rel).name in NOT_EVIDENCE:
        return
    body = text.splitlines()
    for lo, hi in covered:
        for i in range(max(lo, 1) - 1, min(hi, len(body))):
            body[i] = ""
    if any(ln.strip() for ln in body):
        bundle.texts[rel] = (1, body)


def _read_manifest(bundle: Bundle, root: Path) -> dict[str, dict[str, Any]]:
    mpath = root / "manifest.json"
    if not mpath.is_file():
        return {}
    try:
        data = json.loads(mpath.read_text(encoding="utf-8", errors="replace"))
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
    except ValueError as exc:
        bundle.manifest_errors.append(f"manifest.json unreadable: {exc}")
        bundle.notes.append(
            Message("manifest.json could not be read; files were identified by name and content")
        )
        return {}
    bundle.manifest = data
    entries = {}
    for e in data.get("artifacts", []) or []:
        if isinstance(e, dict) and e.get("file"):
            entries[str(e["file"]).replace("\\", "/")] = e
    return entries


def load_bundle(path: str | Path, *, limits: _archive.Limits | None = None) -> Bundle:
    """Read a bundle directory, archive, single artifact file or paste into a :class:`Bundle`."""
    p = Path(path)
    if not p.exists():
        raise BundleError(
            Message(
                "{path}: no such file or directory; give a bundle directory, archive, or artifact file",
                path=p,
            )
        )
    unpacked = None
    if p.is_file() and _archive.is_archive(p):
        unpacked = _archive.unpack(p, limits)
        root = unpacked.root
        # an archive holding one top-level folder: that folder is the bundle
        children = [c for c in root.iterdir() if not c.name.startswith(".")]
        if len(children) == 1 and children[0].is_dir():
            root = children[0]
    else:
        root = p
    bundle = Bundle(str(p))
    bundle._unpacked = unpacked
    if unpacked is not None:
        for name, reason in unpacked.skipped:
            bundle.unrecognised.append(Unrecognised(name, 0, reason))
    try:
        if root.is_dir():
            entries = _read_manifest(bundle, root)
            for f in sorted(root.rglob("*")):
                if f.is_symlink():
                    target = f.resolve()
                    if root.resolve() not in target.parents:
                        bundle.unrecognised.append(
                            Unrecognised(
                                f.relative_to(root).as_posix(), 0, "symlink leaving the bundle (not followed)"
                            )
                        )
                        continue
                if f.is_file():
                    _add_file(bundle, root, f, entries)
                elif not f.is_dir():
                    bundle.unrecognised.append(
                        Unrecognised(
                            f.relative_to(root).as_posix(),
                            0,
                            "not a regular file (FIFO, socket or device): not read",
                        )
                    )
        elif root.is_file():
            _add_file(bundle, root, root, {})
        else:
            raise BundleError(Message("{path}: neither a regular file nor a directory", path=p))
    except BundleError:
        bundle.close()
        raise
    finally:
        bundle._parsed.clear()  # the texts are read: their frames live in the artifacts
    if not bundle.artifacts:
        log.warning("%s: no artifact recognised", p)
        bundle.notes.append(Message("no artifact was recognised in this input"))
    return bundle


def load_text(text: str, name: str = "paste.txt") -> Bundle:
    """A bundle made from pasted text (no file needed)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mpkit-paste-") as tmp:
        f = Path(tmp) / name
        f.write_text(text, encoding="utf-8")
        b = load_bundle(f)
        b.source = f"<{name}>"
        _ = b.frames  # parse now: the file goes away
        return b

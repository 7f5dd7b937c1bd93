"""Start attempts: each try to start an instance, segmented from the daemon log.

One row per attempt per instance, from the daemon log (macOS file, Linux
journal, Windows events), merged with ``attempts.jsonl`` when ``mpkit probe``
timed the attempts, and with what the client printed.  See :data:`SCHEMA`.

Segmentation: an attempt opens at ``process program`` / ``process state
changed to Starting`` (or at the first line seen for the instance in a partial
paste, or at a refusal) and closes at SSH success, at QEMU's exit, at a daemon
restart, or when the next attempt opens.  The daemon never logs the final
timeout: an attempt that waited for SSH without success is a ``timeout`` when
the client says so, or when the log goes on past the SSH budget (300 s).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..regexes import for_arrow
from ..schema import Column, conform

if TYPE_CHECKING:
    from ..bundle import Bundle

SSH_BUDGET_S = 300.0

SCHEMA = {
    "instance": Column("str", "instance name (NA when the log does not say)"),
    "attempt": Column("int", "1-based attempt number for the instance, in time order"),
    "source": Column("str", "daemon_log, probe, or client (no log: only what the client printed)"),
    "started_at": Column("object", "when the attempt began (bundle clock)"),
    "qemu_at": Column("object", "QEMU spawned (`process program` / `process state changed to Starting`)"),
    "running_at": Column("object", "QEMU running (`process state changed to Running` / `process started`)"),
    "nic_up_at": Column("object", "guest NIC up (QMP NIC_RX_FILTER_CHANGED)"),
    "ssh_wait_at": Column("object", "`Waiting for SSH to be up`: IP discovery starts"),
    "dhcp_at": Column("object", "first DHCP offer/ack for the instance's MAC (dnsmasq, bootpd, tcpdump)"),
    "ip_found_at": Column(
        "object", "the daemon knew the IP (`Found ip match`, or the last ARP lookup before SSH success)"
    ),
    "ssh_up_at": Column("object", "`Caching initial SSH session`: SSH up"),
    "ended_at": Column("object", "last event of the attempt"),
    "outcome": Column("str", "ok, timeout, qemu-exited, refused, in-progress, unknown"),
    "stage_reached": Column(
        "str", "furthest stage seen: daemon, qemu, boot, dhcp, ip-discovery, ssh, cloud-init"
    ),
    "duration_s": Column("float", "ended_at - started_at, seconds"),
    "boot_s": Column("float", "running → NIC up, seconds"),
    "ip_wait_s": Column("float", "SSH wait start → SSH up (or → end), seconds"),
    "daemon_version": Column("str", "Multipass version of the daemon that ran the attempt"),
    "daemon_restart": Column(
        "bool", "a daemon (re)start preceded the attempt (auto-start, `needs starting`)"
    ),
    "mac": Column("str", "the instance's MAC from the QEMU arguments"),
    "loadvm": Column("str", "`-loadvm` snapshot (resuming from suspend)"),
    "arp_lookups": Column("int", "`arp -an` lookups during the attempt (1.14.1–1.16.x)"),
    "ip_failures": Column("int", "`Could not determine IP address…` / `IP not available` lines (trace)"),
    "ssh_failures": Column("int", "`ssh connection failed` / `ssh failed to authenticate` lines (trace)"),
    "qemu_errors": Column("int", "QEMU stderr / error lines during the attempt"),
    "exit_code": Column("int", "client exit code (probe)"),
    "client_error": Column("str", "what the client printed for this instance"),
    "file": Column("str", "artifact the attempt was read from"),
    "first_line": Column("int", "first line of the attempt in that file"),
    "last_line": Column("int", "last line of the attempt in that file"),
}

_STAGES = ["daemon", "qemu", "boot", "dhcp", "ip-discovery", "ssh", "cloud-init"]

R_PROGRAM = re.compile(r"^process program '")
R_STARTING = re.compile(r"^process state changed to Starting")
R_RUNNING = re.compile(r"^(process state changed to Running|process started)")
R_SSH_WAIT = re.compile(r"^Waiting for SSH to be up")
R_SSH_UP = re.compile(r"^Caching initial SSH session")
R_EXIT = re.compile(
    r"process state changed to NotRunning|process finished with exit code|Qemu quit unexpectedly|"
    r"process error occurred|Qemu failed to start|failed getting vmstate|error: program: qemu"
)
R_STOP = re.compile(r"^process (state changed to NotRunning|finished with exit code 0)")
R_IP_FAIL = re.compile(r"Could not determine IP address|^IP not available|failed to determine IP address")
R_SSH_FAIL = re.compile(r"ssh connection failed|ssh failed to authenticate")
R_FOUND_IP = re.compile(r"Found ip match")
R_CLOUD = re.compile(r"Executing '\[ -e /var/lib/cloud/instance/boot-finished \]'")
R_REFUSED = re.compile(
    r"Instance '(?P<name>[^']+)' is already running, but in an unknown state|Cannot start the instance '(?P<name2>[^']+)' while suspending"
)
R_NEEDS_START = re.compile(r"^(?P<name>\S+) needs (?:starting|syncing)")
R_DAEMON_START = re.compile(r"^Starting Multipass ")
#: Multipass logging categories that are components, not instances
COMPONENTS = {
    "daemon",
    "rpc",
    "arp",
    "ssh session",
    "blueprint provider",
    "url downloader",
    "update",
    "image vault",
    "VMImageHost",
    "client cert store",
    "Qt",
    "utils",
    "qemu factory",
    "osx platform",
    "sshfs mount",
    "firewall",
    "ping",
    "backend-utils",
    "general",
    "qemu platform",
    "dnsmasq",
    "hyperkit",
    "lxd",
    "hyperv",
    "virtualbox",
    "platform",
    "settings",
    "sshfs",
    "mount handler",
    "network",
    "launchd",
    "cert",
    "async",
    "snapshot",
    "base vm",
}
COMPONENT_RE = re.compile(r"^(qemu-|iptables|ip6tables|nft|dnsmasq|VBox|powershell|ssh|multipass)", re.I)
R_LIFECYCLE = re.compile(
    r"^(process (program|arguments|state changed|started|finished|error)|Waiting for SSH|Caching initial SSH|QMP: \{\"timestamp|"
    r"Could not determine IP|IP not available|ssh connection failed|ssh failed|Qemu |qemu-system-|Resetting the network)"
)
#: progress markers of an attempt: (row flag, time column set once, stage reached, counter incremented)
MARKERS: tuple[tuple[str, str | None, str, str | None], ...] = (
    ("running", "running_at", "boot", None),
    ("nic_up", "nic_up_at", "dhcp", None),
    ("ssh_wait", "ssh_wait_at", "boot", None),
    ("ip_fail", None, "dhcp", "ip_failures"),
    ("found_ip", "ip_found_at", "ssh", None),
    ("ssh_fail", None, "ssh", "ssh_failures"),
    ("ssh_up", "ssh_up_at", "cloud-init", None),
    ("cloud", None, "cloud-init", None),
)
QEMU_CATS = re.compile(r"^qemu-system-|^qemu-img$|^hyperkit$")


def known_instances(bundle: Bundle) -> set[str]:
    names: set[str] = set()
    for fname in ("instances", "instance_db", "probe_attempts", "client"):
        f = bundle.frame(fname)
        col = "name" if "name" in f.columns else "instance"
        if col in f.columns:
            names.update(str(v) for v in f[col].dropna().unique())
    dl = bundle.frame("daemon_log")
    if not dl.empty:
        cats = [str(c) for c in dl["category"].dropna().unique()]
        names.update(c for c in cats if c not in COMPONENTS and not COMPONENT_RE.match(c))
    return {n for n in names if n and n not in COMPONENTS}


def log_instance(dl: pd.DataFrame, known: set[str]) -> pd.Series:
    """The instance each log row is about (category, or inferred for journald lines)."""
    cat = dl["category"]
    inst = cat.astype("object").where(cat.isin(known))
    programs = [p for p in dl["program"].dropna().unique() if "multipassd" in str(p)]
    missing = inst.isna() & cat.isna() & dl["program"].isin(programs)
    if missing.any() and len(known) == 1:  # journald drops the category: one instance → it
        inst[missing] = next(iter(known))
    return inst


def _reach(att: dict[str, Any], stage: str) -> None:
    if _STAGES.index(stage) > _STAGES.index(att.get("stage_reached") or "daemon"):
        att["stage_reached"] = stage


#: the per-row flags the segmentation reads, each computed once for the whole log (vectorised)
FLAGS: dict[str, re.Pattern[str]] = {
    "program": R_PROGRAM,
    "starting": R_STARTING,
    "running": R_RUNNING,
    "ssh_wait": R_SSH_WAIT,
    "ssh_up": R_SSH_UP,
    "exit": R_EXIT,
    "ip_fail": R_IP_FAIL,
    "ssh_fail": R_SSH_FAIL,
    "found_ip": R_FOUND_IP,
    "cloud": R_CLOUD,
    "refused": R_REFUSED,
    "needs_start": R_NEEDS_START,
    "daemon_start": R_DAEMON_START,
    "lifecycle": R_LIFECYCLE,
    "stop": R_STOP,
}


_ANY_FLAG = "|".join(for_arrow(rx.pattern) for rx in FLAGS.values())
#: flags whose rows are only counted (many of them in a long wait): done by binary search, not in the loop
COUNTED = {"ip_fail": ("ip_failures", "dhcp"), "ssh_fail": ("ssh_failures", "ssh")}
#: flags (besides the counted ones and `lifecycle`) that make a row one the segmentation walks
_WALKED = [k for k in FLAGS if k not in COUNTED and k != "lifecycle"] + ["nic_up", "problem"]
#: the attempt fields that hold a time
_TIME_KEYS = (
    "started_at",
    "ended_at",
    "qemu_at",
    "running_at",
    "nic_up_at",
    "ssh_wait_at",
    "ip_found_at",
    "ssh_up_at",
)


class _Pos(int):
    """A row position standing for that row's time until the walk is over (a Timestamp is costly)."""


def _arrow_strings(s: pd.Series) -> pa.ChunkedArray:
    """A ``str`` Series as Arrow strings, without a copy when it is Arrow-backed already."""
    arr = getattr(s.array, "_pa_array", None)
    if arr is None:
        arr = pa.chunked_array([pa.array(s.astype("str").to_numpy(na_value=None), pa.large_string())])
    return arr


def _take(arr: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """``arr[rows]`` (rows sorted), taken chunk by chunk: Arrow's own ``take`` on a chunked array
    first joins every chunk into one."""
    if not len(rows):
        return pa.array([], arr.type)
    bounds = np.cumsum([0] + [len(c) for c in arr.chunks])
    cuts = np.searchsorted(rows, bounds)
    parts = [
        arr.chunk(k).take(pa.array(rows[cuts[k] : cuts[k + 1]] - bounds[k]))
        for k in range(arr.num_chunks)
        if cuts[k + 1] > cuts[k]
    ]
    return pa.concat_arrays(parts) if len(parts) > 1 else parts[0]


def _flags(dl: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows the segmentation must look at (any flag, a warning or error, a QMP event, ``-loadvm``)
    and, on those rows, one boolean array per flag.

    One regular-expression pass over the log picks the rows; the flags are then decided once per
    distinct message among them (a long wait repeats the same few lines thousands of times).
    """
    msg = _arrow_strings(dl["message"])
    problem = dl["level"].isin(["warning", "error"]).to_numpy(dtype=bool) | pc.fill_null(
        pc.starts_with(msg, "qemu-system-"), False
    ).to_numpy(zero_copy_only=False)
    cand = (
        pc.fill_null(pc.match_substring_regex(msg, _ANY_FLAG), False).to_numpy(zero_copy_only=False)
        | problem
        | dl["qmp_event"].notna().to_numpy()
        | dl["qemu_loadvm"].notna().to_numpy()
    )
    idx = np.flatnonzero(cand)
    enc = pc.dictionary_encode(_take(msg, idx))
    uniq = enc.dictionary
    codes = pc.fill_null(enc.indices, len(uniq)).to_numpy(zero_copy_only=False)  # null: the extra slot
    flags: dict[str, np.ndarray] = {}
    for k, rx in FLAGS.items():
        hit = pc.fill_null(pc.match_substring_regex(uniq, for_arrow(rx.pattern)), False)
        flags[k] = np.append(hit.to_numpy(zero_copy_only=False), False)[codes]
    flags["nic_up"] = (dl["qmp_event"] == "NIC_RX_FILTER_CHANGED").fillna(False).to_numpy(dtype=bool)[idx]
    flags["problem"] = problem[idx]
    return idx, flags


def instance_codes(dl: pd.DataFrame, known: set[str]) -> tuple[np.ndarray, list[str]]:
    """For each row, an index into the returned names of the instance it is about (-1: none).

    The same as :func:`log_instance`, computed on the category codes instead of the names (no
    Python object per row).
    """
    cat = dl["category"].array
    names = [str(c) for c in cat.categories]
    ccodes = np.asarray(cat.codes, dtype=np.int64)
    is_known = np.array([c in known for c in cat.categories] + [False])
    inst = np.where(is_known[ccodes], ccodes, -1)
    if len(known) == 1:  # journald drops the category: one instance → it
        prog = dl["program"].array
        mp = np.array(["multipassd" in str(p) for p in prog.categories] + [False])
        missing = (inst < 0) & (ccodes < 0) & mp[np.asarray(prog.codes, dtype=np.int64)]
        if missing.any():
            only = next(iter(known))
            if only not in names:
                names.append(only)
            inst[missing] = names.index(only)
    return inst, names


def _file_codes(dl: pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
    """For each row, an index into the returned list of the artifact it came from.

    A frame holds its artifacts one after the other, so the column is a few long runs: it is
    read run by run instead of row by row.
    """
    arr = _arrow_strings(dl["file"]).combine_chunks()
    if not len(arr):
        return np.zeros(0, dtype=np.int64), []
    runs = pc.run_end_encode(arr)
    ends = runs.run_ends.to_numpy(zero_copy_only=False).astype(np.int64)
    values = runs.values.to_pylist()
    names = list(dict.fromkeys(values))
    per_run = np.array([names.index(v) for v in values], dtype=np.int64)
    return np.repeat(per_run, np.diff(np.concatenate([[0], ends]))), names


class _Waits:
    """The rows of one counted flag (IP or SSH failures) about an instance, by (instance, file)."""

    def __init__(
        self,
        rows: np.ndarray,
        inst: np.ndarray,
        names: list[str],
        fcode: np.ndarray,
        files: list[Any],
        lines: np.ndarray,
    ) -> None:
        self.rows = rows
        self.lines = lines[rows]
        key = inst[rows] * max(len(files), 1) + fcode[rows]
        order = np.argsort(key, kind="stable")
        sk = key[order]
        cut = np.flatnonzero(np.diff(sk)) + 1
        self.groups: dict[tuple[str, Any], np.ndarray] = {}
        for part in np.split(order, cut) if len(order) else []:
            k = int(key[part[0]])
            self.groups[(names[k // max(len(files), 1)], files[k % max(len(files), 1)])] = part
        self.group_lines = {k: self.lines[v] for k, v in self.groups.items()}


def _wait_rows(
    dl: pd.DataFrame,
    idx: np.ndarray,
    flags: dict[str, np.ndarray],
    inst: np.ndarray,
    names: list[str],
    fcode: np.ndarray,
    files: list[Any],
) -> dict[str, _Waits]:
    """For each counted flag, its rows about an instance (`arp` rows never are: skipped fast)."""
    not_arp = (dl["category"] != "arp").to_numpy(dtype=bool)
    lines = dl["line"].to_numpy(dtype="int64")
    out = {}
    for flag in COUNTED:
        rows = idx[flags[flag]]
        rows = rows[not_arp[rows] & (inst[rows] >= 0)]
        out[flag] = _Waits(rows, inst, names, fcode, files, lines)
    return out


def _count_waits(waits: dict[str, _Waits], atts: list[dict[str, Any]]) -> None:
    """Count each attempt's IP-lookup and SSH failures (trace level) by binary search over their lines:
    one search per instance and file for all its attempts at once."""
    for flag, (counter, stage) in COUNTED.items():
        w = waits[flag]
        by_key: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        for att in atts:
            key = (att.get("instance"), att.get("file"))
            if key in w.group_lines and att.get("source") == "daemon_log":
                by_key.setdefault(key, []).append(att)
        for key, group in by_key.items():
            lines = w.group_lines[key]
            first = np.array([int(a["first_line"]) for a in group], dtype=np.int64)
            nxt = np.array([int(a.get("_next_first_line") or 0) for a in group], dtype=np.int64)
            up = np.array([int(a.get("_ssh_up_at_line") or 0) for a in group], dtype=np.int64)
            lo = np.searchsorted(lines, first, side="left")
            hi = np.where(nxt > 0, np.searchsorted(lines, nxt, side="left"), len(lines))
            hi = np.where(up > 0, np.minimum(hi, np.searchsorted(lines, up, side="left")), hi)
            for i in np.flatnonzero(hi > lo).tolist():
                att, h = group[i], int(hi[i])
                att[counter] = att.get(counter, 0) + (h - int(lo[i]))
                _reach(att, stage)
                if att.get("ssh_up_at") is None and int(lines[h - 1]) > int(att["last_line"]):
                    att["last_line"], att["ended_at"] = (
                        int(lines[h - 1]),
                        _Pos(int(w.rows[w.groups[key][h - 1]])),
                    )


def _new_at(instance: str | None, pos: int, file: Any, line: int, source: str) -> dict[str, Any]:
    return {
        "instance": instance,
        "source": source,
        "started_at": _Pos(pos),
        "ended_at": _Pos(pos),
        "file": file,
        "first_line": line,
        "last_line": line,
        "arp_lookups": 0,
        "ip_failures": 0,
        "ssh_failures": 0,
        "qemu_errors": 0,
        "stage_reached": "qemu",
        "daemon_restart": False,
    }


def _segment(bundle: Bundle) -> list[dict[str, Any]]:
    full = bundle.frame("daemon_log")
    if full.empty:
        return []
    known = known_instances(bundle)
    idx, flags = _flags(full)
    inst_all, names = instance_codes(full, known)
    counted = flags["ip_fail"] | flags["ssh_fail"]
    walked = np.zeros(len(idx), dtype=bool)
    for k in _WALKED:
        walked |= flags[k]
    keep = ~(counted & ~walked)  # rows that are only counted are counted afterwards, not walked
    rows = idx[keep]
    fl = {k: v[keep] for k, v in flags.items()}
    times = full["time"].array
    kept_msgs = _take(_arrow_strings(full["message"]), rows)
    is_args = pc.fill_null(pc.starts_with(kept_msgs, "process arguments"), False).to_numpy(
        zero_copy_only=False
    )
    is_qmp = pc.fill_null(pc.starts_with(kept_msgs, "QMP"), False).to_numpy(zero_copy_only=False)
    # the message itself is read only where a regular expression must pull a name out of it
    named = np.flatnonzero(fl["needs_start"] | fl["refused"])
    msgs: list[str | None] = [None] * len(rows)
    for j, m in zip(named.tolist(), kept_msgs.take(pa.array(named)).to_pylist(), strict=True):
        msgs[j] = m
    inst_codes = inst_all[rows].tolist()
    lines = full["line"].to_numpy(dtype="int64")[rows].tolist()
    fcode, fnames = _file_codes(full)
    files = [fnames[c] for c in fcode[rows].tolist()]
    cat = full["category"].array
    qemu_cat = np.array(
        [bool(QEMU_CATS.match(str(c))) for c in cat.categories] + [bool(QEMU_CATS.match("nan"))]
    )
    is_qemu_cat = qemu_cat[np.asarray(cat.codes, dtype=np.int64)[rows]]
    bad_level = full["level"].isin(["warning", "error"]).to_numpy(dtype=bool)[rows]

    def values(col: str) -> list[Any]:
        s = full[col].iloc[rows] if len(rows) else full[col].iloc[:0]
        return [v if isinstance(v, str) else None for v in s.astype(object).tolist()]

    versions, macs, loadvms = values("daemon_version"), values("mac"), values("qemu_loadvm")
    # the first progress marker each row carries (-1: none), decided for all rows at once
    markers = [mk for mk in MARKERS if mk[0] not in COUNTED]
    marker_id = np.full(len(rows), -1, dtype=np.int64)
    for m_i in range(len(markers) - 1, -1, -1):
        marker_id[fl[markers[m_i][0]]] = m_i
    # what the walk asks of a row, packed into one small integer: a bit per question
    bits = (
        fl["daemon_start"] * 1
        | fl["needs_start"] * 2
        | fl["refused"] * 4
        | (is_qemu_cat & bad_level) * 8
        | fl["program"] * 16
        | fl["starting"] * 32
        | fl["running"] * 64
        | fl["ssh_wait"] * 128
        | fl["stop"] * 256
        | fl["lifecycle"] * 512
        | bad_level * 1024
        | fl["exit"] * 2048
        | (fl["problem"] & ~is_qmp) * 4096
        | is_args * 8192
    ).tolist()

    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    version: str | None = None
    restart_pending: set[str] = set()

    def close(name: str) -> None:
        att = open_.pop(name, None)
        if att is not None:
            out.append(att)

    for pos, code, line, file, b, mk, ver, mac, lvm, msg in zip(
        rows.tolist(),
        inst_codes,
        lines,
        files,
        bits,
        marker_id.tolist(),
        versions,
        macs,
        loadvms,
        msgs,
        strict=True,
    ):
        if b & 1:  # a daemon (re)start
            version = ver if ver is not None else version
            for name in list(open_):
                open_[name].setdefault("outcome", "unknown")
                close(name)
            restart_pending = set()  # only `<name> needs starting` marks an auto-start
            continue
        if b & 2:
            m = R_NEEDS_START.match(str(msg))
            if m and m["name"] in known:
                restart_pending.add(m["name"])
                continue
        if b & 4:
            m = R_REFUSED.search(str(msg))
            if m:
                name = m["name"] or m["name2"]
                close(name)
                refused = _new_at(name, pos, file, line, "daemon_log")
                refused.update(outcome="refused", stage_reached="daemon", daemon_version=version)
                out.append(refused)
                continue
        if b & 8 and len(open_) == 1:  # QEMU's own warning or error: the only open attempt's
            only = next(iter(open_.values()))
            only["qemu_errors"] += 1
            only["last_line"], only["ended_at"] = line, _Pos(pos)
            continue
        if code < 0:
            continue
        inst = names[code]
        att = open_.get(inst)
        finished = att is not None and att.get("outcome") in ("ok", "qemu-exited", "refused")
        f_starting = b & 32
        starts = bool(
            b & 16
            or (
                f_starting and (att is None or att.get("running_at") is not None or att.get("_starting_seen"))
            )
            or (finished and b & (32 | 64 | 128))
        )
        if att is None and (b & 256 or not b & (512 | 1024)):
            continue  # a stop (NotRunning / finished at info level) is not a start attempt
        if starts or att is None:
            close(inst)
            att = _new_at(inst, pos, file, line, "daemon_log")
            att["daemon_version"] = version
            att["daemon_restart"] = inst in restart_pending
            restart_pending.discard(inst)
            open_[inst] = att
        att["last_line"], att["ended_at"] = line, _Pos(pos)
        if b & (16 | 32):
            att.setdefault("qemu_at", _Pos(pos))
            att["_starting_seen"] = att.get("_starting_seen") or bool(f_starting)
        if mac is not None and b & 8192:
            att["mac"] = mac
        if lvm is not None:
            att["loadvm"] = lvm
        if mk >= 0:
            _, at, stage, counter = markers[mk]
            if at and at not in att:
                att[at] = _Pos(pos)
                att[f"_{at}_line"] = line
            if counter:
                att[counter] += 1
            _reach(att, stage)
            if at == "ssh_up_at":
                att["outcome"] = "ok"
        elif b & 2048 and att.get("ssh_up_at") is None:
            att["outcome"] = "qemu-exited"
        elif b & 4096 and att.get("ssh_up_at") is None:
            att["qemu_errors"] += 1
    for name in list(open_):
        close(name)
    waits = _wait_rows(full, idx, flags, inst_all, names, fcode, fnames)
    _open_for_uncovered_waits(waits, out, version)
    _link_next_attempts(out)
    _count_waits(waits, out)
    _count_arp_lookups(full, out, fcode, fnames)
    # the times, now that the walk is over: boxed all at once
    slots = [(att, key) for att in out for key in _TIME_KEYS if isinstance(att.get(key), _Pos)]
    boxed = list(times.take(np.array([int(a[k]) for a, k in slots], dtype=np.int64))) if slots else []
    for (att, key), value in zip(slots, boxed, strict=True):
        att[key] = value
    return out


def _open_for_uncovered_waits(
    waits: dict[str, _Waits], atts: list[dict[str, Any]], version: str | None
) -> None:
    """An instance whose IP/SSH failures come before any attempt of its own (a paste of trace lines) gets one.

    The instances are taken in the order of their first failure line (IP failures before SSH
    failures on the same line).
    """
    firsts: dict[tuple[str, Any], tuple[int, int, int]] = {}  # (instance, file) → (line, order, row)
    base = 0
    for w in waits.values():
        for key, members in w.groups.items():
            j = int(members[0])  # within a file, rows are in line order
            cand = (int(w.lines[j]), base + j, int(w.rows[j]))
            if key not in firsts or cand[:2] < firsts[key][:2]:
                firsts[key] = cand
        base += len(w.rows)
    for (inst, file), (first_line, _, row) in sorted(firsts.items(), key=lambda kv: kv[1][:2]):
        if any(
            a.get("instance") == inst and a.get("file") == file and int(a["first_line"]) <= first_line
            for a in atts
        ):
            continue
        att = _new_at(str(inst), row, file, first_line, "daemon_log")
        att["daemon_version"] = version
        atts.append(att)


def _link_next_attempts(atts: list[dict[str, Any]]) -> None:
    """Note on each attempt where the next attempt of the same instance (same file) begins."""
    by_key: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for a in atts:
        by_key.setdefault((a.get("instance"), a.get("file")), []).append(a)
    for group in by_key.values():
        group.sort(key=lambda a: int(a["first_line"]))
        for a, b in zip(group, group[1:], strict=False):
            a["_next_first_line"] = int(b["first_line"])


def _count_arp_lookups(
    dl: pd.DataFrame, atts: list[dict[str, Any]], fcode: np.ndarray, fnames: list[Any]
) -> None:
    """`arp -an` lookups (1.14.1–1.16.x) between each attempt's SSH wait and its SSH success or next attempt.

    One lookup serves every waiting instance, so each waiting attempt counts it; the last lookup
    extends a still-waiting attempt's end.  Vectorised: a binary search per attempt.
    """
    is_arp = ((dl["category"] == "arp") & (dl["subprocess"] == "arp")).to_numpy(dtype=bool)
    if not is_arp.any():
        return
    pos = np.flatnonzero(is_arp)
    codes = fcode[pos]
    line_all = dl["line"].to_numpy(dtype="int64")
    by_file: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
    for c in dict.fromkeys(codes.tolist()):
        rows = pos[codes == c]
        by_file[fnames[c]] = (line_all[rows], rows)
    starts: dict[tuple[Any, Any], list[int]] = {}
    for a in atts:
        starts.setdefault((a.get("instance"), a.get("file")), []).append(int(a["first_line"]))
    sorted_starts = {key: np.sort(np.asarray(v, dtype="int64")) for key, v in starts.items()}
    by_key: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for att in atts:
        if att.get("_ssh_wait_at_line") is not None and att.get("file") in by_file:
            by_key.setdefault((att.get("instance"), att.get("file")), []).append(att)
    for key, group in by_key.items():  # one binary search per instance and file for all its attempts
        lines, rows = by_file[key[1]]
        nxt = sorted_starts[key]
        first = np.array([int(a["first_line"]) for a in group], dtype=np.int64)
        k = np.searchsorted(nxt, first, side="right")
        after = np.where(k < len(nxt), nxt[np.minimum(k, len(nxt) - 1)], -1)
        up = np.array([int(a.get("_ssh_up_at_line") or 0) for a in group], dtype=np.int64)
        stop = np.where(up > 0, up, after)
        lo = np.searchsorted(lines, np.array([int(a["_ssh_wait_at_line"]) for a in group]), side="right")
        hi = np.where(stop >= 0, np.searchsorted(lines, stop, side="left"), len(lines))
        for att, lo_i, hi_i in zip(group, lo.tolist(), hi.tolist(), strict=True):
            att["arp_lookups"] = max(0, hi_i - lo_i)
            if hi_i > lo_i and att.get("ssh_up_at") is None and int(lines[hi_i - 1]) > int(att["last_line"]):
                att["last_line"], att["ended_at"] = int(lines[hi_i - 1]), _Pos(int(rows[hi_i - 1]))


def _finish(att: dict[str, Any], log_end: Any, client: dict[str, str]) -> None:
    if (
        att.get("ssh_wait_at") is not None
        and att.get("ip_found_at") is None
        and att.get("ssh_up_at") is not None
    ):
        att["ip_found_at"] = att["ssh_up_at"]
    if att.get("ssh_failures") and att.get("stage_reached") in ("dhcp", "boot"):
        att["stage_reached"] = "ssh"
    if att.get("outcome") is None:
        cerr = client.get(att.get("instance") or "", "")
        waited = att.get("ssh_wait_at") or att.get("running_at") or att.get("started_at")
        if att.get("ip_failures") or att.get("arp_lookups") or att.get("ssh_wait_at") is not None:
            span = None
            try:
                span = (log_end - waited).total_seconds()
            except (TypeError, AttributeError):
                span = None
            if "timed out" in cerr or (span is not None and span >= SSH_BUDGET_S):
                att["outcome"] = "timeout"
            else:
                att["outcome"] = (
                    "in-progress" if span is not None and span < SSH_BUDGET_S and not cerr else "unknown"
                )
        elif "shutdown" in cerr or "stopped while starting" in cerr:
            att["outcome"] = "qemu-exited"
        elif "timed out" in cerr:
            att["outcome"] = "timeout"
        else:
            att["outcome"] = "unknown"


def _client_errors(bundle: Bundle) -> tuple[dict[str, str], dict[str, str], int | None]:
    """instance → client message, instance → client kind (last command's output)."""
    c = bundle.frame("client")
    msgs: dict[str, str] = {}
    kinds: dict[str, str] = {}
    if c.empty or "instance" not in c.columns:
        return msgs, kinds, None
    for row in c.itertuples(index=False):
        inst = row.instance if isinstance(row.instance, str) else ""
        k = str(row.kind)
        if k in ("header", "qemu-stderr", "other") and not inst:
            continue
        msgs[inst] = str(row.message)
        kinds[inst] = k
    return msgs, kinds, None


_CLIENT_OUTCOME = {
    "timeout": "timeout",
    "init-timeout": "ok",
    "shutdown-while-starting": "qemu-exited",
    "unknown-state": "refused",
    "ip-not-found": "timeout",
    "client-timeout": "timeout",
    "ssh": "unknown",
    "socket": "refused",
}


def build_attempts(bundle: Bundle) -> pd.DataFrame:
    """The start attempts of every instance in ``bundle`` (see :data:`SCHEMA`)."""
    atts = _segment(bundle)
    msgs, kinds, _ = _client_errors(bundle)
    dl = bundle.frame("daemon_log")
    log_end = dl["time"].max() if not dl.empty else None
    for att in atts:
        _finish(att, log_end, msgs)

    # probe timings: attach to the log attempt they overlap, or add them
    probe = bundle.frame("probe_attempts")
    for row in probe.itertuples(index=False):
        match = None
        for att in atts:
            if att.get("instance") == row.instance and att.get("source") == "daemon_log":
                try:
                    if (
                        row.started_at - pd.Timedelta(seconds=5)
                        <= att["started_at"]
                        <= row.ended_at + pd.Timedelta(seconds=5)
                    ):
                        match = att
                        break
                except TypeError:
                    continue
        if match is None:
            match = {
                "instance": row.instance,
                "source": "probe",
                "started_at": row.started_at,
                "ended_at": row.ended_at,
                "file": row.file,
                "first_line": row.line,
                "last_line": row.line,
                "stage_reached": "qemu",
                "outcome": {"ok": "ok", "timeout": "timeout"}.get(str(row.outcome), "unknown"),
            }
            atts.append(match)
        match["exit_code"] = row.exit_code
        try:  # the probe timed the whole attempt, the log only its logged part
            if pd.notna(row.ended_at) and (match.get("ended_at") is None or row.ended_at > match["ended_at"]):
                match["ended_at"] = row.ended_at
        except TypeError:  # different clocks (no zone known): keep the log's
            pass
        if isinstance(row.client_output, str) and row.client_output.strip():
            match["client_error"] = row.client_output.strip()[-500:]
        if str(row.outcome) == "timeout" and match.get("outcome") in (None, "unknown", "in-progress"):
            match["outcome"] = "timeout"
        if str(row.outcome) == "ok" and match.get("outcome") in (None, "unknown", "in-progress"):
            match["outcome"] = "ok"

    # the client's error belongs to the last attempt of its instance; with no log, it is the attempt
    for inst, msg in msgs.items():
        mine = [
            a
            for a in atts
            if a.get("instance") == inst or (not inst and len({x.get("instance") for x in atts}) == 1)
        ]
        if mine:
            last = mine[-1]
            last.setdefault("client_error", msg)
            if last.get("outcome") in ("unknown", "in-progress") and kinds.get(inst) in _CLIENT_OUTCOME:
                last["outcome"] = _CLIENT_OUTCOME[kinds[inst]]
        elif inst or kinds.get(inst) in (
            "timeout",
            "ip-not-found",
            "shutdown-while-starting",
            "unknown-state",
            "client-timeout",
        ):
            k = kinds.get(inst, "other")
            atts.append(
                {
                    "instance": inst or None,
                    "source": "client",
                    "outcome": _CLIENT_OUTCOME.get(k, "unknown"),
                    "client_error": msg,
                    "file": "client.txt",
                    "stage_reached": None,
                }
            )

    atts.sort(key=lambda a: (str(a.get("instance")), a.get("started_at") is None, str(a.get("started_at"))))
    counter: dict[str, int] = {}
    rows = []
    for a in atts:
        key = str(a.get("instance"))
        counter[key] = counter.get(key, 0) + 1
        a["attempt"] = counter[key]
        a["duration_s"] = _secs(a.get("started_at"), a.get("ended_at"))
        a["boot_s"] = _secs(a.get("running_at"), a.get("nic_up_at"))
        a["ip_wait_s"] = _secs(a.get("ssh_wait_at"), a.get("ssh_up_at") or a.get("ended_at"))
        rows.append({k: v for k, v in a.items() if k in SCHEMA})
    frame = conform(rows, SCHEMA)
    for col, c in SCHEMA.items():
        if c.dtype == "object" and col.endswith("_at"):
            frame[col] = _as_times(frame[col])
    return frame


def _as_times(s: pd.Series) -> pd.Series:
    vals = [v if isinstance(v, pd.Timestamp) else pd.NaT for v in s]
    tz = next((v.tz for v in vals if isinstance(v, pd.Timestamp) and v is not pd.NaT), None)
    out = (
        pd.Series(vals, index=s.index, dtype=f"datetime64[ns, {tz}]" if tz else "datetime64[ns]")
        if vals
        else pd.Series([], dtype="datetime64[ns]")
    )
    return out


def _secs(a: Any, b: Any) -> float | None:
    try:
        if a is None or b is None or pd.isna(a) or pd.isna(b):
            return None
        return float((b - a).total_seconds())
    except (TypeError, AttributeError):
        return None


__all__ = ["SCHEMA", "SSH_BUDGET_S", "build_attempts"]

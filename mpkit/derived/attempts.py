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


def _new(instance: str | None, row: Any, source: str) -> dict[str, Any]:
    return {
        "instance": instance,
        "source": source,
        "started_at": row.time,
        "ended_at": row.time,
        "file": row.file,
        "first_line": row.line,
        "last_line": row.line,
        "arp_lookups": 0,
        "ip_failures": 0,
        "ssh_failures": 0,
        "qemu_errors": 0,
        "stage_reached": "qemu",
        "daemon_restart": False,
    }


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


def _flagged(dl: pd.DataFrame) -> pd.DataFrame:
    """The rows the segmentation must look at, with one boolean column per flag.

    One regex pass picks the candidate rows, the flags are computed on those only.  A huge log is
    mostly `arp -an` lookups and trace-level IP failures: those are counted afterwards
    (:func:`_count_waits`), not walked.
    """
    msg = dl["message"].astype("str")
    problem = dl["level"].isin(["warning", "error"]) | msg.str.startswith("qemu-system-", na=False)
    cand = (
        msg.str.contains(_ANY_FLAG, regex=True, na=False)
        | problem
        | dl["qmp_event"].notna()
        | dl["qemu_loadvm"].notna()
    )
    frame = dl[cand]
    sub = frame["message"].astype("str")
    flags = {
        f"f_{k}": sub.str.contains(for_arrow(rx.pattern), regex=True, na=False) for k, rx in FLAGS.items()
    }
    flags["f_nic_up"] = frame["qmp_event"].astype("str") == "NIC_RX_FILTER_CHANGED"
    flags["f_problem"] = problem[cand]
    frame = frame.assign(**flags)
    counted = [f"f_{k}" for k in COUNTED]
    others = [c for c in flags if c not in counted and c != "f_lifecycle"]
    only_counted = frame[counted].any(axis=1) & ~frame[others].any(axis=1)
    return frame[~only_counted]


def _wait_rows(dl: pd.DataFrame, known: set[str]) -> dict[str, pd.DataFrame]:
    """For each counted flag, its rows (with their instance), found once; `arp` rows are skipped fast."""
    rest = dl[dl["category"] != "arp"]
    msg = rest["message"].astype("str")
    out = {}
    for flag in COUNTED:
        hit = msg.str.contains(for_arrow(FLAGS[flag].pattern), regex=True, na=False)
        rows = rest[hit]
        out[flag] = rows.assign(inst_=log_instance(rows, known)).dropna(subset=["inst_"])
    return out


def _count_waits(waits: dict[str, pd.DataFrame], atts: list[dict[str, Any]]) -> None:
    """Count each attempt's IP-lookup and SSH failures (trace level) by binary search over their lines."""
    for flag, (counter, stage) in COUNTED.items():
        groups = {k: g for k, g in waits[flag].groupby(["inst_", "file"], sort=False)}
        for att in atts:
            g = groups.get((att.get("instance"), att.get("file")))
            if g is None or att.get("source") != "daemon_log":
                continue
            lines = g["line"].to_numpy(dtype="int64")
            lo = int(np.searchsorted(lines, int(att["first_line"]), side="left"))
            hi = (
                int(np.searchsorted(lines, int(att["_next_first_line"]), side="left"))
                if att.get("_next_first_line")
                else len(lines)
            )
            if att.get("_ssh_up_at_line"):
                hi = min(hi, int(np.searchsorted(lines, int(att["_ssh_up_at_line"]), side="left")))
            if hi <= lo:
                continue
            att[counter] = att.get(counter, 0) + (hi - lo)
            _reach(att, stage)
            if att.get("ssh_up_at") is None and int(lines[hi - 1]) > int(att["last_line"]):
                att["last_line"], att["ended_at"] = int(lines[hi - 1]), g["time"].iloc[hi - 1]


def _segment(bundle: Bundle) -> list[dict[str, Any]]:
    full = bundle.frame("daemon_log")
    if full.empty:
        return []
    known = known_instances(bundle)
    dl = _flagged(full)
    dl = dl.assign(inst_=log_instance(dl, known))
    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    version: str | None = None
    restart_pending: set[str] = set()

    def close(name: str) -> None:
        att = open_.pop(name, None)
        if att is not None:
            out.append(att)

    for row in dl.itertuples(index=False):
        inst = row.inst_ if isinstance(row.inst_, str) else None
        if row.f_daemon_start:
            version = row.daemon_version if isinstance(row.daemon_version, str) else version
            for name in list(open_):
                open_[name].setdefault("outcome", "unknown")
                close(name)
            restart_pending = set()  # only `<name> needs starting` marks an auto-start
            continue
        if row.f_needs_start:
            m = R_NEEDS_START.match(str(row.message))
            if m and m["name"] in known:
                restart_pending.add(m["name"])
                continue
        if row.f_refused:
            m = R_REFUSED.search(str(row.message))
            if m:
                name = m["name"] or m["name2"]
                close(name)
                refused = _new(name, row, "daemon_log")
                refused.update(outcome="refused", stage_reached="daemon", daemon_version=version)
                out.append(refused)
                continue
        if QEMU_CATS.match(str(row.category)) and row.level in ("warning", "error") and len(open_) == 1:
            only = next(iter(open_.values()))
            only["qemu_errors"] += 1
            only["last_line"], only["ended_at"] = row.line, row.time
            continue
        if inst is None:
            continue
        att = open_.get(inst)
        finished = att is not None and att.get("outcome") in ("ok", "qemu-exited", "refused")
        starts = bool(
            row.f_program
            or (
                row.f_starting
                and (att is None or att.get("running_at") is not None or att.get("_starting_seen"))
            )
            or (finished and (row.f_starting or row.f_running or row.f_ssh_wait))
        )
        if att is None and (row.f_stop or not (row.f_lifecycle or row.level in ("warning", "error"))):
            continue  # a stop (NotRunning / finished at info level) is not a start attempt
        if starts or att is None:
            close(inst)
            att = _new(inst, row, "daemon_log")
            att["daemon_version"] = version
            att["daemon_restart"] = inst in restart_pending
            restart_pending.discard(inst)
            open_[inst] = att
        att["last_line"], att["ended_at"] = row.line, row.time
        if row.f_program or row.f_starting:
            att.setdefault("qemu_at", row.time)
            att["_starting_seen"] = att.get("_starting_seen") or bool(row.f_starting)
        if isinstance(row.mac, str) and str(row.message).startswith("process arguments"):
            att["mac"] = row.mac
        if isinstance(row.qemu_loadvm, str):
            att["loadvm"] = row.qemu_loadvm
        marker = next((mk for mk in MARKERS if mk[0] not in COUNTED and getattr(row, f"f_{mk[0]}")), None)
        if marker is not None:
            _, at, stage, counter = marker
            if at and at not in att:
                att[at] = row.time
                att[f"_{at}_line"] = row.line
            if counter:
                att[counter] += 1
            _reach(att, stage)
            if at == "ssh_up_at":
                att["outcome"] = "ok"
        elif row.f_exit and att.get("ssh_up_at") is None:
            att["outcome"] = "qemu-exited"
        elif row.f_problem and att.get("ssh_up_at") is None and not str(row.message).startswith("QMP"):
            att["qemu_errors"] += 1
    for name in list(open_):
        close(name)
    waits = _wait_rows(full, known)
    _open_for_uncovered_waits(waits, out, version)
    _link_next_attempts(out)
    _count_waits(waits, out)
    _count_arp_lookups(full, out)
    return out


def _open_for_uncovered_waits(
    waits: dict[str, pd.DataFrame], atts: list[dict[str, Any]], version: str | None
) -> None:
    """An instance whose IP/SSH failures come before any attempt of its own (a paste of trace lines) gets one."""
    rows = pd.concat([w for w in waits.values() if len(w)]) if any(len(w) for w in waits.values()) else None
    if rows is None:
        return
    for (inst, file), g in rows.sort_values("line", kind="stable").groupby(["inst_", "file"], sort=False):
        first = g.iloc[0]
        if any(
            a.get("instance") == inst and a.get("file") == file and int(a["first_line"]) <= int(first["line"])
            for a in atts
        ):
            continue
        att = _new(str(inst), first, "daemon_log")
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


def _count_arp_lookups(dl: pd.DataFrame, atts: list[dict[str, Any]]) -> None:
    """`arp -an` lookups (1.14.1–1.16.x) between each attempt's SSH wait and its SSH success or next attempt.

    One lookup serves every waiting instance, so each waiting attempt counts it; the last lookup
    extends a still-waiting attempt's end.  Vectorised: a binary search per attempt.
    """
    is_arp = (dl["category"] == "arp") & (dl["subprocess"] == "arp")
    if not is_arp.any():
        return
    arp = dl.loc[is_arp, ["file", "line", "time"]]
    by_file = {
        f: (g["line"].to_numpy(dtype="int64"), g["time"].to_numpy())
        for f, g in arp.groupby("file", sort=False)
    }
    starts: dict[tuple[Any, Any], list[int]] = {}
    for a in atts:
        starts.setdefault((a.get("instance"), a.get("file")), []).append(int(a["first_line"]))
    sorted_starts = {key: np.sort(np.asarray(v, dtype="int64")) for key, v in starts.items()}
    for att in atts:
        start = att.get("_ssh_wait_at_line")
        if start is None or att.get("file") not in by_file:
            continue
        lines, times = by_file[att["file"]]
        nxt = sorted_starts[(att.get("instance"), att.get("file"))]
        k = int(np.searchsorted(nxt, int(att["first_line"]), side="right"))
        stop = att.get("_ssh_up_at_line") or (int(nxt[k]) if k < len(nxt) else None)
        lo = int(np.searchsorted(lines, int(start), side="right"))
        hi = int(np.searchsorted(lines, int(stop), side="left")) if stop is not None else len(lines)
        att["arp_lookups"] = max(0, hi - lo)
        if hi > lo and att.get("ssh_up_at") is None and int(lines[hi - 1]) > int(att["last_line"]):
            att["last_line"], att["ended_at"] = int(lines[hi - 1]), pd.Timestamp(times[hi - 1])


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

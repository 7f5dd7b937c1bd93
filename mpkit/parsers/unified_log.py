"""macOS unified log extracts: ``log show`` / ``log stream`` in every style.

Reads the ``ndjson``, ``json`` (one array), ``default``, ``syslog`` and
``compact`` styles, and decodes bootpd's DHCP messages (§4.3)::

    2025-06-10 14:30:25.104871-0700 0x3f2a1    Info        0x0                  48211  0    bootpd: DHCP DISCOVER [bridge100]: 1,52:54:0:3c:a:f1 <primary>
    2025-06-10 14:30:25.106310-0700 0x3f2a1    Info        0x0                  48211  0    bootpd: OFFER sent <no hostname> 192.168.64.7 pktsize 300

gives ``time=2025-06-10 14:30:25.104871 utc_offset=-420 level=info
process=bootpd pid=48211 dhcp_msg=DISCOVER interface=bridge100
mac=52:54:00:3c:0a:f1 client_id=1,52:54:0:3c:a:f1 hostname=primary`` and
``dhcp_msg=OFFER ip=192.168.64.7``.  Notable lines get an ``event``:
``no_ip_addresses``, ``other_dhcp_server``, ``ip_declined``,
``removing_binding``, ``select_wrong_ip``, ``ciaddr_mismatch``,
``reread_leases``, ``interface_address``, ``idle_exit``, ``transmit_failed``,
``ipv6_only_preferred`` (bootpd) and ``vmnet_error``,
``dhcp_range_overlap``, ``network_unavailable``, ``bridge_add_failed``,
``network_started``, ``network_stopped``, ``firewall_deny`` (InternetSharing,
QEMU, socketfilterfw).  The banner ``Skipping info and debug messages…``
becomes a row with ``event=info_not_shown`` (bootpd's packet lines are info
level, so their absence then proves nothing); the other banners, headers and
footers are skipped.  Lines without a timestamp after a text record continue
its message.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pandas as pd

from ..macaddr import canon_mac
from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "unified_log"
FRAME = "system_log"
FILENAMES = ("bootpd.log", "unified.log")
PLATFORMS = ("macos",)

SCHEMA = {
    "line": Column("int", "1-based line where the record starts"),
    "time": Column("datetime", "wall-clock time as printed"),
    "utc_offset": Column(
        "int", "minutes east of UTC printed with the time (-0700 → -420); NA in compact style"
    ),
    "level": Column("category", "default / info / debug / error / fault / activity … (lower case)"),
    "process": Column("str", "process name (bootpd, InternetSharing, socketfilterfw, …)"),
    "pid": Column("int", "process id"),
    "thread": Column("str", "thread id in hex (0x3f2a1)"),
    "sender": Column("str", "sender image when printed / in JSON (libsystem_info.dylib, …)"),
    "subsystem": Column("str", "subsystem, NA when empty"),
    "category": Column("str", "category, NA when empty"),
    "message": Column("str", "the composed message (continuation lines joined with newlines)"),
    "n_lines": Column("int", "physical lines of the record (JSON: lines of the object)"),
    "dhcp_msg": Column(
        "str", "bootpd packet: DISCOVER / REQUEST / DECLINE / RELEASE / INFORM / OFFER / ACK / NAK"
    ),
    "client_id": Column("str", "bootpd client identifier as printed (1,52:54:0:3c:a:f1 or ff,…)"),
    "mac": Column("str", "canonical MAC from a type-1 identifier, NA otherwise"),
    "ip": Column("str", "IPv4 address of the message (offered / acked / declined / other server)"),
    "interface": Column("str", "interface named by the message (bridge100, …)"),
    "hostname": Column(
        "str", "host name in the message (<name> of DISCOVER, name of OFFER/ACK), NA for <no hostname>"
    ),
    "event": Column("str", "notable non-packet line (no_ip_addresses, other_dhcp_server, idle_exit, …)"),
}

_TS = r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
_DEFAULT = re.compile(
    _TS
    + r"(?P<off>[+-]\d{4})\s+(?P<thread>0x[0-9a-f]+)\s+(?P<type>\w+)\s+0x[0-9a-f]+\s+(?P<pid>\d{1,10})\s+\d+\s+"
    r"(?P<body>.*)$"
)
_SYSLOG = re.compile(
    _TS + r"(?P<off>[+-]\d{4})\s+\S+\s+(?P<proc>[^\s\[(]+)(?:\((?P<sender>[^)]*)\))?\[(?P<pid>\d{1,10})\]:\s?"
    r"(?:<(?P<type>\w+)>:\s)?(?P<body>.*)$"
)
_COMPACT = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s(?P<type>[A-Za-z]{1,2})\s*(?P<proc>[^\s\[]+)"
    r"\[(?P<pid>\d{1,10}):(?P<thread>[0-9a-f]+)\]\s?(?P<body>.*)$"
)
_BODY = re.compile(r"^(?P<proc>[^:]+?): (?P<body>.*)$", re.S)
_SENDER_SUB = re.compile(
    r"^(?:\((?P<sender>[^)]*)\)\s)?(?:\[(?P<sub>[^:\]\s]+):(?P<cat>[^\]]+)\]\s)?(?P<msg>.*)$", re.S
)
_BANNER = re.compile(
    r"^(?:Filtering the log data|Skipping (?:info|debug)|Timestamp\s+(?:Thread|\(process\)|Ty\s)|-{20,}|Log\s+- Default:"
    r"|Activity - Create:|Getting historical data|log: |Processed \d+ )"
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")
_LEVELS = {"Df": "default", "I": "info", "Db": "debug", "E": "error", "F": "fault", "A": "activity"}

_IP = r"\d{1,3}(?:\.\d{1,3}){3}"
_ID = r"(?P<id>[0-9a-fA-F]{1,2},\S+)"
_BOOTPD = [
    (
        re.compile(
            rf"^DHCP (?P<msg>DISCOVER|REQUEST|DECLINE|RELEASE|INFORM) \[(?P<if>[^\]]+)\]: {_ID}(?: <(?P<host>.*)>)?"
        ),
        None,
    ),
    (re.compile(rf"^(?P<msg>OFFER|ACK|NAK) sent (?P<host>.+?) (?P<ip>{_IP}) pktsize \d+"), None),
    (re.compile(r"^no ip addresses"), "no_ip_addresses"),
    (
        re.compile(rf"detected another DHCP server (?P<ip>{_IP}), disabling DHCP on (?P<if>\S+)"),
        "other_dhcp_server",
    ),
    (re.compile(rf"IP (?P<ip>{_IP}) declined by {_ID}"), "ip_declined"),
    (re.compile(rf"removing {_ID} binding for (?P<ip>{_IP})"), "removing_binding"),
    (
        re.compile(rf"host {_ID} sends SELECT (?:with wrong IP address (?P<ip>{_IP})|without)"),
        "select_wrong_ip",
    ),
    (re.compile(rf"client ciaddr=(?P<ip>{_IP}) should use"), "ciaddr_mismatch"),
    (re.compile(r"re-reading lease list"), "reread_leases"),
    (re.compile(rf"^interface (?P<if>[^:\s]+): ip (?P<ip>{_IP}) mask"), "interface_address"),
    (re.compile(r"^idle, exiting"), "idle_exit"),
    (re.compile(rf"^(?:transmit failed|send (?P<ip>{_IP}) failed)"), "transmit_failed"),
    (re.compile(r"IPv6-only preferred"), "ipv6_only_preferred"),
]
_OTHER = [
    (re.compile(r"cannot create vmnet interface"), "vmnet_error"),
    (re.compile(r"overlapping DHCP range"), "dhcp_range_overlap"),
    (re.compile(r"unable to fulfill network"), "network_unavailable"),
    (re.compile(r"BRDGADD: failed"), "bridge_add_failed"),
    (re.compile(r"mis_network_start: .*has been started"), "network_started"),
    (re.compile(r"mis_network_stop|no internal interface left"), "network_stopped"),
    (re.compile(r"(?:Deny|Block|Stealth Mode).*(?:bootpd|:6[78]\b)", re.I), "firewall_deny"),
]

LINE_RE = re.compile(
    rf"^(?:{_TS}[+-]\d{{4}}\s+(?:0x[0-9a-f]+\s|\S+\s+\S+\[\d+\]:)|\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{{3}}\s\w{{1,2}}\s*\S+\[\d+:[0-9a-f]+\]"
    r"|\{.*\"eventMessage\"|Filtering the log data|Skipping (?:info|debug)|Timestamp\s+(?:Thread|\(process\)|Ty\s))"
)


def _time(ts: str | None, off: str | None) -> tuple[datetime | None, int | None]:
    if not ts:
        return None, None
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*(?:([+-]\d{2}):?(\d{2}))?$", ts + (off or ""))
    if not m:
        return None, None
    try:
        t = datetime.fromisoformat(m[1])
    except ValueError:
        return None, None
    minutes = None
    if m[2]:
        sign = -1 if m[2][0] == "-" else 1
        minutes = sign * (abs(int(m[2])) * 60 + int(m[3] or 0))
    return t, minutes


def _decode(row: dict[str, Any]) -> None:
    """Fill the DHCP / event columns from the message."""
    msg = (row.get("message") or "").split("\n")[0]
    proc = row.get("process")
    table = _BOOTPD if proc in (None, "bootpd") else []
    for rx, event in table + _OTHER:
        m = rx.search(msg)
        if not m:
            continue
        g = m.groupdict()
        if event:
            row["event"] = event
        if g.get("msg"):
            row["dhcp_msg"] = g["msg"]
        if g.get("if"):
            row["interface"] = g["if"]
        if g.get("ip"):
            row["ip"] = g["ip"]
        if g.get("id"):
            row["client_id"] = g["id"]
            hw, _, addr = g["id"].partition(",")
            row["mac"] = canon_mac(addr) if hw.lower() in ("1", "01") else None
        host = g.get("host")
        if host and host != "<no hostname>":
            row["hostname"] = host
        return


def _as_int(v: Any) -> int | None:
    """An id as int (some builds print ids as strings); None when unreadable or out of range."""
    try:
        n = int(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return n if -(2**63) < n < 2**63 else None


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _from_json(obj: Any, no: int, n_lines: int) -> dict[str, Any] | None:
    if not isinstance(obj, dict) or not ("eventMessage" in obj or "timestamp" in obj):
        return None
    t, off = _time(str(obj.get("timestamp") or ""), None)
    path = str(obj.get("processImagePath") or "")
    sender = str(obj.get("senderImagePath") or "")
    tid = _as_int(obj.get("threadID"))
    return {
        "line": no,
        "time": t,
        "utc_offset": off,
        "level": str(obj.get("messageType") or "").lower() or None,
        "process": _str(obj.get("process")) or (path.rsplit("/", 1)[-1] or None),
        "pid": _as_int(obj.get("processID")),
        "thread": None if tid is None else hex(tid),
        "sender": sender.rsplit("/", 1)[-1] or None,
        "subsystem": _str(obj.get("subsystem")),
        "category": _str(obj.get("category")),
        "message": _str(obj.get("eventMessage")),
        "n_lines": n_lines,
    }


def _from_text(ln: str, no: int) -> dict[str, Any] | None:
    row: dict[str, Any] = {"line": no, "n_lines": 1}
    if m := _DEFAULT.match(ln):
        body = m["body"]
        if b := _BODY.match(body):
            row["process"], body = b["proc"], b["body"]
        row["thread"] = m["thread"]
    elif m := _SYSLOG.match(ln):
        row["process"], row["sender"], body = m["proc"], m["sender"], m["body"]
    elif m := _COMPACT.match(ln):
        row["process"], row["thread"], body = m["proc"], "0x" + m["thread"], m["body"]
    else:
        return None
    g = m.groupdict()
    row["time"], row["utc_offset"] = _time(g["ts"], g.get("off"))
    row["pid"] = int(m["pid"])
    if g.get("type"):
        row["level"] = _LEVELS.get(g["type"], g["type"].lower())
    s = _SENDER_SUB.match(body)
    if s:
        row["sender"] = s["sender"] or row.get("sender")
        row["subsystem"], row["category"], body = s["sub"], s["cat"], s["msg"]
    row["message"] = body
    return row


def _json_array(text: str, start: int) -> tuple[list[dict[str, Any]], set[int], int | None]:
    """Decode the objects of a (possibly truncated) JSON array whose ``[`` is at ``start``.

    Returns the rows, the line numbers the decoded objects span, and the line
    where decoding failed (None when the array was read to its end).
    """
    dec = json.JSONDecoder()
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return rows, used, None
        no = text.count("\n", 0, pos) + 1
        try:
            obj, end = dec.raw_decode(text, pos)
        except ValueError:
            return rows, used, no
        n = text.count("\n", pos, end) + 1
        row = _from_json(obj, no, n)
        if row is None:
            return rows, used, no
        _decode(row)
        rows.append(row)
        used.update(range(no, no + n))
        pos = end


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS unified log extracts: ``log show`` / ``log stream`` in every style."""
    head = text[:200_000]
    if head.lstrip().startswith("[") and '"eventMessage"' in head:
        return 1.0
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """macOS unified log extracts: ``log show`` / ``log stream`` in every style as the ``system_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    array_at = re.search(r"^[ \t]*\[\s*(?:\{|$)", text, re.M)
    array_line, bad_from = 0, None
    array_rows: list[dict[str, Any]] = []
    used: set[int] = set()
    if array_at is not None:
        array_line = text.count("\n", 0, array_at.start()) + 1
        array_rows, used, bad_from = _json_array(text, text.index("[", array_at.start()))
    current: dict[str, Any] | None = None  # the text record continuation lines append to
    for no, ln in numbered(text, cov):
        if array_line and no >= array_line:
            if no in used:
                cov.ok()
            elif bad_from is not None and no >= bad_from and not BLANK.match(ln):
                cov.reject(no, ln)
            else:
                cov.skip()  # brackets and commas between objects
            continue
        if BLANK.match(ln):
            current = None
            cov.skip()
            continue
        if ln.startswith("{"):
            current = None
            try:
                row = _from_json(json.loads(ln), no, 1)
            except ValueError:
                row = None
            if row is None:
                cov.reject(no, ln)
                continue
        elif (row := _from_text(ln, no)) is None:
            if _BANNER.match(ln):
                current = None
                if ln.startswith("Skipping info"):
                    rows.append({"line": no, "message": ln.strip(), "event": "info_not_shown", "n_lines": 1})
                    cov.ok()
                else:
                    cov.skip()
            elif current is not None and not _CONTROL.search(ln) and not re.match(r"\d{4}-\d\d-\d\d ", ln):
                current["message"] += "\n" + ln
                current["n_lines"] += 1
                cov.ok()
            else:
                cov.reject(no, ln)
            continue
        else:
            current = row
        _decode(row)
        rows.append(row)
        cov.ok()
    if array_line:
        rows.extend(array_rows)
    return conform(rows, SCHEMA, cov)

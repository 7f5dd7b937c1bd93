"""macOS Application Firewall: ``socketfilterfw`` outputs pasted one after another.

Reads ``--getglobalstate``, ``--getblockall``, ``--getstealthmode``,
``--getallowsigned``, ``--getappblocked <path>`` and ``--listapps``, in the
wordings of old and new macOS releases (matched loosely, raw text kept)::

    Firewall is enabled. (State = 1)
    Firewall has block all state set to disabled.
    ALF: total number of apps = 1
    1 :  /usr/libexec/bootpd
         ( Allow incoming connections )

gives rows ``setting=global_state enabled=True value=1``,
``setting=block_all enabled=False``, ``setting=app_count value=1`` and
``setting=app app=/usr/libexec/bootpd allowed=True app_index=1`` (the app row's
``line`` is the path line; ``raw`` joins the path and verdict lines).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "firewall"
FRAME = "firewall"
FILENAMES = ("firewall.txt",)
PLATFORMS = ("macos",)

SCHEMA = {
    "line": Column("int", "1-based line of the setting, or of the app's path line"),
    "setting": Column(
        "str",
        "global_state / block_all / stealth_mode / allow_signed / allow_signed_downloaded / app_count / app",
    ),
    "enabled": Column("bool", "the setting is on (NA for app rows)"),
    "value": Column("int", "global_state: the printed State number (2 = essential services); app_count: N"),
    "app": Column("str", "app rows: the application path (percent-decoded)"),
    "app_index": Column("int", "app rows: the number --listapps printed before the path"),
    "allowed": Column("bool", "app rows: incoming connections allowed (NA when no verdict was printed)"),
    "raw": Column("str", "the line(s) as printed, stripped, joined with ' | '"),
}

_GLOBAL = re.compile(r"firewall is (?P<v>enabled|disabled|on|off)\b(?:.*?state\s*=\s*(?P<n>\d{1,9}))?", re.I)
_BLOCKALL = re.compile(r"block\s*all\b.*?\b(?P<v>enabled|disabled|on|off)\b", re.I)
_STEALTH = re.compile(r"stealth\s*mode\b.*?\b(?P<v>enabled|disabled|on|off)\b", re.I)
_SIGNED = re.compile(
    r"automatically allow (?P<what>.*?signed.*?) software\b.*?\b(?P<v>enabled|disabled|on|off)\b", re.I
)
_APPBLOCKED = re.compile(r"incoming connection to (?P<app>.+?) is (?P<v>permitted|blocked)\b", re.I)
_COUNT = re.compile(r"^\s*(?:ALF:\s*)?total number of apps\s*=\s*(?P<n>\d{1,9})", re.I)
_APP = re.compile(r"^\s*(?P<i>\d{1,9})\s*:\s+(?P<path>\S.*?)\s*$")
_VERDICT = re.compile(r"^\s*\(\s*(?P<v>allow|block)\w*\s+incoming connections\s*\)\s*$", re.I)
#: known noise: the command itself echoed, the managed-Mac refusal
_NOISE = re.compile(r"socketfilterfw|cannot be modified from command line", re.I)

LINE_RE = re.compile(
    "|".join(
        re.sub(r"\?P<\w+>", "", p.pattern)
        for p in (_GLOBAL, _BLOCKALL, _STEALTH, _SIGNED, _APPBLOCKED, _COUNT, _VERDICT)
    )
    + r"|^\s*\d+\s*:\s+/",
    re.I,
)
_STRONG = re.compile(
    r"firewall is (?:enabled|disabled)|block all (?:state|enabled|disabled)|total number of apps"
    r"|incoming connections\s*\)|stealth mode|automatically allow",
    re.I,
)


def _on(word: str) -> bool:
    return word.lower() in ("enabled", "on", "permitted", "allow")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS Application Firewall: ``socketfilterfw`` outputs pasted one after another."""
    if not _STRONG.search(text[:200_000]):
        return 0.0
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """macOS Application Firewall: ``socketfilterfw`` outputs pasted one after another as the ``firewall`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    app: dict[str, Any] | None = None  # the last app row still waiting for its verdict
    for no, ln in numbered(text, cov):
        s = ln.strip()
        if BLANK.match(ln):
            cov.skip()
            continue
        if app is not None and (m := _VERDICT.match(ln)):
            app["allowed"] = _on(m["v"])
            app["raw"] += " | " + s
            app = None
            cov.ok()
            continue
        app = None
        row: dict[str, Any] | None = None
        if m := _COUNT.match(ln):
            row = {"setting": "app_count", "value": int(m["n"])}
        elif m := _APP.match(ln):
            row = {"setting": "app", "app_index": int(m["i"]), "app": unquote(m["path"])}
            app = row
        elif m := _APPBLOCKED.search(ln):
            row = {"setting": "app", "app": unquote(m["app"]), "allowed": _on(m["v"])}
        elif m := _GLOBAL.search(ln):
            row = {"setting": "global_state", "enabled": _on(m["v"]), "value": m["n"] and int(m["n"])}
        elif m := _BLOCKALL.search(ln):
            row = {"setting": "block_all", "enabled": _on(m["v"])}
        elif m := _STEALTH.search(ln):
            row = {"setting": "stealth_mode", "enabled": _on(m["v"])}
        elif m := _SIGNED.search(ln):
            name = "allow_signed_downloaded" if "download" in m["what"].lower() else "allow_signed"
            row = {"setting": name, "enabled": _on(m["v"])}
        elif _NOISE.search(ln):
            cov.skip()
            continue
        if row is None:
            cov.reject(no, ln)
            continue
        row.update(line=no, raw=s)
        rows.append(row)
        cov.ok()
    return conform(rows, SCHEMA, cov)

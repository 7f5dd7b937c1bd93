"""Windows Hyper-V networking: ``Get-VMSwitch``, ``Get-HNSNetwork``, ``Get-NetNat`` and ``bcdedit``.

Reads PowerShell table output (header + dashes) and list output (``Key :
value`` blocks separated by blank lines, wrapped values continued on indented
lines), plus ``hypervisorlaunchtype`` lines of ``bcdedit /enum {current}``.
One row per property of each object::

    Name           SwitchType NetAdapterInterfaceDescription
    ----           ---------- ------------------------------
    Default Switch Internal

    hypervisorlaunchtype    Auto

gives rows ``section=vmswitch object=1 name="Default Switch" key=SwitchType
value=Internal`` (one per column) and ``section=bcdedit key=hypervisorlaunchtype
value=Auto``.  ``section`` is guessed from the properties (``SwitchType`` →
vmswitch, ``Subnets``/``SwitchGuid``/``Type`` → hns_network,
``InternalIPInterfaceAddressPrefix`` → netnat) or taken from a preceding
``PS …> Get-…`` prompt line.  PowerShell errors (``Get-NetNat : …``) become
``key=error`` rows; their ``+ CategoryInfo``/``At line:`` trailers are skipped.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "hyperv"
FRAME = "hyperv"
FILENAMES = ("hyperv.txt",)
PLATFORMS = ("windows",)

SCHEMA = {
    "line": Column("int", "1-based line of the property (table rows: the row's line)"),
    "section": Column("str", "vmswitch / hns_network / netnat / bcdedit / NA when unknown"),
    "object": Column("int", "1-based index of the object within the text"),
    "name": Column("str", "the object's Name property"),
    "key": Column("str", "property name"),
    "value": Column("str", "property value as printed (wrapped lines joined)"),
}

_LIST = re.compile(r"^(?P<key>[A-Za-z][\w.\- ]*?)\s*:\s?(?P<value>.*)$")
_DASHES = re.compile(r"^\s*-{2,}(?:\s+-{2,})*\s*$")
_BCD = re.compile(r"^\s*(?P<key>hypervisorlaunchtype)\s+(?P<value>\S+)\s*$", re.I)
_BCD_BLOCK = re.compile(r"^Windows Boot (?:Loader|Manager)\s*$")
_PROMPT = re.compile(r"^PS [^>]*>\s*(?P<cmd>.*)$")
_ERROR = re.compile(r"^(?P<cmd>[\w-]+) : (?P<msg>.+)$")
_ERROR_TAIL = re.compile(r"^(?:At line:\d+|\+ |\s+\+ )")
_SECTIONS = {
    "get-vmswitch": "vmswitch",
    "get-hnsnetwork": "hns_network",
    "get-netnat": "netnat",
    "bcdedit": "bcdedit",
}

LINE_RE = re.compile(
    r"^(?:SwitchType|SwitchGuid|Subnets|InternalIPInterfaceAddressPrefix|NetAdapterInterfaceDescription)\s*:"
    r"|^Name\s+SwitchType\b|^\s*hypervisorlaunchtype\s|^PS [^>]*>\s*(?:Get-(?:VMSwitch|HNSNetwork|NetNat)|bcdedit)",
    re.I | re.M,
)


def _section_of(keys: set[str], hint: str | None) -> str | None:
    if "SwitchType" in keys:
        return "vmswitch"
    if keys & {"InternalIPInterfaceAddressPrefix", "ExternalIPInterfaceAddressPrefix"}:
        return "netnat"
    if keys & {"Subnets", "SwitchGuid", "MacPools", "ActivityId"}:
        return "hns_network"
    return hint


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Windows Hyper-V networking: ``Get-VMSwitch``, ``Get-HNSNetwork``, ``Get-NetNat`` and ``bcdedit``."""
    head = text[:200_000]
    if not LINE_RE.search(head):
        return 0.0
    return max(
        0.7, fraction_matching(text, re.compile(f"{LINE_RE.pattern}|{_LIST.pattern}|{_DASHES.pattern}"))
    )


def parse(text: str) -> pd.DataFrame:
    """Windows Hyper-V networking: ``Get-VMSwitch``, ``Get-HNSNetwork``, ``Get-NetNat`` and ``bcdedit`` as the ``hyperv`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    all_lines = list(numbered(text, cov))
    hint: str | None = None
    obj = 0
    block: list[dict[str, Any]] = []  # the properties of the list object being read

    def flush() -> None:
        nonlocal block
        if block:
            keys = {r["key"] for r in block}
            name = next((r["value"] for r in block if r["key"] == "Name"), None)
            section = _section_of(keys, hint)
            for r in block:
                r.update(section=section, name=name)
            rows.extend(block)
        block = []

    i = 0
    while i < len(all_lines):
        no, ln = all_lines[i]
        i += 1
        if BLANK.match(ln):
            flush()
            cov.skip()
            continue
        if m := _PROMPT.match(ln):
            flush()
            cmd = m["cmd"].split()[0].lower() if m["cmd"].strip() else ""
            hint = _SECTIONS.get(cmd, hint)
            cov.skip()
            continue
        if m := _BCD.match(ln):
            flush()
            obj += 1
            rows.append(
                {
                    "line": no,
                    "section": "bcdedit",
                    "object": obj,
                    "key": "hypervisorlaunchtype",
                    "value": m["value"],
                }
            )
            cov.ok()
            continue
        if _BCD_BLOCK.match(ln) or _ERROR_TAIL.match(ln):
            hint = "bcdedit" if _BCD_BLOCK.match(ln) else hint
            cov.skip()
            continue
        # a table: header line followed by a dashes line
        if not block and i < len(all_lines) and _DASHES.match(all_lines[i][1]) and not _DASHES.match(ln):
            i = _table(all_lines, i - 1, rows, cov, hint, obj)
            obj = max([obj] + [r["object"] for r in rows if r.get("object")])
            continue
        if (m := _ERROR.match(ln)) and m["cmd"].lower() in _SECTIONS:
            flush()
            obj += 1
            rows.append({"line": no, "section": _SECTIONS[m["cmd"].lower()], "object": obj, "key": "error",
                         "value": m["msg"].strip()})  # fmt: skip
            cov.ok()
            continue
        if block and ln[:1].isspace():  # wrapped value
            block[-1]["value"] += " " + ln.strip()
            cov.ok()
            continue
        if m := _LIST.match(ln):
            if not block:
                obj += 1
            block.append({"line": no, "object": obj, "key": m["key"].strip(), "value": m["value"].strip()})
            cov.ok()
            continue
        flush()
        cov.reject(no, ln)
    flush()
    return conform(rows, SCHEMA, cov)


def _table(
    all_lines: list[tuple[int, str]],
    i: int,
    rows: list[dict[str, Any]],
    cov: Coverage,
    hint: str | None,
    obj: int,
) -> int:
    """Read a PowerShell table whose header is at ``i``; return the index after it."""
    header, dashes = all_lines[i][1], all_lines[i + 1][1]
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]
    names = [header[a:b].strip() or header[a:].split()[0] for a, b in spans]
    starts = [a for a, _ in spans] + [10**9]
    section = _section_of(set(names), hint)
    cov.skip(2)
    j = i + 2
    while j < len(all_lines) and not BLANK.match(all_lines[j][1]):
        no, ln = all_lines[j]
        obj += 1
        values = [ln[starts[k] : starts[k + 1]].strip() for k in range(len(names))]
        name = values[names.index("Name")] if "Name" in names else None
        rows.extend(
            {"line": no, "section": section, "object": obj, "name": name, "key": k, "value": v}
            for k, v in zip(names, values, strict=True)
        )
        cov.ok()
        j += 1
    return j

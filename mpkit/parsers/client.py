"""What the failing ``multipass`` command printed (``client.txt``).

Input (a ``start`` that QEMU aborted, then a ``shell`` blocked by Local Network privacy)::

    start failed: The following errors occurred:
    qemu-system-aarch64: Error -22 while loading VM state
    primary: shutdown called while starting

    shell failed: ssh connection failed: 'Failed to connect: No route to host'

Rows (line, block, command, instance, kind, message, ssh_error)::

    1  0  start  NA       header                   The following errors occurred:
    2  0  start  primary  qemu-stderr              qemu-system-aarch64: Error -22 while loading VM state
    3  0  start  primary  shutdown-while-starting  shutdown called while starting
    5  1  shell  NA       ssh                      ssh connection failed: '…'   Failed to connect: No route to host

Blocks are command outputs separated by blank lines (a new ``<cmd> failed:`` line or a shell
prompt also starts one). Lines between a ``The following errors occurred:`` header and the
``<name>: <message>`` line are QEMU stderr and get that instance. Daemon log lines echoed by
``-v`` (``[2024-…] [debug] [x] …``) and their continuation lines are skipped: they belong to
the daemon log kind. Spinner progress lines (``Starting primary``) are kept as ``other``.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, lines

KIND = "client"
FRAME = "client"
FILENAMES = ("client.txt",)
PLATFORMS = ("macos", "linux", "windows")

KINDS = (
    "header",
    "timeout",
    "init-timeout",
    "shutdown-while-starting",
    "unknown-state",
    "ip-not-found",
    "ssh",
    "socket",
    "client-timeout",
    "qemu-stderr",
    "other",
)

SCHEMA = {
    "line": Column("int", "1-based line"),
    "block": Column("int", "0-based index of the command output (blocks are separated by blank lines)"),
    "command": Column("str", "the failing command (start, launch, shell, …) from `<cmd> failed:` or a prompt"),
    "instance": Column("str", "instance the line is about (`<name>: …` prefix or a quoted name), NA otherwise"),
    "kind": Column("category", "header / timeout / init-timeout / shutdown-while-starting / unknown-state / "
                   "ip-not-found / ssh / socket / client-timeout / qemu-stderr / other"),
    "message": Column("str", "the message without the `<cmd> failed:` / `<name>:` prefix"),
    "ssh_error": Column("str", "the quoted libssh / ssh error (`Failed to connect: No route to host`), NA otherwise"),
}  # fmt: skip

_HEADER_MSG = "The following errors occurred:"
#: `<cmd> failed: …` (the usual form) or `failed to <cmd>: …` (older releases)
_FAILED = re.compile(r"^(?:(?P<cmd>[a-z][a-z-]*) failed|failed to (?P<cmd2>[a-z][a-z-]*)): ?(?P<msg>.*)$")
_NAMED = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9-]*): (?P<msg>\S.*)$")
_QEMU = re.compile(r"^qemu(?:-system-[\w.-]+|-img)?: ")
_LOG = re.compile(r"^(?:\[\d{4}-\d\d-\d\dT[\d:.]+\] )?\[(?:error|warning|info|debug|trace)\] \[[^\]]*\]")
_PROMPT = re.compile(r"^(?:\S*[$%#>] ?)?(?:sudo )?multipass(?:\.exe)? +(?P<cmd>[a-z][a-z-]*)\b")
_PROGRESS = re.compile(
    r"^(?:Starting|Launching|Launched|Restarting|Stopping|Retrieving image|Preparing image|Verifying image|"
    r"Extracting image|Creating|Configuring|Initializing|Waiting for initialization|Mounting|Starting instance|"
    r"No instances found)\b"
)
_SPINNER = re.compile(r"(?:\x1b\[[0-9;?]*[A-Za-z]|[\x08])")
_JUNK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]")
_INSTANCE_IN_MSG = re.compile(r"\b[Ii]nstance ['\"](?P<name>[^'\"]+)['\"]")
_SSH_QUOTED = re.compile(r"'(?P<err>.*)'")
_SSH_OPENSSH = re.compile(r"ssh: connect to host \S+ port \d+: (?P<err>.+)$")
_NOT_NAMES = {"warning", "error", "note", "hint", "info", "debug", "fatal", "usage", "error(s)"}

#: (kind, pattern searched in the message), first match wins
_KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("header", re.compile(r"^The following errors occurred:")),
    ("init-timeout", re.compile(r"timed out waiting for initialization to complete")),
    ("client-timeout", re.compile(r"^Timed out waiting for instance\b")),
    ("timeout", re.compile(r"timed out waiting for response")),
    ("shutdown-while-starting", re.compile(r"shutdown called while starting|Instance shutdown during start|"
                                           r"Instance stopped while starting")),
    ("unknown-state", re.compile(r"already running, but in an unknown state|^Try to stop it first\.?$|"
                                 r"in unknown state")),
    ("ip-not-found", re.compile(r"failed to determine IP address|Could not determine IP address|IP not available")),
    ("ssh", re.compile(r"ssh connection failed|ssh failed to authenticate|ssh: connect to host")),
    ("socket", re.compile(r"multipass socket|multipass_socket|socket access denied|^Please ensure multipassd is running")),
    ("qemu-stderr", _QEMU),
)  # fmt: skip

LINE_RE = re.compile(
    r"^(?:[a-z][a-z-]* failed: .*|failed to [a-z][a-z-]*: .*"
    r"|[A-Za-z][A-Za-z0-9-]*: (?:timed out waiting for|shutdown called while starting|Instance shutdown during start"
    r"|Instance stopped while starting|IP not available|failed to determine IP address).*"
    r"|qemu-system-[\w.-]+: .*|Timed out waiting for instance.*)$"
)


def _kind_of(msg: str) -> str:
    for kind, pattern in _KIND_RULES:
        if pattern.search(msg):
            return kind
    return "other"


def _ssh_error(msg: str) -> str | None:
    m = _SSH_OPENSSH.search(msg)
    if m:
        return m.group("err")
    if "ssh" in msg:
        m = _SSH_QUOTED.search(msg)
        if m:
            return m.group("err")
    return None


def _clean(line: str) -> str:
    """Drop terminal escapes and spinner debris around a line."""
    text = _SPINNER.sub("", line).strip()
    text = re.sub(r"^[\\|/\-] (?=\S)", "", text)
    return re.sub(r" +[\\|/\-]$", "", text)


def _row(lineno: int, kind: str, msg: str, instance: str | None = None) -> dict[str, Any]:
    if instance is None:
        m = _INSTANCE_IN_MSG.search(msg)
        instance = m.group("name") if m else None
    return {"line": lineno, "kind": kind, "message": msg, "instance": instance, "ssh_error": _ssh_error(msg)}


def _named(text: str) -> tuple[str, str] | None:
    m = _NAMED.match(text)
    if not m or m.group("name").lower() in _NOT_NAMES or _QEMU.match(text):
        return None
    return m.group("name"), m.group("msg")


def _close_section(section: list[dict[str, Any]]) -> None:
    """End of an error list: a trailing unrecognised `<name>: msg` is the instance's own error;
    QEMU stderr rows take the instance of the next instance line (else the previous one)."""
    if section and section[-1]["kind"] == "pending":
        named = _named(section[-1]["message"])
        if named:
            section[-1].update(instance=named[0], message=named[1], kind="other")
    following: str | None = None
    for row in reversed(section):
        if row["kind"] == "pending":
            row["kind"] = "qemu-stderr"
        if row["kind"] == "qemu-stderr":
            row["instance"] = following
        elif row["instance"] is not None:
            following = row["instance"]
    previous: str | None = None
    for row in section:
        if row["kind"] != "qemu-stderr":
            previous = row["instance"] or previous
        elif row["instance"] is None:
            row["instance"] = previous
    section.clear()


def parse(text: str) -> pd.DataFrame:
    """What the failing ``multipass`` command printed (``client.txt``) as the ``client`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    block_rows: list[dict[str, Any]] = []  # rows of the current block, to decide "other" vs reject
    section: list[dict[str, Any]] = []  # rows after a header, until the block ends
    block, command = -1, None
    gap = in_log = block_used = False
    block_pre = True  # the block so far holds only a prompt, -v log lines and spinner progress
    in_section = section_has_instance = False

    def end_block() -> None:
        nonlocal in_section, section_has_instance
        _close_section(section)
        in_section = section_has_instance = False
        recognised = any(r["kind"] != "unknown" for r in block_rows)
        for r in block_rows:
            if r["kind"] == "unknown":
                if recognised:
                    r["kind"] = "other"
                else:
                    cov.reject(r["line"], r["message"])
                    continue
            cov.ok()
            rows.append(r)
        block_rows.clear()

    for lineno, raw in enumerate(lines(text), start=1):
        cov.lines += 1
        line = _clean(raw)
        if BLANK.match(line):
            cov.skip()
            gap = True
            continue
        is_log = bool(_LOG.match(line))
        failed = None if is_log else _FAILED.match(line)
        prompt = None if is_log or failed else _PROMPT.match(line)
        awaiting = in_section and not section_has_instance  # QEMU stderr may still be followed by `<name>:`
        if block < 0 or (prompt and block_used) or (not block_pre and (failed or (gap and not awaiting))):
            end_block()
            block, command, block_used, block_pre = block + 1, None, False, True
        gap, block_used = False, True
        if is_log or prompt:
            cov.skip()
            in_log = is_log
            command = prompt.group("cmd") if prompt else command
            continue
        if _JUNK.search(line):
            cov.reject(lineno, raw)
            continue
        row: dict[str, Any]
        if failed:
            command, msg = failed.group("cmd") or failed.group("cmd2"), failed.group("msg")
            row = _row(lineno, _kind_of(msg) if msg else "header", msg)
            if row["kind"] == "header":
                _close_section(section)
                in_section, section_has_instance = True, False
        else:
            kind = _kind_of(line)
            named = _named(line)
            if kind == "qemu-stderr":
                row = _row(lineno, kind, line, instance="")
            elif named and _kind_of(named[1]) != "other":
                row = _row(lineno, _kind_of(named[1]), named[1], instance=named[0])
            elif kind != "other":
                row = _row(lineno, kind, line)
            elif in_section:
                row = _row(lineno, "pending", line, instance="")
            elif _PROGRESS.match(line):
                row = _row(lineno, "progress", line, instance="")
            elif in_log:
                cov.skip()  # continuation of a daemon log line echoed by -v
                continue
            else:
                row = _row(lineno, "unknown", line)
            if row["instance"] == "":
                row["instance"] = None
        in_log = False
        if row["kind"] == "progress":
            row["kind"] = "other"
        else:
            block_pre = False
        row["command"], row["block"] = command, block
        if in_section:
            section.append(row)
            section_has_instance = section_has_instance or (
                row["instance"] is not None and row["kind"] not in ("qemu-stderr", "pending")
            )
        block_rows.append(row)
    end_block()
    rows.sort(key=lambda r: r["line"])
    return conform(rows, SCHEMA, cov)


_SNIFF_STRONG = re.compile(r"^[a-z][a-z-]* failed: \S")
_SNIFF_NAMED = re.compile(
    r"^[A-Za-z][A-Za-z0-9-]*: (?:timed out waiting for response|shutdown called while starting"
    r"|Instance shutdown during start|Instance stopped while starting|IP not available)"
)
_SNIFF_WEAK = re.compile(r"^Timed out waiting for instance (?:to start|launch)")
_SNIFF_OTHER = re.compile(r"^(?:Please ensure multipassd|Try to stop it first)")


def sniff(text: str) -> float:
    """High for a client error; lowered by the share of lines that are not client output."""
    head = [_clean(ln) for ln in lines(text[:100_000])[:300]]
    content = [ln for ln in head if not BLANK.match(ln)]
    if any(_SNIFF_STRONG.match(ln) for ln in content):
        score = 0.95
    elif any(_SNIFF_NAMED.match(ln) for ln in content):
        score = 0.85
    elif any(_SNIFF_WEAK.match(ln) for ln in content):
        score = 0.7
    else:
        return 0.0
    logs = sum(1 for ln in content if _LOG.match(ln))
    rest = [ln for ln in content if not _LOG.match(ln)]
    known = (_SNIFF_STRONG, _SNIFF_NAMED, _SNIFF_WEAK, _SNIFF_OTHER, _QEMU, _PROGRESS, _PROMPT)
    share = sum(1 for ln in rest if any(p.match(ln) for p in known)) / max(len(rest), 1)
    return score * (0.5 + 0.5 * share) * (1.0 - 0.5 * logs / len(content))

"""The parser registry: one module per artifact kind, listed in one place.

Every kind in :data:`KINDS` is parsed by the module of the same name, and
every such module provides the same contract (see
``mpkit/parsers/_base.py`` and the README's "How to add a parser"):

* ``KIND``: the artifact kind id (``"dhcpd_leases"``);
* ``FRAME``: the frame it feeds in :attr:`mpkit.Bundle.frames` (modules that
  share a frame share a schema: ``arp`` and ``ip_neigh`` both feed
  ``neighbours``);
* ``FILENAMES``: canonical file names (lower case, ``.txt`` optional);
* ``PLATFORMS``: the platforms whose output it reads;
* ``SCHEMA``: column → :class:`mpkit.schema.Column`;
* ``sniff(text) -> float``: 0..1, how sure it is that ``text`` is this artifact;
* ``LINE_RE``: a compiled regex matching the lines of this artifact, used to
  cut pasted text into parts (``None`` for whole-document formats such as JSON);
* ``parse(text) -> DataFrame``: pure; bad lines are counted, never fatal.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

import pandas as pd

#: every artifact kind, in sniffing priority order; each is parsed by the module of the same name
KINDS: tuple[str, ...] = (
    # Multipass's own logs and outputs
    "daemon_log",
    "journal_json",
    "journal_text",
    "windows_events",
    "client",
    "probe_attempts",
    "multipass_list",
    "multipass_list_text",
    "multipass_info",
    "multipass_info_text",
    "multipass_version",
    "local_driver",
    "vm_instances",
    # DHCP and neighbours
    "dhcpd_leases",
    "dnsmasq_leases",
    "bootpd_plist",
    "arp",
    "ip_neigh",
    "ifconfig",
    "ip_addr",
    "routes",
    # firewalls
    "firewall",
    "pf_rules",
    "host_firewall",
    # system logs and captures
    "unified_log",
    "tcpdump",
    "kernel_log",
    # host facts
    "sw_vers",
    "os_release",
    "winver",
    "uname",
    "hv_support",
    "df",
    "processes",
    "hyperv",
)


#: file names the bundle spec gives to one kind per platform (``sw_vers.txt`` holds ``sw_vers``
#: on macOS and ``/etc/os-release`` on Linux): the content decides which, and that is no surprise
SHARED_FILENAMES: dict[str, tuple[str, ...]] = {"sw_vers.txt": ("sw_vers", "os_release")}


@cache
def module(kind: str) -> ModuleType:
    """The parser module for ``kind`` (``KeyError`` for an unknown kind)."""
    if kind not in KINDS:
        raise KeyError(kind)
    return importlib.import_module(f"{__name__}.{kind}")


def kinds() -> list[str]:
    """Every registered artifact kind, in sniffing priority order."""
    return list(KINDS)


def parse(kind: str, text: str) -> pd.DataFrame:
    """Parse ``text`` as artifact ``kind``."""
    return module(kind).parse(text)


def frame_of(kind: str) -> str:
    """The frame that artifact ``kind`` feeds."""
    return str(module(kind).FRAME)

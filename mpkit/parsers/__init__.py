"""The parser registry: one module per artifact kind, listed in one place.

Every module in :data:`MODULES` provides the same contract (see
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

#: module name (in this package) for every artifact kind, in sniffing priority order
MODULES: dict[str, str] = {
    # Multipass's own logs and outputs
    "daemon_log": "daemon_log",
    "journal_json": "journal_json",
    "journal_text": "journal_text",
    "windows_events": "windows_events",
    "client": "client",
    "attempts": "attempts_jsonl",
    "list_json": "multipass_list",
    "list_text": "multipass_list_text",
    "info_json": "multipass_info",
    "info_text": "multipass_info_text",
    "version": "multipass_version",
    "local_driver": "local_driver",
    "vm_instances": "vm_instances",
    # DHCP and neighbours
    "dhcpd_leases": "dhcpd_leases",
    "dnsmasq_leases": "dnsmasq_leases",
    "bootpd_plist": "bootpd_plist",
    "arp": "arp",
    "ip_neigh": "ip_neigh",
    "ifconfig": "ifconfig",
    "ip_addr": "ip_addr",
    "routes": "routes",
    # firewalls
    "firewall": "firewall",
    "pf_rules": "pf_rules",
    "host_firewall": "host_firewall",
    # system logs and captures
    "unified_log": "unified_log",
    "tcpdump": "tcpdump",
    "kernel_log": "kernel_log",
    # host facts
    "sw_vers": "sw_vers",
    "os_release": "os_release",
    "winver": "winver",
    "uname": "uname",
    "hv_support": "hv_support",
    "df": "df",
    "processes": "processes",
    "hyperv": "hyperv",
}


@cache
def module(kind: str) -> ModuleType:
    """The parser module for ``kind`` (``KeyError`` for an unknown kind)."""
    name = MODULES[kind]
    return importlib.import_module(f"{__name__}.{name}")


def kinds() -> list[str]:
    """Every registered artifact kind, in sniffing priority order."""
    return list(MODULES)


def parse(kind: str, text: str) -> pd.DataFrame:
    """Parse ``text`` as artifact ``kind``."""
    return module(kind).parse(text)


def frame_of(kind: str) -> str:
    return str(module(kind).FRAME)

"""The information steps ``mpkit doctor`` can take, declared as data.

An :class:`InfoStep` is one read-only way to learn more: a few catalog
sources (named by the bundle file they write), a timed start attempt with
lease/ARP snapshots (and, as root, a bounded DHCP capture), or snapshots
without a start.  Each says which checks of the evidence table it can settle
(ids or ``fnmatch`` patterns; the checks whose ``rules/collect-next.json``
file the step writes are added), what it costs (seconds, intrusiveness
included) and whether it starts the instance or needs root.

The first look is the platform's catalog without :data:`SLOW_SOURCES` (log
queries that can take minutes); those are steps of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..i18n import N_

#: catalog sources left out of the first look: each can take minutes, so it is a step of its own
SLOW_SOURCES = frozenset({"bootpd.log", "unified.log", "windows-events.txt"})
#: sources read again after a start attempt: the daemon's log of the attempt and the state it left
AFTER_START = frozenset(
    {
        "journal.txt",
        "journal.json",
        "multipassd.log",
        "kernel.log",
        "processes.txt",
        "multipass-list.txt",
        "multipass-list.json",
        "multipass-info.json",
        "multipass-info.txt",
        "vm-instances.json",
    }
)


@dataclass(frozen=True)
class InfoStep:
    """One read-only step that can change the verdict."""

    id: str
    #: what the step does, for the person (``{instance}``, ``{bridge}``, ``{seconds}`` are filled in)
    title: str
    #: what it can tell
    why: str
    #: ``sources``: run catalog sources; ``attempt``: a timed start with snapshots; ``watch``: snapshots only
    mode: Literal["sources", "attempt", "watch"]
    platforms: tuple[str, ...] = ("linux", "macos", "windows")
    #: bundle files of the catalog sources it runs (``sources``)
    files: tuple[str, ...] = ()
    #: check ids (or fnmatch patterns) it can settle
    checks: tuple[str, ...] = ()
    #: cost in seconds, intrusiveness included; a step that starts the instance adds the start timeout
    cost_s: float = 10.0
    starts_instance: bool = False
    needs_root: bool = False
    #: how long ``watch`` snapshots
    seconds: float = 0.0


#: what a start attempt (and the snapshots taken during it) can settle
_ATTEMPT_CHECKS = (
    "attempt.*",
    "client.*",
    "guest.*",
    "instance.running-with-ip",
    "lease.for-instance",
    "lease.ff-identifiers",
    "arp.for-instance",
    "dhcp.requests-unanswered",
    "dhcp.no-discover-at-server",
)

STEPS: tuple[InfoStep, ...] = (
    InfoStep(
        "start-attempt",
        N_("Start {instance} once, snapshotting the leases and the ARP table every second"),
        N_(
            "shows the stage where the start stops, and whether the DHCP server answered the guest "
            "while it waited"
        ),
        "attempt",
        checks=_ATTEMPT_CHECKS,
        cost_s=30.0,
        starts_instance=True,
    ),
    InfoStep(
        "dhcp-capture",
        N_("Capture DHCP on {bridge} as root (bounded) while {instance} starts"),
        N_("shows whether the guest asks for an address and whether anything answers"),
        "attempt",
        platforms=("linux", "macos"),
        checks=("dhcp.requests-unanswered", "dhcp.no-discover-at-server", *_ATTEMPT_CHECKS),
        cost_s=40.0,
        starts_instance=True,
        needs_root=True,
    ),
    InfoStep(
        "root-sources",
        N_("Read what only root can read: {files}"),
        N_("the lease file, the firewall rules and the daemon's log are readable by root only"),
        "sources",
        cost_s=10.0,
        needs_root=True,
    ),
    InfoStep(
        "bootpd-log",
        N_("Read one window of bootpd's log (the macOS DHCP server)"),
        N_("shows each DHCP request from the guest and whether bootpd answered it"),
        "sources",
        platforms=("macos",),
        files=("bootpd.log",),
        checks=("dhcp.requests-unanswered",),
        cost_s=60.0,
        needs_root=True,
    ),
    InfoStep(
        "vmnet-log",
        N_("Read one window of the vmnet, Internet Sharing and firewall logs"),
        N_("shows vmnet errors and Local Network privacy decisions"),
        "sources",
        platforms=("macos",),
        files=("unified.log",),
        checks=("qemu.vmnet-*", "host.local-network-privacy"),
        cost_s=60.0,
        needs_root=True,
    ),
    InfoStep(
        "windows-events",
        N_("Read one window of Multipass's Windows event log"),
        N_("holds the daemon's own lines on Windows"),
        "sources",
        platforms=("windows",),
        files=("windows-events.txt",),
        checks=("attempt.*",),
        cost_s=60.0,
        needs_root=True,
    ),
    InfoStep(
        "watch",
        N_("Snapshot the leases and the ARP table for {seconds:g} s without starting anything"),
        N_("shows whether a guest that is already booting gets an address"),
        "watch",
        checks=("lease.for-instance", "arp.for-instance", "dhcp.requests-unanswered"),
        cost_s=25.0,
        seconds=20.0,
    ),
)


def steps_for(platform: str | None) -> list[InfoStep]:
    """The information steps that exist on ``platform`` (all of them when it is unknown)."""
    return [s for s in STEPS if platform is None or platform in s.platforms]

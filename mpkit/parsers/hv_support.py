"""Hypervisor support on macOS: ``sysctl kern.hv_support`` (and related keys).

::

    kern.hv_support: 1
    kern.hv_vmm_present: 0

gives rows ``key=kern.hv_support value=1`` and ``key=kern.hv_vmm_present
value=0``.  Any ``sysctl`` line of the form ``a.b: value`` is read
(``hw.optional.arm64``, ``sysctl.proc_translated``); ``sysctl: unknown oid
'kern.hv_support'`` gives ``key=sysctl.error``; a lone ``0``/``1`` (``sysctl
-n``) is read as ``kern.hv_support``.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import frames
from ._base import facts_frame, fraction_matching

KIND = "hv_support"
FRAME = "host_facts"
FILENAMES = ("hv_support.txt",)
PLATFORMS = ("macos",)
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(r"^\s*(?P<key>[a-z][\w-]*(?:\.[\w-]+)+)\s*[:=]\s*(?P<value>.*?)\s*$")
_ERROR = re.compile(r"^\s*sysctl:\s*(?P<msg>.*?)\s*$")
_BARE = re.compile(r"^\s*(?P<value>[01])\s*$")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is hypervisor support on macOS: ``sysctl kern.hv_support`` (and related keys)."""
    head = text[:200_000]
    if not re.search(r"^\s*(?:kern\.hv_\w+|sysctl: unknown oid 'kern\.hv)", head, re.M):
        return 0.0
    return fraction_matching(text, re.compile(f"{LINE_RE.pattern}|{_ERROR.pattern}"))


def parse(text: str) -> pd.DataFrame:
    """Hypervisor support on macOS: ``sysctl kern.hv_support`` (and related keys) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""

    def facts(ln: str) -> list[tuple[str, str]] | None:
        if m := LINE_RE.match(ln):
            return [(m["key"], m["value"])]
        if m := _ERROR.match(ln):
            return [("sysctl.error", m["msg"])]
        if m := _BARE.match(ln):
            return [("kern.hv_support", m["value"])]
        return None

    return facts_frame(text, SCHEMA, facts)

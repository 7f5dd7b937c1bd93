"""Kernel and machine: ``uname -a`` (Darwin, Linux, MSYS/MINGW).

::

    Linux myhost 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux

gives rows ``kernel_name=Linux``, ``hostname=myhost``,
``kernel_release=6.8.0-45-generic``, ``kernel_version=#45-Ubuntu SMP …
2024``, ``machine=x86_64``, ``processor=x86_64``,
``hardware_platform=x86_64`` and ``operating_system=GNU/Linux`` (the last
three only when printed; Darwin prints just ``machine``).
"""

from __future__ import annotations

import re

import pandas as pd

from .. import frames
from ._base import facts_frame, fraction_matching

KIND = "uname"
FRAME = "host_facts"
FILENAMES = ("uname.txt",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.HOST_FACTS

_ARCH = r"(?:x86_64|amd64|i[3-6]86|aarch64|arm64|armv\w+|ppc64\w*|s390x|riscv64|unknown)"
LINE_RE = re.compile(
    r"^(?P<kernel_name>Darwin|Linux|FreeBSD|MINGW\S*|MSYS\S*|CYGWIN\S*)\s+(?P<hostname>\S+)\s+(?P<kernel_release>\S+)"
    rf"\s+(?P<kernel_version>.*?)\s+(?P<machine>{_ARCH})(?:\s+(?P<processor>{_ARCH}))?"
    rf"(?:\s+(?P<hardware_platform>{_ARCH}))?(?:\s+(?P<operating_system>GNU/Linux|Linux|Msys|Cygwin|Android))?\s*$"
)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is kernel and machine: ``uname -a`` (Darwin, Linux, MSYS/MINGW)."""
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """Kernel and machine: ``uname -a`` (Darwin, Linux, MSYS/MINGW) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""

    def facts(ln: str) -> list[tuple[str, str]] | None:
        m = LINE_RE.match(ln)
        return [(k, v) for k, v in m.groupdict().items() if v] if m else None

    return facts_frame(text, SCHEMA, facts)

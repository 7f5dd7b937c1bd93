"""``multipass get local.driver`` → the ``host_facts`` frame (key ``local.driver``).

Input::

    qemu

Rows (line, key, value)::

    1  local.driver  qemu

Any single word is taken as the value (``<empty>`` is what ``get`` prints for an unset key);
other lines are rejected. Sniffing is strict: only a lone known driver name scores.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, lines, numbered

KIND = "local_driver"
FRAME = "host_facts"
FILENAMES = ("local-driver.txt",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.HOST_FACTS

DRIVERS = ("qemu", "hyperkit", "virtualbox", "hyperv", "lxd", "libvirt", "applevz")
LINE_RE = re.compile(rf"^(?:{'|'.join(DRIVERS)})$")
_WORD = re.compile(r"^[A-Za-z0-9_.<>-]+$")


def parse(text: str) -> pd.DataFrame:
    """``multipass get local.driver`` as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for lineno, line in numbered(text, cov):
        value = line.strip()
        if BLANK.match(line):
            cov.skip()
        elif not rows and _WORD.match(value):
            rows.append({"line": lineno, "key": "local.driver", "value": value})
            cov.ok()
        else:
            cov.reject(lineno, line)
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``multipass get local.driver``."""
    if len(text) > 200:
        return 0.0
    content = [ln.strip() for ln in lines(text) if not BLANK.match(ln)]
    return 0.9 if len(content) == 1 and LINE_RE.match(content[0]) else 0.0

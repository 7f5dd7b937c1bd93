"""Small regex helpers shared by the library."""

from __future__ import annotations

import re

_GROUP = re.compile(r"(?<!\\)\((?:\?P<\w+>|(?!\?))")
_WS = " \\t\\n\\r\\f\\v"
_CLASS_OUTSIDE = {"d": "[0-9]", "D": "[^0-9]", "s": f"[{_WS}]", "S": f"[^{_WS}]"}
_CLASS_INSIDE = {"d": "0-9", "s": _WS}


def non_capturing(pattern: str) -> str:
    """``pattern`` with every capturing (plain or named) group made non-capturing.

    pandas' ``str.contains`` warns about capturing groups, and alternations of
    several patterns must not repeat a group name.

    >>> non_capturing(r"(a|b)(?P<x>c)\\(d\\)(?:e)")
    '(?:a|b)(?:c)\\\\(d\\\\)(?:e)'
    """
    return _GROUP.sub("(?:", pattern)


def for_arrow(pattern: str) -> str:
    """``pattern`` in a form pandas runs with pyarrow's RE2 instead of Python's ``re``.

    Groups become non-capturing, and ``\\d``/``\\s``/``\\S``/``\\D`` become explicit
    ASCII classes (pandas falls back to a per-row Python loop for those, which
    on a large log is a hundred times slower).

    >>> for_arrow(r"^(\\S+) needs [\\d.]+\\s")
    '^(?:[^ \\\\t\\\\n\\\\r\\\\f\\\\v]+) needs [0-9.]+[ \\\\t\\\\n\\\\r\\\\f\\\\v]'
    """
    out: list[str] = []
    i, in_class = 0, False
    pat = non_capturing(pattern)
    while i < len(pat):
        ch = pat[i]
        if ch == "\\" and i + 1 < len(pat):
            nxt = pat[i + 1]
            table = _CLASS_INSIDE if in_class else _CLASS_OUTSIDE
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] not in ("[", "[^"):
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)

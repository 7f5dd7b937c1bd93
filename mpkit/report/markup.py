"""HTML building blocks shared by the views, the exported page and the fleet index.

Every value goes through :func:`esc`; :class:`Html` is what the notebook displays. :func:`page`
wraps a body in a complete, self-contained document (no script, a CSP that forbids scripts and
every network fetch).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

from .. import plots
from ..i18n import N_, _, current_language

HTML_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; font-src 'none'; "
    "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)


class Html:
    """An HTML fragment for notebook display (``_repr_html_``); built only from escaped values."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # what a plain-text front end shows
        return re.sub(r"<[^>]+>", "", self.markup)[:2000]


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (None / NaN / NaT → empty)."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def clip(s: Any, n: int) -> str:
    """``s`` as text of at most ``n`` characters (an ellipsis marks the cut)."""
    s = "" if s is None else str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def empty_note(message: str) -> str:
    """The paragraph a view shows instead of a table with no row."""
    return f'<p class="empty">{esc(message)}</p>'


def table(
    df: pd.DataFrame, *, max_rows: int = 60, empty: str = N_("nothing to show"), cls: str = "data"
) -> str:
    """``df`` as an escaped HTML table of at most ``max_rows`` rows (with a note on the rest)."""
    if df is None or df.empty:
        return f'<p class="empty">{esc(_(empty))}</p>'
    shown = df.head(max_rows).astype("object")
    shown = shown.where(shown.notna(), "")
    body = shown.to_html(index=False, escape=True, border=0, classes=cls, na_rep="", justify="left")
    if len(df) > max_rows:
        more = _("{n} more rows not shown (see the frames / --json export)").format(n=len(df) - max_rows)
        body += f'<p class="more">{esc(more)}</p>'
    return body


def link(url: str) -> str:
    """An ``http(s)`` URL as a link that sends no referrer; anything else as plain escaped text."""
    if re.match(r"^https?://[^\s\"'<>]+$", url or ""):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(url)}</a>'
    return esc(url)


def fmt_time(v: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS`` on the bundle's clock (tz-aware → UTC); empty when unknown."""
    t = plots.plain_times(pd.Series([v])).iloc[0]
    return "" if t is pd.NaT else t.strftime("%Y-%m-%d %H:%M:%S")


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--bad:#b3261e;--warn:#9a5b00;--ok:#1a7f37}
body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1100px;margin:0 auto;padding:1.5em 2em 4em}
h1{font-size:1.7em;margin:.2em 0 .5em}h2{font-size:1.35em;border-bottom:1px solid var(--line);padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.1em}h4{margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px;max-width:100%;display:block;overflow-x:auto}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;word-break:break-word}
thead th{background:#f6f8fa}table.facts th{background:#f6f8fa;white-space:nowrap}
code,pre{font:12.5px/1.4 "DejaVu Sans Mono",Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.5em .8em;overflow-x:auto;white-space:pre-wrap}
img{max-width:100%;height:auto;display:block;margin:.5em 0 1em}
.verdict{border:2px solid #1565c0;border-radius:8px;padding:.8em 1.2em;margin:1em 0;background:#f3f8fe}
.verdict.unknown{border-color:#757575;background:#f7f7f7}.verdict h2{border:0;margin:.1em 0 .3em}
.cause-label{margin:0;color:var(--muted);text-transform:uppercase;font-size:12px;letter-spacing:.05em}.cause-id{color:var(--muted);font-weight:normal;font-size:.8em}
.state-fail td.state{color:var(--bad);font-weight:bold}.state-warn td.state{color:var(--warn);font-weight:bold}.state-pass td.state{color:var(--ok)}
td.state{white-space:nowrap}.destructive{color:var(--bad)}.empty,.more,.note{color:var(--muted);font-style:italic}
.mpkit-error-banner{border:3px solid var(--bad);background:#fdecea;color:#5f1410;padding:1em 1.2em;border-radius:8px;margin:1em 0}
.mpkit-error-banner h2{border:0;margin:0 0 .3em;color:var(--bad)}
.output_error pre,.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] pre{background:#fdecea}
.ansi-red-fg{color:#b3261e}.ansi-green-fg{color:#1a7f37}.ansi-yellow-fg{color:#9a5b00}.ansi-blue-fg{color:#0b57d0}.ansi-cyan-fg{color:#00838f}
.ansi-bold{font-weight:bold}
details{margin:.5em 0 1em}summary{cursor:pointer;color:#0b57d0}
footer{color:var(--muted);font-size:12px;margin-top:3em;border-top:1px solid var(--line);padding-top:.5em}
"""


#: fonts for Chinese text, tried in order (the first is Debian's fonts-noto-cjk); installed fonts
#: only, nothing is fetched
CJK_FONTS = '"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Hiragino Sans GB","Microsoft YaHei"'
#: the extra style of a page in Chinese: the Latin font first (DejaVu for code), then a CJK font
CSS_ZH = (
    f'body{{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",{CJK_FONTS},Arial,sans-serif}}'
    f'code,pre{{font-family:"DejaVu Sans Mono",Menlo,Consolas,"Noto Sans Mono CJK SC",{CJK_FONTS},monospace}}'
    # Chinese can break between any two characters, so cells are sized by their words instead
    "th,td{word-break:normal;overflow-wrap:break-word}thead th{white-space:nowrap}"
)


def page(title: str, body: str, *, banner: str = "", lang: str | None = None) -> str:
    """A complete, self-contained HTML document: no script, a CSP that forbids scripts and fetches.

    ``lang`` (default: the current language) goes into ``<html lang>``; a Chinese page also gets a
    font stack with a CJK font.
    """
    lang = lang or current_language()
    css = CSS + (CSS_ZH if lang == "zh-CN" else "")
    footer = _(
        "Made by mpkit from a diagnostic bundle. This file has no scripts and loads nothing from the network."
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{HTML_CSP}">'
        '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head>\n<body><main>{banner}{body}"
        f"<footer>{esc(footer)}</footer>"
        "</main></body></html>\n"
    )

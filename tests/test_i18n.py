"""Languages: how the language is chosen, the zh-CN catalog (complete, compiled, placeholders kept),
every text translated at run time, the English output and the JSON contract unchanged, prevention
advice, charts drawn with a CJK font, and zh-CN reports in headless Chromium rendered with a CJK
font and no English heading left."""

from __future__ import annotations

import gettext
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

import mpkit
from conftest import CASES_DIR, DATA, ROOT
from mpkit import i18n, i18n_catalog, plots
from mpkit import report as R
from mpkit.diagnose import causes, prevention, rules
from mpkit.errors import ReportError
from mpkit.i18n import Message, language, localize, normalize_language, resolve_language, set_language
from mpkit.render import render_text

SAMPLES = ["sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"]
GOLDEN_TEXT = ROOT / "tests" / "golden" / "text"
#: CJK ideographs, CJK punctuation and full-width forms
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: texts passed through gettext that are the same in every language (not catalog messages)
SAME_IN_EVERY_LANGUAGE = {"UTC", "Multipass", "-"}


@pytest.fixture(autouse=True)
def _forget_language() -> Iterator[None]:
    """Every test starts and ends with the language chosen by the environment."""
    set_language(None)
    yield
    set_language(None)


def _mpkit(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = f"import sys\nfrom mpkit.cli import main\nsys.exit(main({list(argv)!r}))\n"
    full = {k: v for k, v in os.environ.items() if k not in ("MPKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=full, cwd=ROOT
    )


# -- choosing the language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "lang"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_CN.UTF-8", "zh-CN"),
        ("zh_CN.utf8@pinyin", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh", "zh-CN"),
        ("en", "en"),
        ("en_GB.UTF-8", "en"),
        ("C", "en"),
        ("POSIX", "en"),
        ("C.UTF-8", "en"),
        ("fr_FR.UTF-8", None),
        ("zh_TW.UTF-8", None),
        ("", None),
    ],
)
def test_language_names(value: str, lang: str | None) -> None:
    assert normalize_language(value) == lang


@pytest.mark.parametrize(
    ("explicit", "env", "lang"),
    [
        (None, {}, "en"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        (None, {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh-CN"),
        (None, {"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
        (None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh-CN"),
        (None, {"MPKIT_LANG": "zh-CN", "LC_ALL": "en_US.UTF-8"}, "zh-CN"),
        (None, {"MPKIT_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),  # a language mpkit does not speak: English
        (None, {"MPKIT_LANG": "", "LANG": "zh_CN.UTF-8"}, "zh-CN"),  # empty means unset
        ("en", {"MPKIT_LANG": "zh-CN", "LC_ALL": "zh_CN.UTF-8"}, "en"),
        ("zh-CN", {"MPKIT_LANG": "en"}, "zh-CN"),
    ],
)
def test_resolution_order(explicit: str | None, env: dict[str, str], lang: str) -> None:
    assert resolve_language(explicit, env) == lang


def test_explicit_language_must_be_supported() -> None:
    with pytest.raises(ValueError, match="zh-CN"):
        resolve_language("fr")
    with pytest.raises(ValueError):
        set_language("klingon")
    out = _mpkit("diagnose", str(DATA / "healthy-start"), "--lang", "fr")
    assert out.returncode == 2 and "fr" in out.stderr and "zh-CN" in out.stderr


def test_set_language_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPKIT_LANG", "zh-CN")
    assert i18n.current_language() == "zh-CN"
    with language("en"):
        assert i18n.current_language() == "en"
        assert i18n._("Checks") == "Checks"
    assert i18n.current_language() == "zh-CN" and i18n._("Checks") == "检查项"
    assert set_language("en") == "en" and i18n.current_language() == "en"


def test_cli_language_from_flag_environment_and_locale() -> None:
    healthy = str(DATA / "healthy-start")
    en = _mpkit("diagnose", healthy)
    assert en.returncode == 0 and en.stdout.startswith("mpkit diagnosis: instance")
    for argv, env in (
        (("diagnose", healthy, "--lang", "zh-CN"), {}),
        (("--lang", "zh-CN", "diagnose", healthy), {}),
        (("diagnose", healthy), {"MPKIT_LANG": "zh-CN"}),
        (("diagnose", healthy), {"LANG": "zh_CN.UTF-8"}),
    ):
        zh = _mpkit(*argv, env=env)
        assert zh.returncode == 0, zh.stderr
        assert zh.stdout.startswith("mpkit 诊断：实例"), (argv, env, zh.stdout[:80])
    assert _mpkit("diagnose", healthy, "--lang", "en", env={"LANG": "zh_CN.UTF-8"}).stdout == en.stdout
    # the help is translated too, and errors say what to do in the chosen language
    assert "诊断无法启动的 Multipass 实例" in _mpkit("--lang", "zh-CN", "--help").stdout
    err = _mpkit("--lang", "zh-CN", "diagnose", "/nonexistent/bundle")
    assert err.returncode == 2 and "文件或目录不存在" in err.stderr


# -- the catalog ------------------------------------------------------------------------------------


def test_catalog_is_complete_compiled_and_keeps_placeholders() -> None:
    """Every message extracted from the sources has a zh-CN translation (none fuzzy), each keeps the
    same ``{placeholders}``, and the committed ``.mo`` is what the ``.po`` compiles to."""
    problems = i18n_catalog.problems("zh-CN")
    assert problems == [], "\n".join(problems[:40]) + "\n(update: python -m mpkit.i18n_catalog update)"


def test_catalog_covers_every_source_kind() -> None:
    """The template holds messages from code, f-strings, check titles, rules data and the notebook."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in i18n_catalog.build_template() if m.id}
    cz = causes()
    assert cz["ip-discovery-failed"]["title"] in ids and cz["ip-discovery-failed"]["summary"] in ids
    assert all(s["text"] in ids for c in cz.values() for s in c["remediation"] + c.get("prevention", []))
    assert all(s["warning"] in ids for c in cz.values() for s in c["remediation"] if s.get("warning"))
    assert {s.text for s in prevention()} <= ids
    assert all(r["message"] in ids for r in rules())
    assert "## 1. Verdict" in ids and "### Checklist" in ids  # the notebook's headings
    assert "Evidence:" in ids  # a call inside an f-string
    assert "a DHCP lease exists for the instance" in ids  # a check title from @check(...)
    assert "{command} (while starting the instance)" in ids  # a note at the end of a command


def test_placeholder_check_catches_a_lost_field() -> None:
    assert i18n_catalog.placeholders("{n} of {total:.1f} (%(x)s) {{literal}}") == {
        "{n}",
        "{total:.1f}",
        "%(x)s",
    }
    assert i18n_catalog.placeholders("共 {total:.1f}") != i18n_catalog.placeholders("{n} of {total:.1f}")


def test_compiled_catalog_ships_in_the_package() -> None:
    mo = resources.files("mpkit") / "locale" / "zh_CN" / "LC_MESSAGES" / "mpkit.mo"
    assert mo.is_file()
    cat = gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    assert cat.gettext("Checks") == "检查项"
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["mpkit"]
    assert "locale/*/LC_MESSAGES/*.mo" in data
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(r.startswith("babel") for r in extra), "Babel extracts and compiles the catalogs"


# -- messages -----------------------------------------------------------------------------------------


def test_message_is_english_and_can_be_said_again() -> None:
    m = Message("{n} lease(s) with hw_address=ff,…", n=2)
    assert m == "2 lease(s) with hw_address=ff,…"
    assert json.dumps(m, ensure_ascii=False) == '"2 lease(s) with hw_address=ff,…"'
    assert Message("lease {ip} for {mac}", ip="10.0.0.2", mac=None) == "lease 10.0.0.2 for ?"
    joined = Message.joined("; ", [m, "x{y}"])
    assert joined == "2 lease(s) with hw_address=ff,…; x{y}"
    back = pickle.loads(pickle.dumps(joined))
    with language("zh-CN"):
        assert localize(back) == "2 条租约的 hw_address=ff,…；x{y}"
        assert localize("not a message") == "not a message"
    assert localize(back) == str(back)


# -- the JSON contract and the English output ----------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_json_contract_is_never_translated(sample: str) -> None:
    """``diagnose --json`` is byte-identical in every language and equals the golden contract."""
    path = str(DATA / sample)
    en = _mpkit("diagnose", path, "--json")
    zh = _mpkit("diagnose", path, "--json", "--lang", "zh-CN")
    env = _mpkit("diagnose", path, "--json", env={"MPKIT_LANG": "zh-CN", "LANG": "zh_CN.UTF-8"})
    assert en.returncode == zh.returncode == env.returncode == 0
    assert en.stdout == zh.stdout == env.stdout
    assert not CJK.search(zh.stdout)
    golden = json.loads((ROOT / "tests" / "golden" / f"{sample}.json").read_text())
    assert json.loads(zh.stdout) == golden


@pytest.mark.parametrize("sample", SAMPLES)
def test_english_terminal_output_is_unchanged(sample: str) -> None:
    """The English checklist, verdict and ladder are exactly what they were (regenerate with
    MPKIT_REGEN=1 and review), whatever language the environment names."""
    d = mpkit.diagnose(DATA / sample)
    with language("en"):
        got = render_text(d, verbose=True)
    path = GOLDEN_TEXT / f"{sample}.txt"
    if os.environ.get("MPKIT_REGEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
    assert not CJK.search(got)


@pytest.mark.parametrize("sample", SAMPLES)
def test_chinese_terminal_output(sample: str) -> None:
    d = mpkit.diagnose(DATA / sample)
    with language("zh-CN"):
        text = render_text(d, verbose=True)
    assert text.startswith("mpkit 诊断：实例")
    for heading in ("Checks", "Verdict:", "Evidence", "What to do", "What to collect next", "Notes"):
        assert not re.search(rf"^{re.escape(heading)}", text, re.M), heading
    assert "检查项" in text and "结论：" in text
    assert d.root_cause.id in text, "ids stay as they are"
    for step in d.root_cause.remediation:
        if step.command:
            assert step.command in text, "commands stay as they are"
    # checklist marks line up in a terminal, wide characters counted twice
    marks = re.findall(r"^  \[(.+?)\] ", text, re.M)
    assert marks and all(sum(2 if CJK.match(ch) else 1 for ch in m) == 5 for m in marks), marks


# -- every text said in zh-CN at run time --------------------------------------------------------------


class _Recorder(gettext.NullTranslations):
    """The zh-CN catalog, recording every text asked for that it does not hold."""

    def __init__(self, real: gettext.NullTranslations) -> None:
        super().__init__()
        self.real = real
        self.catalog: dict[Any, str] = getattr(real, "_catalog", {})
        self.missing: set[str] = set()

    def gettext(self, message: str) -> str:
        if message not in self.catalog and message not in SAME_IN_EVERY_LANGUAGE:
            self.missing.add(message)
        return self.real.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if (singular, 0) not in self.catalog:
            self.missing.add(singular)
        return self.real.ngettext(singular, plural, n)


def _library_inputs(limit: int = 60) -> list[Path]:
    found = [DATA / s for s in SAMPLES]
    found += sorted(p for p in (ROOT / "data" / "cases").iterdir() if p.is_dir())[:limit]
    if CASES_DIR.is_dir():
        found += sorted(p for p in CASES_DIR.iterdir() if (p / "expected.json").exists())[:20]
    return found


def test_every_text_shown_has_a_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Terminal output, report views, charts, fleet index, explorer and CLI help, rendered in zh-CN
    for the samples and library cases, ask the catalog only for texts it holds."""
    rec = _Recorder(i18n.translations("zh-CN"))
    monkeypatch.setattr(
        i18n, "translations", lambda lang: rec if lang == "zh-CN" else gettext.NullTranslations()
    )
    set_language("zh-CN")
    for path in _library_inputs():
        d = mpkit.diagnose(path)
        render_text(d, verbose=True)
        for s in d.root_cause.prevention:
            localize(s.render())
    for sample in SAMPLES:
        ctx = R.prepare(bundle=str(DATA / sample), lang="zh-CN")
        d = mpkit.diagnose(ctx.bundle, instance=ctx.instance, attempt=ctx.attempt)
        ctx = R.focus(ctx, d)
        for view in (
            R.header,
            R.verdict,
            R.checklist,
            R.remediation,
            R.collect_next,
            R.attempts_table,
            R.dhcp_table,
            R.log_excerpt,
            R.host_versions,
            R.interfaces_table,
            R.routes_table,
            R.firewall_table,
            R.evidence_table,
            R.data_coverage,
            R.prevention,
        ):
            view(ctx)
        plots.candidates_chart(d)
        plots.attempts_gantt(ctx.attempts, tz=ctx.tz)
        plots.dhcp_story(
            ctx.frame("leases"), ctx.frame("neighbours"), ctx.dhcp_messages, mac=ctx.mac, tz=ctx.tz
        )
        plots.log_activity(ctx.frame("daemon_log"), ctx.attempts, tz=ctx.tz)
        plots.coverage_chart(ctx.coverage)
    summary = pd.DataFrame(
        [{"bundle": "a", "ok": True, "cause": "no failure found", "report": "reports/a.html"}],
        columns=R.FLEET_COLUMNS,
    )
    R.fleet_index(summary)
    from mpkit.cli import build_parser
    from mpkit.widgets import Explorer

    parser = build_parser()
    parser.format_help()
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        sub.format_help()
    Explorer(DATA / "sequoia-ip-discovery").refresh()
    assert rec.missing == set(), sorted(rec.missing)[:30]


# -- prevention -----------------------------------------------------------------------------------------


def test_causes_that_recur_after_updates_carry_prevention() -> None:
    cz = causes()
    recurring = {c for c, v in cz.items() if v.get("recurs_after_update")}
    assert {
        "ip-discovery-failed",
        "local-network-privacy-denied",
        "firewall-blocks-bootpd",
        "vmnet-interface-creation-failed",
        "suspend-state-incompatible",
    } <= recurring
    assert "unknown" not in recurring and "cloud-init-breaks-ssh" not in recurring
    general = prevention(platform="macos", instance="dev")
    texts = " ".join(s.text for s in general)
    assert "multipass snapshot dev" in " ".join(s.command or "" for s in general)
    assert "compatibility notes" in texts and "Keep Multipass current" in texts
    for cid in recurring:
        steps = prevention(cid, platform="macos", instance="dev")
        assert set(general) <= set(steps), cid
        assert len(steps) == len(set(steps)), f"{cid}: a step is repeated"
    assert prevention("cloud-init-breaks-ssh") == ()


def test_default_sample_verdict_ends_with_prevention_in_both_languages() -> None:
    d = mpkit.diagnose(mpkit.sample())
    assert d.root_cause.id == "ip-discovery-failed" and d.root_cause.prevention
    assert "prevention" not in json.dumps(d.to_dict()), "the JSON contract has no prevention field"
    en = render_text(d)
    tail = en.split("Before the next OS or Multipass update")[1]
    assert (
        "multipass snapshot dev" in tail
        and "compatibility notes" in tail
        and "Keep Multipass current" in tail
    )
    with language("zh-CN"):
        zh = render_text(d)
    assert "下次更新操作系统或 Multipass 之前" in zh and "multipass snapshot dev" in zh and "兼容性说明" in zh
    healthy = mpkit.diagnose(DATA / "healthy-start")
    assert healthy.root_cause.prevention == () and "Before the next" not in render_text(healthy)


# -- HTML pages -----------------------------------------------------------------------------------------


def test_page_language_and_fonts() -> None:
    en = R.page("t", "<p>x</p>")
    assert '<html lang="en">' in en and "CJK" not in en
    with language("zh-CN"):
        zh = R.page("t", "<p>x</p>")
    assert '<html lang="zh-CN">' in zh and '"Noto Sans CJK SC"' in zh
    assert "由 mpkit 根据诊断包生成" in zh


def test_error_banner_in_chinese() -> None:
    from mpkit.report import run as RUN

    with language("zh-CN"):
        banner = RUN._error_banner(RuntimeError("kaputt <b>"))
    assert "这份报告不完整" in banner and "报告中的某一步失败了" in banner
    assert "kaputt &lt;b&gt;" in banner and "RuntimeError" in banner


def test_report_parameter_lang() -> None:
    assert R.validate_parameters({})["lang"] == "en"
    assert R.validate_parameters({"lang": "zh_CN.UTF-8"})["lang"] == "zh-CN"
    with pytest.raises(ReportError, match="lang"):
        R.validate_parameters({"lang": "fr"})


def test_without_a_cjk_font_charts_keep_english_and_the_report_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    ctx = R.prepare(bundle=str(DATA / "healthy-start"), lang="zh-CN")
    assert plots.chart_language() == "en"
    fig = plots.coverage_chart(ctx.coverage)
    assert fig.axes[0].get_title(loc="left").startswith("Parse coverage per file")
    assert any("fonts-noto-cjk" in str(n) for n in ctx.notes)
    assert "fonts-noto-cjk" in str(R.header(ctx)) and "图表保留英文标签" in str(R.header(ctx))


def _svg_glyphs(fig: Any) -> tuple[set[str], set[str]]:
    """The text a figure draws (CJK characters) and the glyph outlines its SVG embeds."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "mpkit"}):
        fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    texts = "".join(re.findall(r"<!-- (.*?) -->", svg, re.S))
    return set(CJK.findall(texts)), set(re.findall(r'<path id="([^"]+)"', svg))


@pytest.mark.parametrize("sample", SAMPLES)
def test_zh_charts_are_drawn_with_a_cjk_font(sample: str) -> None:
    """Each chart's Chinese labels are drawn with glyphs of an installed CJK font (no missing
    glyph: matplotlib's warning would fail the test too); English charts stay English."""
    assert plots.cjk_font() is not None, (
        "no CJK font: install Debian's fonts-noto-cjk (scripts/install-system-deps.sh)"
    )
    ctx = R.prepare(bundle=str(DATA / sample), lang="zh-CN")
    d = mpkit.diagnose(ctx.bundle)
    ctx = R.focus(ctx, d)
    figs = [
        plots.candidates_chart(d),
        plots.attempts_gantt(ctx.attempts, tz=ctx.tz),
        plots.dhcp_story(
            ctx.frame("leases"), ctx.frame("neighbours"), ctx.dhcp_messages, mac=ctx.mac, tz=ctx.tz
        ),
        plots.log_activity(ctx.frame("daemon_log"), ctx.attempts, tz=ctx.tz),
        plots.coverage_chart(ctx.coverage),
    ]
    for fig in figs:
        chars, glyphs = _svg_glyphs(fig)
        cjk_glyphs = {g for g in glyphs if "CJK" in g}
        assert chars, f"{fig.alt_text()}: no Chinese text"
        assert len(cjk_glyphs) >= len(chars), (fig.alt_text(), sorted(chars), sorted(cjk_glyphs)[:5])
        assert not [g for g in glyphs if g.endswith("-0")], "a .notdef (missing) glyph was drawn"
    set_language("en")
    chars, glyphs = _svg_glyphs(plots.candidates_chart(d))
    assert not chars and not [g for g in glyphs if "CJK" in g]


# -- zh-CN reports in a browser ---------------------------------------------------------------------------

HEADINGS = "Array.from(document.querySelectorAll('h1,h2,h3,h4')).map(h => h.textContent.trim())"


def _zh_report(tmp_path_factory: pytest.TempPathFactory, sample: str) -> Path:
    out = tmp_path_factory.getbasetemp() / "mpkit-zh-reports" / f"{sample}.html"
    if not out.exists():  # through the command line, as a user writes it
        run = _mpkit(
            "report", str(DATA / sample), "-o", str(out), "--lang", "zh-CN", "--keep-notebook", "--quiet"
        )
        assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from test_browser import CHROMIUM, Browser

    if CHROMIUM is None:
        pytest.skip("chromium not installed (scripts/install-system-deps.sh)")
    b = Browser(tmp_path_factory.mktemp("chromium-zh"))
    b.call("DOM.enable")
    b.call("CSS.enable")
    yield b
    b.close()


def _fonts(browser: Any, selector: str) -> list[tuple[str, int, str]]:
    """(family, glyph count, text) for every element matching ``selector``: the fonts really used."""
    root = browser.call("DOM.getDocument", depth=-1)["root"]["nodeId"]
    out = []
    for node in browser.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"]:
        text = browser.call("DOM.getOuterHTML", nodeId=node)["outerHTML"]
        for f in browser.call("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]:
            out.append((f["familyName"], f["glyphCount"], re.sub(r"<[^>]+>", "", text)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_zh_report_in_chromium(browser: Any, tmp_path_factory: pytest.TempPathFactory, sample: str) -> None:
    out = _zh_report(tmp_path_factory, sample)
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and 'id="mpkit-error"' not in text
    url = out.resolve().as_uri()
    browser.open(url)
    assert browser.errors() == [] and browser.requests(url) == []
    assert browser.js("document.documentElement.lang") == "zh-CN"
    # no English heading left: every heading has Chinese in it
    headings = browser.js(HEADINGS)
    assert len(headings) >= 10
    assert [h for h in headings if not CJK.search(h)] == []
    # the Chinese characters are drawn with a CJK font (not a fallback box): per heading and the verdict
    for selector in ("h1", "h2", "h3", "h4", "#verdict p.summary", "footer"):
        fonts = _fonts(browser, selector)
        for family, _count, node_text in fonts:
            assert family in ("DejaVu Sans", "DejaVu Sans Mono") or "CJK" in family, (family, node_text)
        cjk_glyphs = sum(c for f, c, _t in fonts if "CJK" in f)
        cjk_chars = len(CJK.findall("".join(dict.fromkeys(t for _f, _c, t in fonts))))
        assert cjk_chars and cjk_glyphs >= cjk_chars, (selector, cjk_glyphs, cjk_chars)
    imgs = browser.js(
        "Promise.all(Array.from(document.images).map(i => i.decode().then(() => i.naturalWidth > 0, () => false)))"
        ".then(r => ({n: r.length, ok: r.every(Boolean)}))"
    )
    assert imgs["n"] >= 5 and imgs["ok"]
    # the charts in the page are the ones mpkit draws in zh-CN here, with the CJK font
    nb = __import__("nbformat").read(str(out.with_suffix(".ipynb")), as_version=4)
    outputs = "".join(json.dumps(c.get("outputs", [])) for c in nb.cells)
    assert "missing from font" not in outputs and "findfont" not in outputs
    alts = browser.js("Array.from(document.images).map(i => i.alt)")
    assert all(CJK.search(a) for a in alts), alts
    from test_browser import ARTIFACTS

    browser.screenshot(ARTIFACTS / f"report-zh-CN-{sample}.png")


@pytest.mark.slow
def test_zh_fleet_index_in_chromium(browser: Any, tmp_path: Path) -> None:
    index = R.batch([DATA / "healthy-start"], tmp_path, quiet=True, parquet=False, lang="zh-CN")
    url = index.resolve().as_uri()
    browser.open(url)
    assert browser.errors() == [] and browser.requests(url) == []
    assert browser.js("document.documentElement.lang") == "zh-CN"
    assert [h for h in browser.js(HEADINGS) if not CJK.search(h)] == []
    assert "未发现故障" in browser.js("document.querySelector('table.fleet').innerText")
    report = (tmp_path / "reports" / "healthy-start.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in report and "没有发现故障" in report

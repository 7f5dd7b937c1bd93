"""The reports in a real browser: headless Chromium driven over the DevTools protocol.

Each sample report opens from ``file://`` with no console error, no network request, every image
decoded and the verdict visible; a screenshot is saved to ``tests/artifacts/``.  The hostile
fixture's HTML/JS payloads must not execute and must show as text.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_report import HOSTILE, SAMPLES, built_report

from conftest import DATA, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/install-system-deps.sh)"),
]


class Browser:
    """A headless Chromium and one page, spoken to over the DevTools websocket."""

    def __init__(self, profile: Path) -> None:
        import websocket

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1200,1600",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.n = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            self.events.append(json.loads(self.ws.recv()))

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late console messages arrive
        self.call("Runtime.evaluate", expression="1")

    def js(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                out.append(f"log: {p['entry'].get('text')}")
            elif m == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out

    def requests(self, page_url: str) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["url"] != page_url
            and not e["params"]["request"]["url"].startswith("data:")
        ]

    def screenshot(self, path: Path) -> None:
        h = self.js("Math.min(document.documentElement.scrollHeight, 6000)")
        self.call(
            "Emulation.setDeviceMetricsOverride", width=1200, height=int(h), deviceScaleFactor=1, mobile=False
        )
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        self.call("Emulation.clearDeviceMetricsOverride")

    def close(self) -> None:
        try:
            if hasattr(self, "ws"):
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


IMAGES_OK = """Promise.all(Array.from(document.images).map(i => i.decode().then(() => i.naturalWidth > 0, () => false)))
               .then(r => ({n: r.length, ok: r.every(Boolean)}))"""
VERDICT_VISIBLE = """(() => { const e = document.getElementById('verdict'); if (!e) return false;
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 100 && r.height > 20 && s.visibility !== 'hidden' && s.display !== 'none'
         && (e.textContent.includes('Most likely cause') || e.textContent.includes('No failure found')); })()"""


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_report_in_chromium(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, sample: str
) -> None:
    out = built_report(tmp_path_factory, DATA / sample, sample)
    url = out.resolve().as_uri()
    browser.open(url)
    assert browser.errors() == []
    assert browser.requests(url) == []
    imgs = browser.js(IMAGES_OK)
    assert imgs["n"] >= 5 and imgs["ok"], imgs
    assert browser.js(VERDICT_VISIBLE) is True
    assert browser.js("document.scripts.length") == 0
    browser.screenshot(ARTIFACTS / f"report-{sample}.png")
    assert (ARTIFACTS / f"report-{sample}.png").stat().st_size > 10_000


def test_hostile_payloads_do_not_execute(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = built_report(tmp_path_factory, HOSTILE, "hostile", title='<script>window.__pwned="title"</script>')
    url = out.resolve().as_uri()
    browser.open(url)
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.errors() == [], "a blocked script or handler would show up here"
    assert browser.requests(url) == []
    assert browser.js("document.scripts.length") == 0
    assert browser.js("document.querySelectorAll('[onerror],[onload],[onclick],svg,iframe').length") == 0
    assert (
        browser.js(
            "Array.from(document.querySelectorAll('a[href]')).filter(a => !/^(https?:|#|reports\\/)/.test(a.getAttribute('href'))).length"
        )
        == 0
    )
    text = browser.js("document.body.innerText")
    assert "<script>window.__pwned=1</script>" in text
    assert "<img src=x onerror=window.__pwned=9>.txt" in text
    assert browser.js("document.title").startswith("<script>")
    browser.screenshot(ARTIFACTS / "report-hostile.png")


def test_fleet_index_in_chromium(browser: Browser, tmp_path: Path) -> None:
    from mpkit import report as R

    index = R.batch([DATA / "healthy-start"], tmp_path, quiet=True, parquet=False)
    url = index.resolve().as_uri()
    browser.open(url)
    assert browser.errors() == [] and browser.requests(url) == []
    assert browser.js(IMAGES_OK)["ok"]
    assert browser.js("document.querySelectorAll('table.fleet tbody tr').length") == 1
    browser.open((tmp_path / "reports" / "healthy-start.html").resolve().as_uri())
    assert browser.js(VERDICT_VISIBLE) is True

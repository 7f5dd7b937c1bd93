"""The explorer notebook in a real JupyterLab, driven by headless Chromium (Playwright).

JupyterLab starts on 127.0.0.1 with a random token and a private copy of ``explore.ipynb``; the
test runs every cell, waits for the widgets to render, changes the instance and the time range, and
checks that the charts and the event table follow, that a redraw is quick and that nothing
overflows a 1280-pixel window. Screenshots go to ``tests/artifacts/jupyterlab-*.png``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "tests" / "artifacts"
WIDTH, HEIGHT = 1280, 900
#: a redraw after a change must show within this many seconds
REDRAW_S = 10.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/install-system-deps.sh)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """A JupyterLab server on 127.0.0.1 serving a private copy of the explorer notebook."""

    def __init__(self, root: Path, bundle: Path) -> None:
        from mpkit.report import ensure_kernel, notebook_path

        self.root = root / "notebooks"
        self.root.mkdir()
        nb = json.loads(notebook_path("explore").read_text(encoding="utf-8"))
        kernel = ensure_kernel()
        nb["metadata"]["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
        params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        params["source"] = [f"bundle = {str(bundle)!r}\n"]  # what papermill would inject
        (self.root / "explore.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        config = root / "jupyter-config"
        (config / "labconfig").mkdir(parents=True)
        # no news pop-up over the notebook
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
        )
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
            "MPKIT_LANG": "en",
        }
        self.log = (root / "lab.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path}?token={self.token}"

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


#: a second instance's successful start, earlier the same morning, added to the default sample
BUILDER_START = """\
[2024-09-24T09:58:10.100] [info] [builder] process program 'qemu-system-aarch64'
[2024-09-24T09:58:10.400] [info] [builder] process state changed to Starting
[2024-09-24T09:58:10.410] [info] [builder] process state changed to Running
[2024-09-24T09:58:10.420] [info] [builder] process started
[2024-09-24T09:58:10.500] [debug] [builder] Waiting for SSH to be up
[2024-09-24T09:58:31.000] [debug] [builder] Caching initial SSH session
"""


def two_instance_bundle(dest: Path) -> Path:
    """The default sample with a second instance (``builder``) that starts fine before ``dev`` fails."""
    from mpkit.samples import sample

    bundle = dest / "two-instances"
    shutil.copytree(sample(), bundle)
    log = bundle / "multipassd.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "Daemon arguments" in line) + 1
    log.write_text("".join(lines[:at]) + BUILDER_START + "".join(lines[at:]), encoding="utf-8")
    return bundle


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("jupyterlab")
    server = Lab(root, two_instance_bundle(root))
    yield server
    server.close()


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"jupyterlab-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path


def _state(page: Any) -> dict[str, Any]:
    """What the explorer shows: the chart images, the table's event count and first row, the status."""
    return page.evaluate(
        """() => {
        const out = document.querySelector('.jp-Notebook .jp-OutputArea-output .widget-vbox');
        if (!out) return null;
        const imgs = Array.from(out.querySelectorAll('.widget-image')).map(i => i.src || '');
        const table = out.querySelector('table.mpkit-events');
        const note = Array.from(out.querySelectorAll('.widget-html-content p'))
          .map(p => p.textContent).find(t => /event\\(s\\)/.test(t)) || '';
        return {imgs, rows: table ? table.tBodies[0].rows.length : 0, note,
                first: table && table.tBodies[0].rows.length ? table.tBodies[0].rows[0].innerText : '',
                status: (out.querySelector('.widget-html-content b') || {parentElement: {innerText: ''}})
                          .parentElement.innerText};
    }"""
    )


def _wait_change(page: Any, before: dict[str, Any], keys: tuple[str, ...]) -> tuple[dict[str, Any], float]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        now = _state(page)
        if now and all(now[k] != before[k] for k in keys):
            return now, time.monotonic() - t0
        page.wait_for_timeout(100)
    raise AssertionError(f"the explorer did not redraw {keys} within 60 s: {_state(page)}")


def _dropdown(page: Any, label: str) -> Any:
    """The ``<select>`` of the explorer's dropdown labelled ``label``."""
    named = page.locator("label.widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))
    return page.locator(".jp-OutputArea-output .widget-dropdown").filter(has=named).locator("select")


def _accept_kernel(page: Any) -> None:
    """Wait for the notebook's kernel; JupyterLab may ask which one to use, with ours preselected."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            assert "Python (mpkit" in dialog.locator("select").inner_text(), dialog.inner_text()
            dialog.get_by_role("button", name="Select").click()
        status = page.locator(".jp-StatusBar-Widget:has-text('Python (mpkit')").all_inner_texts()
        if any("Idle" in s for s in status) and not page.locator(".jp-Dialog").count():
            page.wait_for_timeout(1000)  # a late dialog shows within a second
            if not page.locator(".jp-Dialog").count():
                return
        page.wait_for_timeout(250)
    raise AssertionError("the mpkit kernel did not become idle")


def test_explorer_runs_in_jupyterlab(lab: Lab, page: Any) -> None:
    page.goto(lab.url("lab/tree/explore.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    # the notebook's kernel is the one registered for this Python: no kernel-choice dialog
    _accept_kernel(page)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    page.wait_for_selector(".jp-OutputArea-output .widget-vbox table.mpkit-events", timeout=180_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.jp-OutputArea-output .widget-image'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length >= 2",
        timeout=60_000,
    )
    assert not page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
    assert not page.locator(".jp-OutputArea-output .jp-RenderedText:has-text('Traceback')").count()
    box = page.locator(".jp-OutputArea-output .widget-vbox").first
    box.scroll_into_view_if_needed()
    start = _state(page)
    assert start and len(start["imgs"]) == 2 and start["rows"] > 0, start
    first = _shot(page, "explorer-initial")

    # every control rendered, with its label
    labels = page.locator(".jp-OutputArea-output .widget-vbox .widget-label").all_inner_texts()
    for label in ("bundle", "instance", "attempt", "time", "sources", "levels", "search"):
        assert label in labels, labels

    # nothing is wider than the window: no horizontal scrolling in the notebook or the widgets
    overflow = page.evaluate(
        """() => {
        const vbox = document.querySelector('.jp-OutputArea-output .widget-vbox');
        const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
                         || document.querySelector('.jp-NotebookPanel-notebook');
        const wide = Array.from(vbox.querySelectorAll('*')).filter(e => {
            const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 1; })
          .map(e => e.className || e.tagName).slice(0, 5);
        return {wide, scroll: scroller.scrollWidth - scroller.clientWidth,
                vbox: vbox.getBoundingClientRect().right, window: window.innerWidth};
    }"""
    )
    assert overflow["wide"] == [] and overflow["scroll"] <= 1 and overflow["vbox"] <= WIDTH, overflow

    # change the instance: the event table and both charts redraw
    instance = _dropdown(page, "instance")
    options = [o.replace("\xa0", " ") for o in instance.locator("option").all_inner_texts()]
    assert len(options) >= 2, options
    assert options[:3] == ["(all)", "builder", "dev"], options
    instance.select_option("builder")
    after_instance, took = _wait_change(page, start, ("imgs", "status"))
    assert took < REDRAW_S, f"redraw took {took:.1f} s"
    attempts = [
        a.replace("\xa0", " ") for a in _dropdown(page, "attempt").locator("option").all_inner_texts()
    ]
    assert attempts == ["(all)", "builder #1: ok"], attempts
    assert "dev" not in after_instance["first"] and after_instance["rows"] < start["rows"], after_instance
    _shot(page, "explorer-instance")

    # narrow the time range with the slider's handle: fewer events, new charts
    handle = page.locator(".jp-OutputArea-output .widget-vbox .noUi-handle-lower").first
    track = page.locator(".jp-OutputArea-output .widget-vbox .noUi-target").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    assert hb and tb
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(tb["x"] + tb["width"] * 0.6, hb["y"] + hb["height"] / 2, steps=8)
    page.mouse.up()
    after_range, took = _wait_change(page, after_instance, ("imgs", "note"))
    assert took < REDRAW_S, f"redraw took {took:.1f} s"
    n_before = int(re.search(r"(\d+) event", after_instance["note"])[1])  # type: ignore[index]
    n_after = int(re.search(r"(\d+) event", after_range["note"])[1])  # type: ignore[index]
    assert n_after < n_before, (after_instance["note"], after_range["note"])
    assert all(a != b for a, b in zip(after_range["imgs"], after_instance["imgs"], strict=True)), (
        "both charts follow the time range (the attempts outside it leave the Gantt chart)"
    )
    last = _shot(page, "explorer-time-range")
    page.locator(".jp-OutputArea-output table.mpkit-events").scroll_into_view_if_needed()
    _shot(page, "explorer-table")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    assert first.stat().st_size > 20_000 and last.stat().st_size > 20_000

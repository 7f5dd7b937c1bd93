"""mpkit.report: parameters, kernel, the notebook executed on samples and cases, HTML safety, batch and fleet."""

from __future__ import annotations

import ast
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

from conftest import CASES_DIR, DATA, ROOT
from mpkit import report as R
from mpkit.bundle import load_bundle
from mpkit.derived import derive
from mpkit.diagnose import diagnose
from mpkit.errors import ReportError
from mpkit.report import run as RUN  # where the kernel and execution helpers live (what tests patch)
from mpkit.samples import DEFAULT as SAMPLE_DEFAULT

SAMPLES = ["sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"]
CASES = ["001", "009", "016"]
HOSTILE = Path(__file__).parent / "data" / "hostile"
MAX_BYTES = 2 * 1024 * 1024


def built_report(tmp_path_factory: pytest.TempPathFactory, bundle: Path, name: str, **kw: Any) -> Path:
    """Build (once per test session) the report of ``bundle``; the browser tests reuse it."""
    out = tmp_path_factory.getbasetemp() / "mpkit-reports" / f"{name}.html"
    if not out.exists():
        R.report(bundle, out, keep_notebook=True, quiet=True, **kw)
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def html_problems(text: str) -> list[str]:
    """What makes an HTML report not self-contained, not inert or not clean (real tags only)."""
    p = _Tags()
    p.feed(text)
    problems = []
    for tag, attrs in p.tags:
        if tag in ("script", "link", "iframe", "object", "embed", "base", "frame", "svg", "form"):
            problems.append(f"has a <{tag}> element")
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name.startswith("on"):
                problems.append(f"<{tag}> has an event handler {name}")
            if name in ("src", "href", "srcset", "action", "poster", "data", "xlink:href", "formaction"):
                scheme = v.split(":", 1)[0] if ":" in v.split("/", 1)[0] else ""
                if scheme in ("http", "https") and not (tag == "a" and name == "href"):
                    problems.append(f"<{tag} {name}> loads from the network: {v[:60]}")
                elif scheme and scheme not in ("http", "https", "data", "mailto"):
                    problems.append(f"<{tag} {name}> uses the {scheme}: scheme")
                elif scheme == "data" and tag != "img":
                    problems.append(f"<{tag} {name}> has a data: URI")
            if name == "class" and ("jp-InputArea" in v or v.split() == ["input"] or "prompt" in v.split()):
                problems.append("shows code or prompts")
    if re.search(r"@import|url\(", p.style, re.I):
        problems.append("CSS loads something")
    return problems


# -- parameters ---------------------------------------------------------------------------------


def test_validate_defaults_to_the_sample() -> None:
    p = R.validate_parameters({})
    assert set(p) == set(R.PARAMETERS)
    assert Path(p["bundle"]) == (DATA / SAMPLE_DEFAULT).resolve()
    assert p["redact"] is False and p["instance"] is None
    assert R.validate_parameters({"bundle": "sample:healthy-start"})["bundle"].endswith("healthy-start")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"bundel": "x"}, "unknown report parameter"),
        ({"bundle": "/nonexistent/bundle"}, "does not exist"),
        ({"attempt": "2"}, "attempt must be"),
        ({"attempt": True}, "not a bool"),
        ({"attempt": 0}, "≥ 1"),
        ({"redact": "yes"}, "redact must be"),
        ({"instance": 3}, "instance must be"),
        ({"instance": " "}, "empty"),
        ({"since": "not a time"}, "not a time"),
        ({"since": "2024-01-02", "until": "2024-01-01"}, "after until"),
        ({"since": "2024-01-01T00:00:00+01:00", "until": "2024-01-02"}, "both"),
        ({"bundle": "sample:nope"}, "no sample named"),
    ],
)
def test_validate_rejects(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ReportError, match=re.escape(words)):
        R.validate_parameters(params)


def test_report_validates_before_any_kernel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(RUN, "ensure_kernel", boom)
    with pytest.raises(ReportError, match="attempt"):
        R.report(DATA / SAMPLE_DEFAULT, tmp_path / "r.html", attempt=-1)
    assert not (tmp_path / "r.html").exists()


def test_validate_since_until_normalised() -> None:
    p = R.validate_parameters({"since": "2024-09-18 13:57", "until": pd.Timestamp("2024-09-18T14:00:00")})
    assert p["since"] == "2024-09-18T13:57:00" and p["until"] == "2024-09-18T14:00:00"


# -- notebooks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["diagnose", "explore"])
def test_notebooks_have_one_copy_in_the_package(name: str) -> None:
    assert R.notebook_path(name).resolve() == (ROOT / "mpkit" / "notebooks" / f"{name}.ipynb").resolve()
    assert not list(ROOT.glob(f"*/{name}.ipynb")), "the packaged notebook is the only copy"


@pytest.mark.parametrize("name", ["diagnose", "explore"])
def test_notebooks_are_templates_without_logic(name: str) -> None:
    nb = nbformat.read(str(R.notebook_path(name)), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "committed without outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "one parameters cell"
    names = {
        t.id
        for node in ast.parse(params[0].source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
    }
    assert names == (set(R.PARAMETERS) if name == "diagnose" else {"bundle"})
    banned = (
        ast.For,
        ast.While,
        ast.If,
        ast.FunctionDef,
        ast.Lambda,
        ast.ListComp,
        ast.DictComp,
        ast.Try,
        ast.ClassDef,
        ast.With,
    )
    for c in code:
        tree = ast.parse(c.source)
        assert not [n for n in ast.walk(tree) if isinstance(n, banned)], (
            f"logic in a notebook cell: {c.source!r}"
        )
        assert "re." not in c.source and "pd." not in c.source


# -- kernel ----------------------------------------------------------------------------------------


def test_kernel_is_the_registered_mpkit_for_this_python() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    name = R.ensure_kernel()
    spec = KernelSpecManager().get_kernel_spec(name)
    assert RUN._spec_matches(spec)


def test_kernel_registered_when_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fresh machine: no kernel for this Python and sys.prefix read-only → a private kernel spec."""
    import ipykernel.kernelspec as iks
    from jupyter_client.kernelspec import KernelSpecManager

    def read_only(**_k: Any) -> None:
        raise PermissionError("read-only prefix")

    monkeypatch.setattr(
        RUN, "_spec_matches", lambda spec: str(tmp_path) in str(getattr(spec, "resource_dir", ""))
    )
    monkeypatch.setattr(iks, "install", read_only)
    monkeypatch.setattr(RUN.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv("JUPYTER_PATH", "")
    name = R.ensure_kernel()
    assert name.startswith("mpkit-")
    spec = KernelSpecManager().get_kernel_spec(name)
    assert spec.argv[0] == sys.executable and str(tmp_path) in spec.resource_dir


def test_kernel_start_failures_are_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import papermill as pm

    calls: list[int] = []

    def flaky(*_a: Any, **_k: Any) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(pm, "execute_notebook", flaky)
    monkeypatch.setattr(RUN.time, "sleep", lambda s: None)
    err = RUN._execute(
        R.notebook_path(), tmp_path / "o.ipynb", {}, kernel="mpkit", quiet=True, timeout=10, cwd=tmp_path
    )
    assert err is None and len(calls) == 3


# -- executed reports --------------------------------------------------------------------------------

BUNDLES = [pytest.param(DATA / s, s, id=s) for s in SAMPLES] + [
    pytest.param(
        CASES_DIR / c,
        f"case-{c}",
        id=f"case-{c}",
        marks=pytest.mark.skipif(not (CASES_DIR / c).is_dir(), reason="shared cases absent"),
    )
    for c in CASES
]


@pytest.mark.slow
@pytest.mark.parametrize("bundle, name", BUNDLES)
def test_report_on_bundle(tmp_path_factory: pytest.TempPathFactory, bundle: Path, name: str) -> None:
    out = built_report(tmp_path_factory, bundle, name)
    text = out.read_text(encoding="utf-8")
    assert html_problems(text) == []
    assert out.stat().st_size < MAX_BYTES
    assert 'id="verdict"' in text and 'id="mpkit-error"' not in text
    for heading in (
        "1. Verdict",
        "2. Start attempts",
        "3. The DHCP story",
        "4. Daemon log",
        "5. Host state",
        "6. Evidence",
    ):
        assert heading in text
    assert text.count('class="mpkit-chart"') >= 5
    # the JSON the notebook emitted is the diagnosis contract, the same as the API's
    nb = nbformat.read(str(out.with_suffix(".ipynb")), as_version=4)
    payload = R.diagnosis_from_notebook(nb)
    assert payload is not None
    with load_bundle(bundle) as b:
        assert payload["diagnosis"] == json.loads(json.dumps(diagnose(b).to_dict()))
    assert R.DIAGNOSIS_MIME not in text


@pytest.mark.slow
def test_failing_cell_gives_partial_report_and_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    nb = nbformat.read(str(R.notebook_path()), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "report.verdict(ctx)" in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('raise RuntimeError("the checklist broke")'))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(broken))
    monkeypatch.setattr(RUN, "notebook_path", lambda name="diagnose": broken)
    out = tmp_path / "r.html"
    with pytest.raises(ReportError, match="the checklist broke"):
        R.report(DATA / SAMPLE_DEFAULT, out, quiet=True, keep_notebook=True)
    text = out.read_text(encoding="utf-8")
    assert 'id="mpkit-error"' in text and "This report is incomplete" in text
    assert 'id="verdict"' in text, "everything up to the failure is kept"
    assert "Daemon-log activity" not in text
    assert html_problems(text) == []
    assert out.with_suffix(".ipynb").exists()


@pytest.mark.slow
def test_bad_instance_fails_in_kernel_with_banner(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    with pytest.raises(ReportError, match="no instance 'nope'"):
        R.report(DATA / SAMPLE_DEFAULT, out, instance="nope", quiet=True)
    assert "This report is incomplete" in out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_hostile_bundle_is_escaped(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = built_report(tmp_path_factory, HOSTILE, "hostile", title='<script>window.__pwned="title"</script>')
    text = out.read_text(encoding="utf-8")
    assert html_problems(text) == []
    # the payloads are there, as text
    assert "&lt;script&gt;window.__pwned=" in text
    assert "&lt;img src=x onerror=window.__pwned=9&gt;.txt" in text  # a file name
    assert "&lt;svg onload=window.__pwned=4&gt;" in text
    assert "&lt;script&gt;window.__pwned=&quot;title&quot;&lt;/script&gt;" in text.split("</title>")[0]


@pytest.mark.slow
def test_redacted_report(tmp_path: Path) -> None:
    pytest.importorskip("mpkit.collect.redact")
    src = DATA / "sequoia-ip-discovery"
    manifest = json.loads((src / "manifest.json").read_text())
    out = R.report(src, tmp_path / "r.html", redact=True, quiet=True, keep_notebook=True)
    text = out.read_text(encoding="utf-8")
    kept = out.with_suffix(".ipynb").read_text(encoding="utf-8")
    hostname = manifest["host"].get("hostname")
    with load_bundle(src) as b:
        macs = set(derive(b).entities["mac"].dropna())
        lan = {ip for ip in b.frame("interfaces")["inet"].dropna() if ip.startswith(("192.168.", "10."))}
    secrets = ({hostname} if hostname else set()) | macs | lan | {str(src)}
    assert secrets
    for s in secrets:
        assert s not in text, f"{s} survived redaction in the HTML"
        assert s not in kept, f"{s} survived redaction in the kept notebook"
    assert 'id="verdict"' in text and "Redacted" in text


# -- batch --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("broken") / "broken.tar.gz"
    p.write_bytes(b"this is not a gzip archive at all")
    return p


def _check_batch(outdir: Path, index: Path, names: list[str], failed: str | None = None) -> pd.DataFrame:
    assert index == outdir / "index.html"
    text = index.read_text(encoding="utf-8")
    assert html_problems(text) == []
    fleet = pd.read_csv(outdir / "fleet.csv")
    assert list(fleet["bundle"]) == names
    for r in fleet.itertuples():
        if r.bundle == failed:
            assert not r.ok and isinstance(r.error, str)
            continue
        assert r.ok, r.error
        assert (outdir / "reports" / f"{r.bundle}.html").exists()
        assert f'href="reports/{r.bundle}.html"' in text
        d = json.loads((outdir / "json" / f"{r.bundle}.json").read_text())
        if d["root_cause"]["title"].startswith("No failure found"):  # reads as such, not as "unknown"
            assert r.cause == "no failure found" and pd.isna(r.confidence)
        else:
            assert d["root_cause"]["id"] == r.cause
        assert (outdir / "parquet" / r.bundle / "attempts.parquet").exists()
    return fleet


@pytest.mark.slow
def test_batch_one_bad_bundle_never_stops_the_others(tmp_path: Path, broken_archive: Path) -> None:
    inputs = [DATA / "healthy-start", broken_archive, DATA / "firewall-blocks-bootpd"]
    index = R.batch(inputs, tmp_path, quiet=True)
    fleet = _check_batch(
        tmp_path, index, ["healthy-start", "broken", "firewall-blocks-bootpd"], failed="broken"
    )
    assert fleet.loc[fleet["bundle"] == "healthy-start", "failed_stage"].item() == "none"
    frames = pd.read_parquet(tmp_path / "parquet" / "firewall-blocks-bootpd" / "daemon_log.parquet")
    assert len(frames) and "message" in frames.columns
    assert pd.read_parquet(tmp_path / "fleet.parquet").shape[0] == 3


@pytest.mark.slow
def test_batch_parallel_workers(tmp_path: Path) -> None:
    inputs = [DATA / "healthy-start", DATA / "linux-dhcp-firewalled"]
    index = R.batch(inputs, tmp_path, workers=2, quiet=True, parquet=False)
    assert index.exists()
    fleet = pd.read_csv(tmp_path / "fleet.csv")
    assert list(fleet["bundle"]) == ["healthy-start", "linux-dhcp-firewalled"]
    assert fleet["ok"].all(), fleet["error"].tolist()
    assert not (tmp_path / "parquet").exists() and len(list((tmp_path / "json").glob("*.json"))) == 2


@pytest.mark.slow
def test_batch_on_dask_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        index = R.batch(
            [
                DATA / "healthy-start",
                CASES_DIR / "009" if (CASES_DIR / "009").is_dir() else DATA / "sequoia-ip-discovery",
            ],
            tmp_path,
            scheduler=cluster.scheduler_address,
            quiet=True,
        )
    fleet = pd.read_csv(tmp_path / "fleet.csv")
    assert fleet["ok"].all(), fleet["error"].tolist()
    assert index.exists() and len(list((tmp_path / "reports").glob("*.html"))) == 2


def test_batch_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no input"):
        R.batch([], tmp_path)
    with pytest.raises(ReportError, match="not found"):
        R.batch([tmp_path / "missing"], tmp_path)
    with pytest.raises(ReportError, match="workers"):
        R.batch([DATA / "healthy-start"], tmp_path, workers=0)


def test_fleet_index_escapes_and_links() -> None:
    summary = pd.DataFrame(
        [
            {c: None for c in R.FLEET_COLUMNS}
            | {"bundle": "<b>x</b>", "ok": True, "cause": "<script>", "report": "reports/x.html"}
        ]
    )
    text = R.fleet_index(summary)
    assert "&lt;script&gt;" in text and "<b>x</b>" not in text and html_problems(text) == []

"""Many bundles at once: :func:`batch` writes one report per bundle (in parallel processes or on a
Dask cluster), the diagnoses as JSON, the frames as parquet, and the fleet summary
(:func:`fleet_index`)."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import plots
from ..derived import derive
from ..errors import MpkitError, ReportError
from ..i18n import N_, Message, _, language
from .markup import clip, esc, page
from .params import diagnosis_payload, validate_parameters
from .run import ensure_kernel, run_report

log = logging.getLogger(__name__)

#: how a bundle whose diagnosis found no failure reads in the fleet table and charts
NO_FAILURE = "No failure found"

FLEET_COLUMNS = [
    "bundle",
    "source",
    "ok",
    "cause",
    "confidence",
    "failed_stage",
    "instance",
    "platform",
    "os",
    "multipass_version",
    "report",
    "error",
    "seconds",
]


def _slugs(inputs: Sequence[Path]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for p in inputs:
        base = (
            re.sub(
                r"[^A-Za-z0-9._-]+", "_", p.name.split(".tar")[0].removesuffix(".tgz").removesuffix(".zip")
            ).strip("._")
            or "bundle"
        )
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n + 1}")
    return out


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for col in df.columns:
        s = df[col]
        if s.dtype == "object":
            vals = s.dropna()
            if len(vals) and all(isinstance(v, pd.Timestamp) for v in vals):
                df[col] = (
                    plots.plain_times(s)
                    if any(v.tzinfo is None for v in vals)
                    else pd.to_datetime(s, utc=True)
                )
            else:
                df[col] = s.map(
                    lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                ).astype("object")
    df.attrs = {}
    return df


def _export_data(
    bundle_path: str, slug: str, outdir: Path, *, json_: bool, parquet: bool, payload: dict[str, Any] | None
) -> dict[str, Any]:
    from ..bundle import load_bundle

    extra: dict[str, Any] = {}
    need_diag = json_ and payload is None
    if not (parquet or need_diag):
        return extra
    with load_bundle(bundle_path) as b:
        if need_diag:
            from ..diagnose import diagnose

            payload = diagnosis_payload(Path(bundle_path).name, b, diagnose(b))
            extra["payload"] = payload
        if parquet:
            pdir = outdir / "parquet" / slug
            pdir.mkdir(parents=True, exist_ok=True)
            frames = dict(b.frames)
            frames.update(
                {
                    "timeline": derive(b).timeline,
                    "attempts": derive(b).attempts,
                    "entities": derive(b).entities,
                    "coverage": b.coverage,
                }
            )
            for name, f in frames.items():
                _parquet_safe(f).to_parquet(pdir / f"{name}.parquet", index=False)
    return extra


def batch_task(
    bundle_path: str,
    outdir: str,
    slug: str,
    kernel: str,
    json_: bool = True,
    parquet: bool = True,
    timeout: int = 600,
    lang: str | None = None,
) -> dict[str, Any]:
    """Report on one bundle (HTML + optional JSON and parquet); never raises: errors go in the record."""
    t0 = time.monotonic()
    out = Path(outdir)
    rec: dict[str, Any] = {c: None for c in FLEET_COLUMNS}
    rec.update({"bundle": slug, "source": bundle_path, "ok": False, "report": f"reports/{slug}.html"})
    payload: dict[str, Any] | None = None
    try:
        params = validate_parameters({"bundle": bundle_path, "lang": lang})
        run = run_report(
            params,
            out / "reports" / f"{slug}.html",
            keep_notebook=False,
            quiet=True,
            timeout=timeout,
            kernel=kernel,
        )
        payload = run.payload
        if run.error is not None:
            rec["error"] = (
                f"{getattr(run.error, 'ename', type(run.error).__name__)}: {clip(getattr(run.error, 'evalue', str(run.error)), 300)}"
            )
        else:
            rec["ok"] = True
    except (MpkitError, OSError, ValueError, RuntimeError) as exc:
        rec["error"] = f"{type(exc).__name__}: {clip(str(exc), 300)}"
        if not (out / "reports" / f"{slug}.html").exists():
            rec["report"] = None
    try:
        extra = _export_data(bundle_path, slug, out, json_=json_, parquet=parquet, payload=payload)
        payload = payload or extra.get("payload")
    except Exception as exc:  # a bundle that cannot even be loaded: keep going, record why
        rec["error"] = rec["error"] or f"{type(exc).__name__}: {clip(str(exc), 300)}"
        rec["ok"] = False
    if payload:
        d, h = payload.get("diagnosis", {}), payload.get("host", {})
        rc = d.get("root_cause", {})
        healthy = str(rc.get("title") or "").startswith(NO_FAILURE)
        rec.update(
            {
                "cause": NO_FAILURE.lower() if healthy else rc.get("id"),
                "confidence": None if healthy else rc.get("confidence"),
                "failed_stage": d.get("failed_stage"),
                "instance": d.get("instance"),
                "platform": h.get("platform"),
                "os": " ".join(
                    x for x in (h.get("os_name") or h.get("platform") or "", h.get("os_version") or "") if x
                )
                or None,
                "multipass_version": h.get("multipass_version"),
            }
        )
        if json_:
            jdir = out / "json"
            jdir.mkdir(parents=True, exist_ok=True)
            (jdir / f"{slug}.json").write_text(json.dumps(d, indent=1), encoding="utf-8")
    rec["seconds"] = round(time.monotonic() - t0, 2)
    return rec


def _progress(total: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, unit="bundle", desc="mpkit batch", disable=quiet, file=sys.stderr, leave=not quiet
    )


def batch(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | Any | None = None,
    json: bool = True,
    parquet: bool = True,
    quiet: bool = False,
    timeout: int = 600,
    lang: str | None = None,
) -> Path:
    """One report per bundle plus ``index.html`` (the fleet summary); returns the index path.

    ``lang`` is the language of the reports and the index (None: ``MPKIT_LANG``, else the locale).

    A failing bundle never stops the others (its row says why); kernel start failures are retried.
    ``workers`` > 1 runs bundles in parallel processes; ``scheduler`` (a ``dask.distributed``
    address or ``Client``) runs the same tasks on a Dask cluster whose workers see ``outdir``.
    With ``json``/``parquet`` the diagnoses (``json/<bundle>.json``) and every frame
    (``parquet/<bundle>/<frame>.parquet``) are written too; ``fleet.csv`` / ``fleet.parquet``
    hold the summary table.
    """
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ReportError(Message("no input bundle given"))
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ReportError(Message("input(s) not found: {missing}", missing=", ".join(missing)))
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ReportError(Message("workers must be a positive integer, not {workers!r}", workers=workers))
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reports").mkdir(exist_ok=True)
    kernel = ensure_kernel()
    slugs = _slugs(paths)
    jobs = [
        (str(p.resolve()), str(out.resolve()), s, kernel, json, parquet, timeout, lang)
        for p, s in zip(paths, slugs, strict=True)
    ]
    records: list[dict[str, Any]] = []
    bar = _progress(len(jobs), quiet)
    try:
        if scheduler is not None:
            records = _run_dask(jobs, scheduler, bar)
        elif workers == 1:
            for job in jobs:
                records.append(batch_task(*job))
                bar.update(1)
        else:
            records = _run_pool(jobs, workers, bar)
    finally:
        bar.close()
    order = {s: i for i, s in enumerate(slugs)}
    records.sort(key=lambda r: order.get(r["bundle"], 0))
    summary = pd.DataFrame(records, columns=FLEET_COLUMNS)
    summary.to_csv(out / "fleet.csv", index=False)
    if parquet:
        summary.to_parquet(out / "fleet.parquet", index=False)
    index = out / "index.html"
    with language(lang):
        index.write_text(fleet_index(summary), encoding="utf-8")
    failed = summary[~summary["ok"].astype(bool)]
    if len(failed):
        log.warning("%d of %d bundle(s) failed: %s", len(failed), len(summary), ", ".join(failed["bundle"]))
    return index


def _run_pool(jobs: list[tuple[Any, ...]], workers: int, bar: Any) -> list[dict[str, Any]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    records = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futs = {pool.submit(batch_task, *job): job for job in jobs}
        for fut in as_completed(futs):
            job = futs[fut]
            try:
                records.append(fut.result())
            except Exception as exc:  # the worker process itself died
                records.append(_crashed(job, exc))
            bar.update(1)
    return records


def _run_dask(jobs: list[tuple[Any, ...]], scheduler: str | Any, bar: Any) -> list[dict[str, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise ReportError(
            Message("--scheduler needs dask.distributed: pip install 'dask[distributed]'")
        ) from exc
    own = not isinstance(scheduler, Client)
    client: Any = Client(scheduler, set_as_default=False) if own else scheduler
    records = []
    try:
        futs = [
            client.submit(
                batch_task, *job, pure=False, key=f"mpkit-report-{job[2]}-{os.getpid()}-{i}", retries=1
            )
            for i, job in enumerate(jobs)
        ]
        index = {f.key: job for f, job in zip(futs, jobs, strict=True)}
        for fut in as_completed(futs, loop=client.loop):
            try:
                records.append(fut.result())
            except Exception as exc:
                records.append(_crashed(index[fut.key], exc))
            bar.update(1)
    finally:
        if own:
            client.close()
    return records


def _crashed(job: tuple[Any, ...], exc: BaseException) -> dict[str, Any]:
    rec: dict[str, Any] = {c: None for c in FLEET_COLUMNS}
    rec.update(
        {
            "bundle": job[2],
            "source": job[0],
            "ok": False,
            "error": f"worker crashed: {type(exc).__name__}: {clip(str(exc), 300)}",
        }
    )
    return rec


def _figure_img(fig: Any, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return f'<img class="mpkit-chart" alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def fleet_index(summary: pd.DataFrame) -> str:
    """The fleet summary page: a table of bundles with links to their reports, and the cause chart."""
    rows = []
    for r in summary.to_dict("records"):
        link = f'<a href="{esc(r["report"])}">{esc(r["bundle"])}</a>' if r.get("report") else esc(r["bundle"])
        conf = (
            ""
            if r.get("confidence") is None or pd.isna(r.get("confidence"))
            else f"{100 * float(r['confidence']):.0f} %"
        )
        status = _("ok") if r.get("ok") else _("failed: {error}").format(error=r.get("error") or "")
        cause = _("no failure found") if r.get("cause") == NO_FAILURE.lower() else r.get("cause")
        rows.append(
            f'<tr class="{"ok" if r.get("ok") else "state-fail"}"><td>{link}</td><td>{esc(cause)}</td><td>{esc(conf)}</td>'
            f"<td>{esc(r.get('failed_stage'))}</td><td>{esc(r.get('instance'))}</td><td>{esc(r.get('os'))}</td>"
            f"<td>{esc(r.get('multipass_version'))}</td><td>{esc(status)}</td></tr>"
        )
    n_ok = int(summary["ok"].astype(bool).sum()) if len(summary) else 0
    chart = _figure_img(plots.fleet_causes(summary), _("root causes by count and by OS / Multipass version"))
    files = "<code>fleet.csv</code>" + (
        ", <code>fleet.parquet</code>, <code>json/</code>, <code>parquet/</code>" if len(summary) else ""
    )
    done = _("{ok} report(s) complete, {failed} failed. Data: {files}.").format(
        ok=n_ok, failed=len(summary) - n_ok, files=files
    )
    head = "".join(
        f"<th>{esc(_(h))}</th>"
        for h in (
            N_("bundle"),
            N_("cause"),
            N_("confidence"),
            N_("failed stage"),
            N_("instance"),
            N_("OS"),
            "Multipass",
            N_("report"),
        )
    )
    body = (
        f"<h1>{esc(_('Fleet summary: {n} bundle(s)').format(n=len(summary)))}</h1>"
        f"<p>{done}</p>"
        f"<h2>{esc(_('Causes'))}</h2>{chart}<h2>{esc(_('Bundles'))}</h2>"
        f'<table class="fleet"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    return page(_("mpkit fleet summary ({n} bundles)").format(n=len(summary)), body)

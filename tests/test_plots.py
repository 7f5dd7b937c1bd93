"""mpkit.plots: every chart on every sample bundle and a few real cases; titles, labels, legends, no overlaps."""

from __future__ import annotations

import io
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from conftest import CASES_DIR, DATA
from mpkit import plots
from mpkit.bundle import load_bundle
from mpkit.derived import derive
from mpkit.diagnose.model import Candidate, Diagnosis, RootCause

SAMPLES = ["sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"]
CASES = ["001", "009", "016"]
HOSTILE = Path(__file__).parent / "data" / "hostile"
BUNDLES = (
    [pytest.param(DATA / s, id=s) for s in SAMPLES]
    + [
        pytest.param(
            CASES_DIR / c,
            id=f"case-{c}",
            marks=pytest.mark.skipif(not (CASES_DIR / c).is_dir(), reason="shared cases absent"),
        )
        for c in CASES
    ]
    + [pytest.param(HOSTILE, id="hostile")]
)


def _render(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    assert data.startswith(b"\x89PNG")
    return data


def _titles(fig: Figure) -> list[str]:
    out = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    return out + [ax.get_title(loc="left") or ax.get_title() for ax in fig.axes]


def _no_overlap(fig: Figure) -> None:
    """Tick labels of one axis never overlap each other."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            boxes = [t.get_window_extent(renderer) for t in labels if t.get_visible() and t.get_text()]
            for a, b in combinations(boxes, 2):
                assert not a.overlaps(b) or a.intersection(a, b).width * a.intersection(a, b).height < 4, (
                    f"overlapping tick labels in {ax.get_title(loc='left')!r}"
                )


def _check(fig: Figure, *, time_axis: bool = False, tz: str | None = None) -> None:
    assert isinstance(fig, Figure)
    _render(fig)
    assert any(t.strip() for t in _titles(fig)), "a chart needs a title"
    visible = [ax for ax in fig.axes if ax.axison]
    if visible:
        assert any(ax.get_xlabel() for ax in visible), "a chart needs a labelled x axis"
        if time_axis and tz:
            assert any(tz in ax.get_xlabel() for ax in visible), "a time axis names its clock"
        assert fig.legends or any(ax.get_legend() for ax in visible), "a chart with data needs a legend"
    _no_overlap(fig)


@pytest.fixture(scope="module", params=BUNDLES)
def bundle(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    b = load_bundle(request.param)
    yield b
    b.close()


def test_attempts_gantt(bundle) -> None:  # type: ignore[no-untyped-def]
    tz = plots.clock_label(bundle.clock)
    fig = plots.attempts_gantt(derive(bundle).attempts, tz=tz)
    _check(fig, time_axis=True, tz=tz)
    if len(derive(bundle).attempts):
        ax = fig.axes[0]
        assert "seconds" in ax.get_xlabel()
        labels = [t.get_label() for t in fig.legends[0].get_texts()] if fig.legends else []
        assert any("expected timeout" in t.get_text() for t in fig.legends[0].get_texts()), labels


def test_dhcp_story(bundle) -> None:  # type: ignore[no-untyped-def]
    tz = plots.clock_label(bundle.clock)
    ent = derive(bundle).entities
    mac = ent["mac"].dropna().iloc[0] if len(ent) and ent["mac"].notna().any() else None
    msgs = plots.dhcp_messages(
        bundle.frame("daemon_log"), bundle.frame("system_log"), bundle.frame("dhcp_packets")
    )
    assert list(msgs.columns) == ["time", "source", "type", "mac", "ip", "message", "file", "line"]
    fig = plots.dhcp_story(
        bundle.frame("leases"),
        bundle.frame("neighbours"),
        msgs,
        mac=mac,
        tz=tz,
        attempts=derive(bundle).attempts,
    )
    _check(fig, time_axis=True, tz=tz)


def test_log_activity(bundle) -> None:  # type: ignore[no-untyped-def]
    tz = plots.clock_label(bundle.clock)
    fig = plots.log_activity(bundle.frame("daemon_log"), derive(bundle).attempts, tz=tz)
    _check(fig, time_axis=True, tz=tz)
    if bundle.frame("daemon_log")["time"].notna().any():
        assert any("lines per" in ax.get_ylabel() for ax in fig.axes)


def test_coverage_and_timeline(bundle) -> None:  # type: ignore[no-untyped-def]
    _check(plots.coverage_chart(bundle.coverage))
    tz = plots.clock_label(bundle.clock)
    _check(plots.event_timeline(derive(bundle).timeline, tz=tz), time_axis=True, tz=tz)


def test_samples_have_data_in_charts() -> None:
    b = load_bundle(DATA / "sequoia-ip-discovery")
    fig = plots.attempts_gantt(derive(b).attempts, tz="UTC")
    assert fig.axes[0].patches, "the attempt bars are drawn"
    fig = plots.log_activity(b.frame("daemon_log"), derive(b).attempts, tz="UTC")
    assert fig.axes[0].patches


def _diag(cands: list[tuple[str, float]]) -> Diagnosis:
    rc = RootCause(cands[0][0] if cands else "unknown", cands[0][1] if cands else 0.1, "t", "s", (), (), ())
    return Diagnosis(rc, tuple(Candidate(i, c) for i, c in cands), "dhcp", "primary", ())


def test_candidates_chart() -> None:
    fig = plots.candidates_chart(
        _diag([("firewall-blocks-bootpd", 0.82), ("dhcp-no-lease", 0.4), ("unknown", 0.1)])
    )
    _check(fig)
    assert fig.axes[0].get_xlabel() == "confidence (%)"
    _check(plots.candidates_chart(_diag([])))


def test_fleet_causes() -> None:
    summary = pd.DataFrame(
        {
            "cause": ["firewall-blocks-bootpd", "dhcp-no-lease", "firewall-blocks-bootpd", None],
            "os": ["macOS 15.0", "macOS 14.5", "macOS 15.0", None],
            "multipass_version": ["1.14.0", "1.13.1", "1.14.1", None],
        }
    )
    fig = plots.fleet_causes(summary)
    _check(fig)
    assert fig.axes[0].get_xlabel() == "bundles (count)"
    _check(plots.fleet_causes(summary.iloc[0:0]))


def test_empty_inputs_say_what_is_missing() -> None:
    b = load_bundle(HOSTILE)
    empty_att = derive(b).attempts.iloc[0:0]
    for fig in (
        plots.attempts_gantt(empty_att),
        plots.dhcp_story(b.frame("leases"), b.frame("neighbours"), plots.dhcp_messages(), mac=None),
        plots.log_activity(b.frame("daemon_log").iloc[0:0], None),
        plots.coverage_chart(b.coverage.iloc[0:0]),
        plots.event_timeline(derive(b).timeline.iloc[0:0]),
    ):
        _render(fig)
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith(("No ", "The ")) for t in texts), texts


def test_report_figure_html_is_one_escaped_image() -> None:
    fig = plots.attempts_gantt(derive(load_bundle(HOSTILE)).attempts, title='<script>x</script> "q"')
    html = fig._repr_html_()
    assert html.startswith('<img class="mpkit-chart" alt="&lt;script&gt;')
    assert "<script>" not in html and html.count("<img") == 1


def test_plain_times_mixed() -> None:
    s = pd.Series(
        [pd.Timestamp("2024-01-01T10:00:00Z"), None, pd.Timestamp("2024-01-01T10:00:05")], dtype="object"
    )
    out = plots.plain_times(s)
    assert out.iloc[0] == pd.Timestamp("2024-01-01T10:00:00") and out.iloc[1] is pd.NaT


def test_many_figures_no_warning() -> None:
    """Figures are not registered with pyplot: building many never warns (warnings are errors here)."""
    b = load_bundle(HOSTILE)
    for _ in range(25):
        plots.attempts_gantt(derive(b).attempts)

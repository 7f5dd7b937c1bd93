"""The table views of mpkit.report are data: every column they name exists in the frame they read."""

from __future__ import annotations

import pytest

from conftest import DATA
from mpkit.bundle import load_bundle
from mpkit.derived import derive
from mpkit.report import TABLE_VIEWS, views
from mpkit.samples import DEFAULT as SAMPLE_DEFAULT

SPECS = [
    spec
    for spec in (*{s for v in TABLE_VIEWS.values() for s in v.tables}, views.ENTITIES, views.COVERAGE)
    if spec.columns
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.source)
def test_table_spec_names_real_columns(spec: views.TableSpec) -> None:
    with load_bundle(DATA / SAMPLE_DEFAULT) as b:
        frame = {"attempts": derive(b).attempts, "entities": derive(b).entities, "coverage": b.coverage}.get(
            spec.source
        )
        if frame is None:
            frame = b.frame(spec.source)  # the empty frame with the schema when the bundle lacks it
    named = set(spec.columns) | set(spec.sort) | set(spec.times) | {c for c, _ in spec.clip + spec.labels}
    assert named <= set(frame.columns), f"{spec.source}: no column {sorted(named - set(frame.columns))}"

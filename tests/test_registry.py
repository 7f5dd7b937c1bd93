"""One name per artifact: the collection catalog, the parser registry and the loader agree.

Every file the collector or the probe writes is named in the catalog with a
kind; that kind must be a registered parser whose module carries the same
name, and the loader must identify the file by its name as that same kind.
Files without a kind are free text and must live under ``notes/``.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import mpkit.parsers as parsers
from mpkit.bundle import _canonical_kind
from mpkit.collect import catalog
from mpkit.collect.probe import ATTEMPTS_SOURCE
from mpkit.parsers import KINDS, SHARED_FILENAMES, module

SOURCES = [(plat, s) for plat, srcs in catalog.CATALOG.items() for s in srcs] + [("probe", ATTEMPTS_SOURCE)]


@pytest.mark.parametrize(("platform", "source"), SOURCES, ids=[f"{p}:{s.file}" for p, s in SOURCES])
def test_every_catalog_output_is_named_after_its_parser(platform: str, source: catalog.Source) -> None:
    if source.kind is None:
        assert source.file.startswith("notes/"), f"{source.file} has no parser and is not a note"
        assert _canonical_kind(source.file) is None
        return
    assert source.kind in KINDS, f"{platform}: {source.file} has kind {source.kind!r}, which no parser reads"
    mod = module(source.kind)
    assert mod.__name__ == f"mpkit.parsers.{source.kind}"
    assert mod.KIND == source.kind
    if source.kind in SHARED_FILENAMES.get(source.file, ()):
        return  # a name the bundle spec shares between platforms: the content decides
    assert _canonical_kind(source.file) == source.kind, (
        f"{source.file} is written as {source.kind!r} but loads as {_canonical_kind(source.file)!r}"
    )


def test_every_parser_module_is_registered_under_its_own_name() -> None:
    found = {m.name for m in pkgutil.iter_modules(parsers.__path__) if not m.name.startswith("_")}
    assert found == set(KINDS)
    for kind in KINDS:
        assert importlib.import_module(f"mpkit.parsers.{kind}").KIND == kind


def test_every_canonical_file_name_belongs_to_one_kind() -> None:
    owners: dict[str, list[str]] = {}
    for kind in KINDS:
        for fn in module(kind).FILENAMES:
            owners.setdefault(fn.lower(), []).append(kind)
    assert {fn: ks for fn, ks in owners.items() if len(ks) > 1} == {}

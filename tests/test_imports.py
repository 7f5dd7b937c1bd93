"""The package's imports point one way: from the reading layers up to the ones that use them.

Every ``import`` in ``mpkit/`` is read from the source (top-level, inside
functions and under ``TYPE_CHECKING`` alike) and resolved to a module of the
package.  Two properties are held:

* no cycle: no module reaches itself by following imports (a package's
  ``__init__`` re-exporting its own submodules is not an arrow back);
* layers: a module never imports one from a layer above its own (see the
  README's "Layout").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mpkit"

#: lowest first; a module belongs to the first layer one of whose prefixes it starts with
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "reading",
        (
            "mpkit.errors",
            "mpkit.regexes",
            "mpkit.macaddr",
            "mpkit.schema",
            "mpkit.frames",
            "mpkit.parsers",
            "mpkit.archive",
            "mpkit.sniff",
            "mpkit.paste",
            "mpkit.resources",
            "mpkit.deps",
            "mpkit.i18n",
        ),
    ),
    ("bundle", ("mpkit.bundle", "mpkit.samples")),
    ("derived", ("mpkit.derived",)),
    ("using", ("mpkit",)),
]


def _name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(name: str) -> bool:
    return (PKG.parent / name.replace(".", "/") / "__init__.py").exists()


def _resolve(name: str, modules: set[str]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    files = {_name(p): p for p in PKG.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        here = mod if _is_package(mod) else mod.rpartition(".")[0]
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from X import name`: the submodule X.name when there is one, else X itself
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for t in targets:
                r = _resolve(t, modules)
                if r is None or r == mod:
                    continue
                if _is_package(mod) and r.startswith(mod + "."):
                    continue  # a package re-exporting its own submodules
                out.add(r)
        graph[mod] = out
    return graph


def _layer(mod: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(mod == p or mod.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(mod)


GRAPH = _graph()


def test_the_graph_is_read() -> None:
    assert "mpkit.derived" in GRAPH["mpkit.diagnose.engine"]
    assert "mpkit.bundle" in GRAPH["mpkit.derived.attempts"]


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if state.get(n) == 1:
                cycles.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("mod", sorted(m for m in GRAPH if m != "mpkit"))
def test_no_import_points_up_a_layer(mod: str) -> None:
    up = sorted(n for n in GRAPH[mod] if n != "mpkit" and _layer(n) > _layer(mod))
    assert up == [], f"{mod} ({LAYERS[_layer(mod)][0]}) imports {up} from a layer above"

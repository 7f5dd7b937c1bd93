"""The sample bundles shipped in ``data/`` (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from .errors import BundleError

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT = "sequoia-ip-discovery"


def samples() -> dict[str, Path]:
    """Name → path of every sample bundle (directories under ``data/`` with a manifest)."""
    if not DATA.is_dir():
        return {}
    return {p.name: p for p in sorted(DATA.iterdir()) if p.is_dir() and (p / "manifest.json").exists()}


def sample(name: str = "default") -> Path:
    """The path of sample ``name`` (``"default"`` is the seed's Sequoia case)."""
    found = samples()
    key = DEFAULT if name == "default" else name
    if key not in found:
        raise BundleError(f"no sample named {name!r}; available: {', '.join(found) or 'none (data/ missing)'}")
    return found[key]

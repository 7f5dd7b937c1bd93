"""The sample bundles shipped with mpkit (the embedded default).

They live in ``data/`` at the top of a checkout, or in ``mpkit/data/`` when a
build copies them into the package.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BundleError

PACKAGE_DIR = Path(__file__).resolve().parent
ROOTS = (PACKAGE_DIR / "data", PACKAGE_DIR.parent / "data")
DEFAULT = "sequoia-ip-discovery"


def samples() -> dict[str, Path]:
    """Name → path of every sample bundle (a folder with a manifest, or an archive)."""
    found: dict[str, Path] = {}
    for root in ROOTS:
        if not root.is_dir():
            continue
        for p in sorted(root.iterdir()):
            if p.name.startswith((".", "_")):
                continue
            if (p.is_dir() and (p / "manifest.json").exists()) or p.name.endswith(
                (".tar.gz", ".tgz", ".zip")
            ):
                found.setdefault(p.name.split(".")[0], p)
    return found


def sample(name: str | None = "default") -> Path:
    """The path of sample ``name`` (``"default"`` is the seed's Sequoia case)."""
    key = DEFAULT if name in ("default", "", None) else str(name)
    found = samples()
    if key not in found:
        raise BundleError(
            f"no sample named {name!r}; available: {', '.join(found) or 'none (data/ missing)'}"
        )
    return found[key]

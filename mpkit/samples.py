"""The sample bundles shipped with mpkit (the embedded default).

They are package data: one folder per bundle under ``mpkit/samples_data/`` (written by
``scripts/make_samples.py``), found through :mod:`importlib.resources`, so an installed wheel
has them wherever it is run from. ``data/`` at the top of a checkout holds only the case
library, which is not shipped.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BundleError
from .i18n import Message
from .resources import package_path

#: the folder of sample bundles inside the package
SAMPLES_DIR = "samples_data"
DEFAULT = "sequoia-ip-discovery"


def samples_root() -> Path:
    """The installed folder holding the sample bundles."""
    return package_path(SAMPLES_DIR)


def samples() -> dict[str, Path]:
    """Name → path of every sample bundle (a folder with a manifest, or an archive)."""
    root = samples_root()
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for p in sorted(root.iterdir()):
        if p.name.startswith((".", "_")):
            continue
        if (p.is_dir() and (p / "manifest.json").exists()) or p.name.endswith((".tar.gz", ".tgz", ".zip")):
            found.setdefault(p.name.split(".")[0], p)
    return found


def sample(name: str | None = "default") -> Path:
    """The path of sample ``name`` (``"default"`` is the seed's Sequoia case)."""
    key = DEFAULT if name in ("default", "", None) else str(name)
    found = samples()
    if key not in found:
        raise BundleError(
            Message(
                "no sample named {name!r}; available: {found}",
                name=name,
                found=", ".join(found)
                or Message("none ({root} is missing: reinstall mpkit)", root=samples_root()),
            )
        )
    return found[key]

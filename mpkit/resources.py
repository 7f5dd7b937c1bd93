"""Files shipped inside the package (notebooks, sample bundles, rules), found through importlib.resources.

The code never looks outside the package for them, so a wheel installed anywhere finds the
same files as a checkout. When the package is imported from something that is not a folder
(a zip), the resource is extracted once into a temporary copy that lives until exit.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def package_path(*parts: str) -> Path:
    """The file-system path of ``mpkit/<parts…>`` (it may not exist; callers say what is missing)."""
    res = resources.files(__package__ or "mpkit")
    for part in parts:
        res = res.joinpath(part)
    if isinstance(res, Path):
        return res
    return Path(_extracted.enter_context(resources.as_file(res)))

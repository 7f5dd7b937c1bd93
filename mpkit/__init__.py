"""mpkit: diagnose Multipass instances that will not start.

>>> import mpkit
>>> b = mpkit.load_bundle(mpkit.sample())          # doctest: +SKIP
>>> d = mpkit.diagnose(b)                            # doctest: +SKIP
>>> d.root_cause.id, d.failed_stage                  # doctest: +SKIP
('ip-discovery-failed', 'ip-discovery')
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"  # the only place the version is written (pyproject reads it)

from .archive import Limits
from .bundle import Bundle, load_bundle, load_text
from .derived import Derived, derive
from .diagnose import Diagnosis, diagnose
from .errors import BundleError, CollectError, DiagnoseError, MpkitError, ParseError, ReportError
from .samples import sample, samples

__all__ = [
    "Bundle",
    "BundleError",
    "CollectError",
    "Diagnosis",
    "DiagnoseError",
    "Derived",
    "Limits",
    "MpkitError",
    "ParseError",
    "ReportError",
    "__version__",
    "derive",
    "diagnose",
    "load_bundle",
    "load_text",
    "sample",
    "samples",
]

"""mpkit's exception tree.

Every error says what went wrong *and* what to do next; the CLI prints the
message on one line and exits non-zero.
"""

from __future__ import annotations


class MpkitError(Exception):
    """Base class of every error mpkit raises on purpose."""


class BundleError(MpkitError):
    """The input cannot be read as a bundle (missing, hostile archive, too big)."""


class ParseError(MpkitError):
    """An artifact could not be parsed at all (single bad lines are never errors)."""


class CollectError(MpkitError):
    """Collection could not start (output directory unusable, bad arguments)."""


class ReportError(MpkitError):
    """A report could not be produced (bad parameters, notebook failed)."""


class DiagnoseError(MpkitError):
    """The diagnosis engine was asked for something that does not exist."""

"""mpkit's exception tree.

Every error says what went wrong *and* what to do next; the CLI prints the
message on one line and exits non-zero. A message given as a
:class:`~mpkit.i18n.Message` is shown in the current language.
"""

from __future__ import annotations

from .i18n import localize


class MpkitError(Exception):
    """Base class of every error mpkit raises on purpose."""

    def __str__(self) -> str:
        if len(self.args) == 1:
            return str(localize(self.args[0]))
        return super().__str__()


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

"""What the registry knows about one sample: its name, how to build it, and its part of the README."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mpkit.samples import DEFAULT

from .bundle import Bundle


@dataclass(frozen=True)
class Sample:
    """One sample bundle: ``build()`` writes it; the rest is its row and section of the samples README."""

    name: str
    build: Callable[[], Bundle]
    #: the README table's cells: host, Multipass, intended root cause, failed stage
    host: str
    multipass: str
    cause: str
    stage: str
    #: its README section (``## name`` heading, then what the bundle shows)
    readme: str

    @property
    def default(self) -> bool:
        """Whether ``mpkit.sample()`` returns this one."""
        return self.name == DEFAULT

    def row(self) -> str:
        """Its line of the README table."""
        label = f"`{self.name}/`" + (" (default)" if self.default else "")
        return f"| {label} | {self.host} | {self.multipass} | {self.cause} | {self.stage} |\n"

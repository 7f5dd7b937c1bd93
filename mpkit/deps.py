"""What to ``pip install`` when a module mpkit needs is missing: one line, never a traceback.

The answer is read from mpkit's own installed requirements (``pyproject.toml`` is the one list):
a module of an extra gives ``pip install 'mpkit[extra]'``, a core dependency the requirement
itself (``pip install 'nbformat>=5.10'``), anything else its distribution name.

>>> install_hint("distributed")                      # doctest: +SKIP
"pip install 'mpkit[dask]'"
"""

from __future__ import annotations

import re
from importlib import metadata

from .i18n import _

#: import name → distribution name, where they differ
DISTRIBUTIONS = {
    "distributed": "dask",
    "IPython": "ipython",
    "jupyter_client": "jupyter-client",
    "zmq": "pyzmq",
    "yaml": "PyYAML",
    "PIL": "pillow",
}
#: extras that only exist to run the test suite (never suggested to a user)
PRIVATE_EXTRAS = {"test"}

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution(module: str) -> str:
    """The distribution that provides the top-level module of ``module`` (``IPython.display`` → ipython)."""
    top = module.split(".")[0]
    return DISTRIBUTIONS.get(top, top)


def install_hint(module: str) -> str:
    """The exact ``pip install …`` that provides ``module`` for mpkit."""
    dist = distribution(module)
    try:
        requires = metadata.requires("mpkit") or []
    except metadata.PackageNotFoundError:
        requires = []
    extras: list[str] = []
    for req in requires:
        m = _NAME.match(req)
        if not m or _norm(m[1]) != _norm(dist):
            continue
        spec, _, marker = req.partition(";")
        extra = _EXTRA.search(marker)
        if extra is None:
            return f"pip install '{spec.strip()}'"
        if extra[1] not in PRIVATE_EXTRAS:
            extras.append(extra[1])
    if extras:
        return f"pip install 'mpkit[{extras[0]}]'"
    return f"pip install {dist}"


def missing_module_message(module: str, command: str | None = None) -> str:
    """One line for a module that could not be imported: what is missing and the command that fixes it."""
    who = f"`mpkit {command}`" if command else "mpkit"
    return _("{who} needs the Python module {module!r}, which is not installed; run: {command}").format(
        who=who, module=module, command=install_hint(module)
    )

"""The diagnosis notebook's interface: its parameters, checked before any kernel starts, and the
mime type of the machine-readable diagnosis it emits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import BundleError, ReportError
from ..i18n import SUPPORTED_LANGUAGES, Message, resolve_language
from ..samples import sample

if TYPE_CHECKING:
    from ..bundle import Bundle
    from ..diagnose.model import Diagnosis

#: the mime type of the machine-readable diagnosis the notebook emits (not rendered in HTML)
DIAGNOSIS_MIME = "application/vnd.mpkit.diagnosis+json"


def diagnosis_payload(name: str, bundle: Bundle, diagnosis: Diagnosis) -> dict[str, Any]:
    """The machine-readable diagnosis of one bundle: its name, the JSON contract and the host facts."""
    h = bundle.host
    return {
        "bundle": name,
        "diagnosis": diagnosis.to_dict(),
        "host": {
            "platform": h.platform,
            "os_name": h.os_name,
            "os_version": h.os_version,
            "multipass_version": h.multipass_version,
            "driver": h.driver,
        },
    }


@dataclass(frozen=True)
class Param:
    """One notebook parameter: the types it accepts, its default and what it means."""

    types: tuple[type, ...]
    default: Any
    help: str


#: the notebook's parameters: name → accepted types, default, meaning
PARAMETERS: dict[str, Param] = {
    "bundle": Param(
        (str, os.PathLike), None, "bundle directory, archive or artifact file (None: the default sample)"
    ),
    "instance": Param((str,), None, "instance to diagnose (None: the one whose start failed last)"),
    "attempt": Param((int,), None, "start attempt number, 1-based (None: the latest failed one)"),
    "since": Param(
        (str, pd.Timestamp),
        None,
        "show events from this time on (ISO 8601, bundle clock unless an offset is given)",
    ),
    "until": Param((str, pd.Timestamp), None, "show events up to this time"),
    "redact": Param((bool,), False, "pseudonymise host names, user names, MACs and LAN IPs in the report"),
    "title": Param((str,), None, "report title (None: derived from the bundle name)"),
    "lang": Param(
        (str,), None, "language of the report: en or zh-CN (None: MPKIT_LANG, else the locale, else English)"
    ),
    "prepared": Param(
        (str, os.PathLike),
        None,
        "where the process that runs the notebook writes the loaded bundle and its diagnosis (None: made here)",
    ),
}


def _parse_time(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ReportError(
            Message(
                "parameter {name}={value!r} is not a time; use ISO 8601 such as 2024-09-18T13:57:00",
                name=name,
                value=value,
            )
        ) from exc
    if ts is pd.NaT:
        raise ReportError(
            Message(
                "parameter {name}={value!r} is not a time; use ISO 8601 such as 2024-09-18T13:57:00",
                name=name,
                value=value,
            )
        )
    return ts.isoformat()


def validate_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Check the notebook parameters (names, types, existence, allowed values) and normalise them.

    Returns a complete dict (defaults filled in, ``bundle`` an absolute path string, times ISO
    strings) that papermill can inject. Raises :class:`ReportError` naming the bad parameter.
    """
    if not isinstance(params, dict):
        raise ReportError(Message("parameters must be a dict of name → value"))
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ReportError(
            Message(
                "unknown report parameter(s): {unknown}; known: {known}",
                unknown=", ".join(unknown),
                known=", ".join(PARAMETERS),
            )
        )
    out: dict[str, Any] = {}
    for name, spec in PARAMETERS.items():
        value = params.get(name, spec.default)
        if value is None:
            out[name] = None
            continue
        if isinstance(value, bool) and bool not in spec.types:
            raise ReportError(
                Message(
                    "parameter {name} must be {typenames} or None, not a bool",
                    name=name,
                    typenames=_typenames(spec.types),
                )
            )
        if not isinstance(value, spec.types):
            raise ReportError(
                Message(
                    "parameter {name} must be {typenames}, not {type} ({value!r})",
                    name=name,
                    typenames=_typenames(spec.types),
                    type=type(value).__name__,
                    value=value,
                )
            )
        out[name] = value
    if out["redact"] is None:
        out["redact"] = False
    raw = None if out["bundle"] is None else os.fspath(out["bundle"])
    if raw is None or raw.startswith("sample:"):
        try:
            out["bundle"] = str(sample(None if raw is None else raw.split(":", 1)[1]))
        except BundleError as exc:
            raise ReportError(str(exc)) from exc
    else:
        p = Path(raw).expanduser()
        if not p.exists():
            raise ReportError(
                Message(
                    "bundle {raw!r} does not exist; give a bundle directory, archive or artifact file",
                    raw=raw,
                )
            )
        out["bundle"] = str(p.resolve())
    if out["instance"] is not None and not out["instance"].strip():
        raise ReportError(Message("parameter instance is empty; give an instance name or leave it out"))
    if out["attempt"] is not None and out["attempt"] < 1:
        raise ReportError(
            Message(
                "parameter attempt must be ≥ 1 (attempts are numbered from 1), not {attempt}",
                attempt=out["attempt"],
            )
        )
    out["since"] = _parse_time("since", out["since"])
    out["until"] = _parse_time("until", out["until"])
    if out["since"] and out["until"]:
        a, b = pd.Timestamp(out["since"]), pd.Timestamp(out["until"])
        if (a.tzinfo is None) != (b.tzinfo is None):
            raise ReportError(Message("since and until must both carry a UTC offset or both have none"))
        if a > b:
            raise ReportError(
                Message("since ({since}) is after until ({until})", since=out["since"], until=out["until"])
            )
    if out["prepared"] is not None:
        out["prepared"] = os.fspath(out["prepared"])
    if out["title"] is not None and len(out["title"]) > 200:
        raise ReportError(Message("parameter title is longer than 200 characters"))
    try:
        out["lang"] = resolve_language(out["lang"])
    except ValueError as exc:
        raise ReportError(
            Message(
                "parameter lang={lang!r} is not a language mpkit speaks; use one of {choices}",
                lang=out["lang"],
                choices=", ".join(SUPPORTED_LANGUAGES),
            )
        ) from exc
    return out


def _typenames(types: tuple[type, ...]) -> str:
    names = {
        "PathLike": Message("a path"),
        "str": Message("a string"),
        "int": Message("an integer"),
        "bool": Message("true/false"),
        "Timestamp": Message("a time"),
    }
    found = [names.get(t.__name__, t.__name__) for t in types]
    if len(found) == 2:
        return Message("{first} or {second}", first=found[0], second=found[1])
    return Message.joined(", ", found)

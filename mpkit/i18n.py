"""Translations of everything mpkit shows to people (terminal, HTML report, charts).

The catalogs are standard gettext files in ``mpkit/locale/<locale>/LC_MESSAGES/mpkit.mo``,
read with the standard library only. English is the source language: a string
that has no translation is shown as written.

The language is chosen, first match wins, from:

1. an explicit choice (``mpkit … --lang zh-CN``, or :func:`set_language`);
2. the ``MPKIT_LANG`` environment variable;
3. the locale: ``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``;
4. English.

An unsupported language named by the environment falls back to English; one
named explicitly is an error (:func:`parse_language`).

Usage::

    from mpkit.i18n import _, ngettext
    print(_("What to do (least destructive first)"))
    print(ngettext("{n} attempt", "{n} attempts", n).format(n=n))

Strings in module-level data (table titles, chart labels) are marked with
:func:`N_` and translated where they are shown, so switching the language at run
time takes effect everywhere.

Text built from data at diagnosis time (a cause's summary filled with the
facts of the bundle, a check's finding) is a :class:`Message`: a ``str`` whose
value is the English text, so the machine-readable output (``mpkit diagnose
--json``, cause and check ids, JSON keys) stays English, and which remembers its
template and facts, so :func:`localize` can say it again in the current language.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LOCALE_DIR",
    "SUPPORTED_LANGUAGES",
    "Message",
    "N_",
    "_",
    "current_language",
    "gettext",
    "is_chinese",
    "language",
    "localize",
    "ngettext",
    "normalize_language",
    "parse_language",
    "resolve_language",
    "separator",
    "set_language",
]

#: gettext domain: the catalogs are ``<LOCALE_DIR>/<locale>/LC_MESSAGES/mpkit.mo``.
DOMAIN = "mpkit"
#: where the compiled catalogs ship inside the package
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: the language when nothing else chooses one
DEFAULT_LANGUAGE = "en"
#: BCP 47 tag (as written in ``<html lang>``) → gettext locale directory name
SUPPORTED_LANGUAGES: dict[str, str] = {"en": "en", "zh-CN": "zh_CN"}
#: environment variables read, in order, after an explicit choice
ENV_ORDER = ("MPKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG")

# Simplified-Chinese spellings that all mean zh-CN (script Hans or a mainland/Singapore region).
_ZH_HANS = {"zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg", "zh-chs"}

_explicit: str | None = None


def normalize_language(value: str | None) -> str | None:
    """The supported language tag ``value`` names, or None.

    Accepts BCP 47 tags and POSIX locale names in any case, with or without an
    encoding or modifier: ``zh-CN``, ``zh_CN.UTF-8``, ``zh_Hans``, ``zh`` → ``zh-CN``;
    ``en``, ``en_GB.UTF-8``, ``C``, ``POSIX`` → ``en``. Anything else (``fr_FR``,
    ``zh_TW``, an empty string) → None, until that language is supported.
    """
    if value is None:
        return None
    v = value.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    if not v:
        return None
    if v in ("c", "posix"):
        return DEFAULT_LANGUAGE
    if v in _ZH_HANS:
        return "zh-CN"
    for tag, locale in SUPPORTED_LANGUAGES.items():
        if v in (tag.lower(), locale.replace("_", "-").lower()):
            return tag
    base = v.split("-", 1)[0]
    return next((tag for tag in SUPPORTED_LANGUAGES if tag.lower() == base), None)


def parse_language(value: str) -> str:
    """``value`` as a supported language tag; ValueError naming the choices otherwise.

    For explicit choices (``--lang``, a report parameter), where a typo must not
    silently give English.
    """
    lang = normalize_language(value)
    if lang is None:
        choices = ", ".join(SUPPORTED_LANGUAGES)
        raise ValueError(f"unsupported language {value!r}: choose one of {choices}")
    return lang


def resolve_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to use: ``explicit``, else ``MPKIT_LANG``, else the locale, else English.

    ``explicit`` must be supported (ValueError otherwise). Among the environment
    variables the first one that is set and non-empty decides, as POSIX does for
    the locale; when it names an unsupported language the result is English.
    """
    if explicit:
        return parse_language(explicit)
    env = os.environ if environ is None else environ
    for name in ENV_ORDER:
        value = env.get(name)
        if value:
            return normalize_language(value) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def set_language(lang: str | None) -> str:
    """Choose the language for everything shown from now on; returns the tag chosen.

    ``None`` forgets an earlier choice, so the environment decides again.
    """
    global _explicit
    _explicit = None if lang is None else parse_language(lang)
    return current_language()


def current_language() -> str:
    """The language in use: the one set by :func:`set_language`, else from the environment."""
    return _explicit if _explicit is not None else resolve_language()


def is_chinese(lang: str | None = None) -> bool:
    """Whether ``lang`` (default: the current language) is Simplified Chinese."""
    return (lang or current_language()) == "zh-CN"


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Use ``lang`` inside the ``with`` block, then restore the previous choice."""
    global _explicit
    before = _explicit
    try:
        yield set_language(lang)
    finally:
        _explicit = before


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext catalog of ``lang`` (an identity catalog for English or when none ships)."""
    locale = SUPPORTED_LANGUAGES.get(lang)
    if locale is None or lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[locale], fallback=True)


def gettext(message: str) -> str:
    """``message`` in the current language."""
    if not message:
        return message
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form that fits ``n``, in the current language."""
    return translations(current_language()).ngettext(singular, plural, n)


def _(message: str) -> str:
    """``message`` in the current language (the usual gettext marker)."""
    return gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (translate where shown)."""
    return message


class _Facts(dict[str, Any]):
    """Facts for a template: a placeholder with no value reads ``?``."""

    def __missing__(self, key: str) -> str:
        return "?"


#: list separators in each language (English ones are used as written)
SEPARATORS: dict[str, dict[str, str]] = {"zh-CN": {", ": "，", "; ": "；"}}


def separator(sep: str) -> str:
    """The list separator ``sep`` (``", "`` or ``"; "``) as the current language writes it."""
    return SEPARATORS.get(current_language(), {}).get(sep, sep)


def _fill(template: str, facts: Mapping[str, Any], *, localized: bool) -> str:
    values = {k: (localize(v) if localized else v) for k, v in facts.items() if v is not None}
    if localized and "sep" in values:
        values["sep"] = separator(values["sep"])
    return template.format_map(_Facts(values))


class Message(str):
    """English text that can be said again in another language.

    The string value is ``template`` filled with ``facts`` (``str.format`` fields; a
    missing or None fact reads ``?``), so a Message is the English text wherever a
    ``str`` is expected (JSON, comparisons, hashing). :meth:`localized` translates
    the template and fills it with the facts, themselves localized when they are
    Messages. ``translatable=False`` keeps the template as it is in every language
    (data such as a joined list). :meth:`literal` makes a Message of text that is
    not a template.
    """

    template: str
    facts: dict[str, Any]
    translatable: bool
    formatted: bool

    def __new__(cls, template: str, /, *, translatable: bool = True, **facts: Any) -> Message:
        """``template`` filled with ``facts`` in English, remembering both to say it again in another language."""
        self = super().__new__(cls, _fill(template, facts, localized=False))
        self.template, self.facts, self.translatable, self.formatted = template, facts, translatable, True
        return self

    @classmethod
    def fill(cls, template: str, facts: Mapping[str, Any], *, translatable: bool = True) -> Message:
        """``template`` filled with ``facts`` (a mapping, so any fact name is allowed)."""
        self = super().__new__(cls, _fill(template, facts, localized=False))
        self.template, self.facts, self.translatable, self.formatted = (
            template,
            dict(facts),
            translatable,
            True,
        )
        return self

    @classmethod
    def literal(cls, text: str) -> Message:
        """``text`` as written (no placeholders), translated as a whole."""
        self = super().__new__(cls, text)
        self.template, self.facts, self.translatable, self.formatted = text, {}, True, False
        return self

    @classmethod
    def joined(cls, separator: str, items: Iterable[Any]) -> Message:
        """``separator.join(items)`` whose items are localized one by one (and ``, ``/``; `` too)."""
        parts = list(items)
        template = "{sep}".join(f"{{p{i}}}" for i in range(len(parts)))
        return cls(template, translatable=False, sep=separator, **{f"p{i}": p for i, p in enumerate(parts)})

    def localized(self) -> str:
        """This text in the current language (English: the string itself)."""
        if current_language() == DEFAULT_LANGUAGE:
            return str(self)
        template = gettext(self.template) if self.translatable else self.template
        if not self.formatted:
            return template
        return _fill(template, self.facts, localized=True)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (str(self), self.template, self.facts, self.translatable, self.formatted))


def _restore(text: str, template: str, facts: dict[str, Any], translatable: bool, formatted: bool) -> Message:
    self = str.__new__(Message, text)
    self.template, self.facts, self.translatable, self.formatted = template, facts, translatable, formatted
    return self


def localize(value: Any) -> Any:
    """``value`` in the current language when it is a :class:`Message`; anything else unchanged."""
    return value.localized() if isinstance(value, Message) else value

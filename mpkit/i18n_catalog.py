"""The translation catalogs: extracting the messages, updating the ``.po`` files, compiling ``.mo``.

The messages come from three kinds of source:

* Python code: calls of ``_``, ``N_``, ``gettext``, ``ngettext``, :class:`mpkit.i18n.Message` and the
  check titles given to ``@check("id", "title")``;
* the rules data (``mpkit/diagnose/rules/*.json``): cause titles, summaries, remediation and
  prevention steps and their warnings, check titles of the log signatures, rule messages, and the
  notes in words that end some commands of ``collect-next.json``;
* the diagnosis notebook's markdown cells (the report's headings), translated when the report is
  exported.

Usage (needs Babel, which the ``test`` extra installs; mpkit itself reads the ``.mo`` files with the
standard library only)::

    python -m mpkit.i18n_catalog extract   # writes mpkit/locale/mpkit.pot
    python -m mpkit.i18n_catalog update    # merges the .pot into every .po (new messages untranslated)
    python -m mpkit.i18n_catalog compile   # writes every .mo next to its .po
    python -m mpkit.i18n_catalog check     # exit 1 when a message is untranslated, fuzzy or stale

``pybabel extract -F babel.cfg`` with the keywords in :data:`KEYWORDS` gives the same ``.pot``.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .i18n import DOMAIN, LOCALE_DIR, SUPPORTED_LANGUAGES

#: the package directory, whose sources are scanned
PACKAGE = Path(__file__).resolve().parent
#: the template every catalog is updated from
POT = LOCALE_DIR / f"{DOMAIN}.pot"
#: Babel keywords: function name → which arguments are the message (singular, plural)
KEYWORDS: dict[str, Any] = {
    "_": None,
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "Message": None,
    "check": (2,),
}
#: how a catalog's header names its language
LANGUAGE_NAMES = {"zh-CN": "Simplified Chinese (zh-CN)"}
#: the rules files that hold rules (each with a ``message``)
_RULE_FILES_SKIPPED = {"causes.json", "signatures.json", "model.json", "groups.json", "collect-next.json"}
_COMMAND_NOTE = re.compile(r"^(?P<command>.*\S) \((?P<note>[a-z][^()`]*)\)$")
#: cells with this tag are left out of the report, so their text needs no translation
_NOTEBOOK_ONLY = "notebook-only"

Extracted = tuple[int, str | None, str | tuple[str, ...], list[str]]


def _rules_messages(name: str, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every text of one rules file that people read."""
    if name == "causes.json":
        for cid, cause in data.get("causes", {}).items():
            for key in ("title", "summary"):
                if cause.get(key):
                    yield f"{cid}.{key}", cause[key]
            for part in ("remediation", "prevention"):
                for i, step in enumerate(cause.get(part, [])):
                    for key in ("text", "warning", "backup"):
                        if step.get(key):
                            yield f"{cid}.{part}[{i}].{key}", step[key]
        for i, step in enumerate(data.get("prevention", [])):
            if step.get("text"):
                yield f"prevention[{i}].text", step["text"]
    elif name == "signatures.json":
        for sig in data.get("signatures", []):
            yield f"{sig['check']}.title", sig["title"]
    elif name == "collect-next.json":
        for cid, per in data.get("commands", {}).items():
            for platform, (_file, command) in per.items():
                m = _COMMAND_NOTE.match(command)
                if m:
                    yield f"{cid}.{platform}", "{command} (" + m["note"] + ")"
    elif name not in _RULE_FILES_SKIPPED:
        for rule in data.get("rules", []):
            if rule.get("message"):
                yield rule["rule"], rule["message"]


def extract_rules(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Extracted]:
    """Babel extractor for ``mpkit/diagnose/rules/*.json`` (``babel.cfg`` names it)."""
    raw = fileobj.read()
    data = json.loads(raw)
    name = Path(getattr(fileobj, "name", "")).name or str(options.get("filename", ""))
    text = raw.decode("utf-8")
    for where, message in _rules_messages(name, data):
        # the line where the text first appears (JSON escapes aside), for the translator's reference
        needle = json.dumps(message, ensure_ascii=False)
        line = text[: max(text.find(needle), 0)].count("\n") + 1
        yield line, None, message, [where]


def extract_python(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str | tuple[str | None, ...], list[str]]]:
    """Babel extractor for Python read from the syntax tree, so calls inside f-strings count too.

    A call of a keyword function (see :data:`KEYWORDS`) whose message arguments are string literals
    gives one message; other calls are skipped.
    """
    import ast

    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if name is None or name not in keywords:
            continue
        spec = KEYWORDS.get(name) or (1,)
        values: list[str | None] = []
        for i in range(max(spec)):
            arg = node.args[i] if i < len(node.args) else None
            ok = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            values.append(arg.value if ok else None)  # type: ignore[union-attr]
        if all(values[i - 1] for i in spec):
            yield node.lineno, name, tuple(values) if len(values) > 1 else values[0], []  # type: ignore[misc]


def extract_notebook(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Extracted]:
    """Babel extractor for the report notebook: each markdown cell shown in the report is a message."""
    nb = json.loads(fileobj.read())
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        if _NOTEBOOK_ONLY in (cell.get("metadata", {}).get("tags") or []):
            continue
        source = "".join(cell.get("source", []))
        if source.strip():
            yield i + 1, None, source, [f"cell {i + 1}"]


def _sources() -> Iterator[tuple[Path, Any]]:
    """Every file with messages and the extractor for it."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "locale" not in path.parts and "samples_data" not in path.parts:
            yield path, extract_python
    for path in sorted((PACKAGE / "diagnose" / "rules").glob("*.json")):
        yield path, extract_rules
    yield PACKAGE / "notebooks" / "diagnose.ipynb", extract_notebook


def build_template() -> Any:
    """The message template (a Babel ``Catalog``) extracted from the current sources."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract

    from . import __version__

    cat = Catalog(project="mpkit", version=__version__, charset="utf-8", fuzzy=False)
    root = PACKAGE.parent
    for path, method in _sources():
        with path.open("rb") as f:
            for lineno, message, comments, context in extract(
                method, f, keywords=KEYWORDS, comment_tags=("Translators:",)
            ):
                where = path.relative_to(root).as_posix()
                if isinstance(message, tuple) and not message[0]:
                    continue
                cat.add(
                    message,
                    None,
                    locations=[(where, lineno)],
                    auto_comments=comments,
                    context=context,
                    flags=("python-brace-format",) if _has_fields(message) else (),
                )
    return cat


def _has_fields(message: str | tuple[str, ...]) -> bool:
    text = message if isinstance(message, str) else message[0]
    return bool(re.search(r"(?<!\{)\{[A-Za-z_][^{}]*\}", text))


def _tidy(catalog: Any, language_name: str | None = None) -> Any:
    """The catalog's header filled in for mpkit (Babel leaves placeholders and a fuzzy flag)."""
    from . import __version__

    catalog.project, catalog.version = "mpkit", __version__
    catalog.copyright_holder = "mpkit contributors"
    catalog.msgid_bugs_address = ""
    catalog.fuzzy = False
    what = f"{language_name} translation" if language_name else "Translation template"
    catalog.header_comment = (
        f"# {what} of mpkit's messages (python -m mpkit.i18n_catalog update).\n"
        "# This file is distributed under the same license as mpkit (Apache-2.0).\n#"
    )
    if language_name:
        catalog.last_translator = "mpkit contributors"
        catalog.language_team = language_name
        catalog.revision_date = catalog.creation_date
    return catalog


def _write(catalog: Any, path: Path) -> None:
    from babel.messages.pofile import write_po

    buf = io.BytesIO()
    write_po(buf, catalog, width=100, sort_output=False, omit_header=False, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def po_path(lang: str) -> Path:
    """The ``.po`` file of language tag ``lang`` (``zh-CN`` → ``locale/zh_CN/LC_MESSAGES/mpkit.po``)."""
    return LOCALE_DIR / SUPPORTED_LANGUAGES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_po(lang: str) -> Any:
    """The catalog of ``lang`` as Babel reads it."""
    from babel.messages.pofile import read_po as _read

    with po_path(lang).open("rb") as f:
        return _read(f, locale=SUPPORTED_LANGUAGES[lang])


def compiled(lang: str) -> bytes:
    """The ``.mo`` bytes the ``.po`` of ``lang`` compiles to (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo

    buf = io.BytesIO()
    write_mo(buf, read_po(lang), use_fuzzy=False)
    return buf.getvalue()


def translated_languages() -> list[str]:
    """The languages that ship a catalog (every supported one except English)."""
    return [lang for lang in SUPPORTED_LANGUAGES if lang != "en"]


def extract() -> Path:
    """Write the ``.pot`` template from the sources."""
    _write(_tidy(build_template()), POT)
    return POT


def update() -> list[Path]:
    """Merge the template into every ``.po`` (new messages untranslated, gone ones dropped)."""
    template = build_template()
    out = []
    for lang in translated_languages():
        path = po_path(lang)
        if path.exists():
            cat = read_po(lang)
            cat.update(template, no_fuzzy_matching=True)
            cat.obsolete.clear()
        else:
            from babel.messages.catalog import Catalog

            cat = Catalog(locale=SUPPORTED_LANGUAGES[lang], project="mpkit", charset="utf-8")
            cat.update(template, no_fuzzy_matching=True)
        _write(_tidy(cat, LANGUAGE_NAMES.get(lang, lang)), path)
        out.append(path)
    return out


def compile_all() -> list[Path]:
    """Write every ``.mo`` next to its ``.po``."""
    out = []
    for lang in translated_languages():
        mo = po_path(lang).with_suffix(".mo")
        mo.write_bytes(compiled(lang))
        out.append(mo)
    return out


def problems(lang: str) -> list[str]:
    """What is wrong with the catalog of ``lang``: messages missing, untranslated, fuzzy, or whose
    translation lost or gained a ``{placeholder}``; a stale ``.mo``."""
    template = build_template()
    cat = read_po(lang)
    out = []
    for msg in template:
        if not msg.id:
            continue
        got = cat.get(msg.id, context=msg.context)
        if got is None:
            out.append(f"missing: {_short(msg.id)}")
            continue
        strings = got.string if isinstance(got.string, tuple | list) else (got.string,)
        if not all(strings):
            out.append(f"untranslated: {_short(msg.id)}")
        elif got.fuzzy:
            out.append(f"fuzzy: {_short(msg.id)}")
        else:
            ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
            want = placeholders(ids[0])
            for s in strings:
                if placeholders(s) != want:
                    out.append(
                        f"placeholders differ: {_short(msg.id)}: {sorted(want)} vs {sorted(placeholders(s))}"
                    )
    mo = po_path(lang).with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != compiled(lang):
        out.append(
            f"{mo.name} is not compiled from {po_path(lang).name}: run `python -m mpkit.i18n_catalog compile`"
        )
    return out


_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|%\((\w+)\)[sdrf]")


def placeholders(text: str) -> set[str]:
    """The ``{name…}`` fields (with conversion and format spec) and ``%(name)s`` fields of ``text``."""
    out = set()
    for m in _FIELD.finditer(text):
        if m.group(1) is not None:
            out.add("{" + m.group(1) + "}")
        elif m.group(2) is not None:
            out.add(m.group(0))
    return out


def _short(msgid: Any) -> str:
    text = msgid if isinstance(msgid, str) else msgid[0]
    return text if len(text) <= 90 else text[:89] + "…"


def main(argv: list[str] | None = None) -> int:
    """``python -m mpkit.i18n_catalog extract|update|compile|check``."""
    args = sys.argv[1:] if argv is None else argv
    cmd = args[0] if args else "check"
    if cmd == "extract":
        print(extract())
    elif cmd == "update":
        extract()
        for p in update():
            print(p)
    elif cmd == "compile":
        for p in compile_all():
            print(p)
    elif cmd == "check":
        bad = [f"{lang}: {p}" for lang in translated_languages() for p in problems(lang)]
        print("\n".join(bad) or "every catalog is complete")
        return 1 if bad else 0
    else:
        print("usage: python -m mpkit.i18n_catalog extract|update|compile|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

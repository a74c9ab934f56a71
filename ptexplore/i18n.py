"""The interface's languages: one gettext message catalog, English and 简体中文.

* :func:`_` — the text a learner reads, in the language of the current rerun. The English
  text is the message id; the Chinese comes from ``ptexplore/locale/zh_CN/LC_MESSAGES/
  ptexplore.po``. Values go in as named ``str.format`` fields **after** the lookup
  (``_("{n} boxes").format(n=n)``): the id stays one fixed string a translator can see.
* :func:`N_` — marks text for the catalog where it is defined (module constants, enum
  labels, page titles) and returns it unchanged; :func:`_` translates it where it is read.
* :func:`language` — the language of one rerun (a ``ContextVar``: every learner's script
  thread has its own; the sandboxed jobs get the caller's, ``isolate`` passes it along).
  Outside any rerun it is the server's default (:data:`LANG_ENV`, ``serve --lang``).

Code, identifiers, numbers and torch's own messages are never translated: a code panel
prints the same in both languages. The catalog is read straight from the ``.po`` file by
the small reader below (no runtime dependency); the tests check it against Babel's reader
and check the catalog itself with Babel (every marked string translated, no fuzzy or empty
entry, the same placeholders). ``glossary.tsv`` beside it holds the terms the translation
uses (张量, 视图, 步长 …); the About box shows it.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

__all__ = [
    "LANG_ENV",
    "N_",
    "Lang",
    "_",
    "catalog",
    "current",
    "default",
    "glossary",
    "glossary_markdown",
    "language",
    "parse_lang",
]

#: The server's default language (``serve --lang zh``, ``make run LANG=zh``).
LANG_ENV = "PTEXPLORE_LANG"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOG = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "ptexplore.po"
GLOSSARY = LOCALE_DIR / "glossary.tsv"


class Lang(StrEnum):
    """A language of the interface; the value is what a link says (``?lang=zh``)."""

    EN = "en"
    ZH = "zh"

    @property
    def label(self) -> str:
        """The language's name in itself (the sidebar control shows both)."""
        return {Lang.EN: "English", Lang.ZH: "简体中文"}[self]


def parse_lang(text: str | None) -> Lang | None:
    """``"zh"``, ``"zh-CN"``, ``"zh_CN"``, ``"en"`` … → a :class:`Lang`; anything else → None."""
    if not text:
        return None
    head = text.strip().lower().replace("_", "-").split("-")[0]
    try:
        return Lang(head)
    except ValueError:
        return None


def default() -> Lang:
    """The server's language: :data:`LANG_ENV` when it names one, else English."""
    return parse_lang(os.environ.get(LANG_ENV)) or Lang.EN


_CURRENT: contextvars.ContextVar[Lang | None] = contextvars.ContextVar(
    "ptexplore.lang", default=None
)


def current() -> Lang:
    """The language of this rerun (this thread's context), else the server's default."""
    lang = _CURRENT.get()
    return lang if lang is not None else default()


def set_current(lang: Lang) -> None:
    """Set this context's language for the rest of the rerun (``ui.page`` calls it first)."""
    _CURRENT.set(lang)


@contextmanager
def language(lang: Lang) -> Iterator[None]:
    """Run a block in ``lang`` (a sandboxed job in its caller's language; tests)."""
    token = _CURRENT.set(lang)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; it is translated where it is read, with :func:`_`."""
    return message


def _(message: str) -> str:
    """``message`` (its English text) in the language of this rerun."""
    lang = current()
    if lang is Lang.EN or not message:
        return message
    return catalog(lang).get(message, message)


# --------------------------------------------------------------------------- the catalog


def _unquote(line: str, path: Path, number: int) -> str:
    text = line.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{path}:{number}: expected a quoted string, got {line!r}")
    value = ast.literal_eval(text)  # a C-style string: \n \t \" \\ as in Python
    if not isinstance(value, str):
        raise ValueError(f"{path}:{number}: not a string")
    return value


def read_po(path: Path) -> dict[str, tuple[str, bool]]:
    """A ``.po`` file as ``{msgid: (msgstr, fuzzy)}`` (the header entry, id ``""``, left out).

    Only what this catalog uses: comments, ``#, fuzzy`` flags, ``msgctxt``-free singular
    entries, strings continued over several quoted lines. A plural or context entry, or an
    entry given twice, is an error, not a silent skip.
    """
    entries: dict[str, tuple[str, bool]] = {}
    field: str | None = None
    parts: dict[str, list[str]] = {}
    fuzzy = False

    def flush() -> None:
        nonlocal fuzzy, field
        if "msgid" in parts:
            msgid = "".join(parts["msgid"])
            if msgid in entries:
                raise ValueError(f"{path}: {msgid[:60]!r} is in the catalog twice")
            if msgid:
                entries[msgid] = ("".join(parts.get("msgstr", [])), fuzzy)
        parts.clear()
        fuzzy = False
        field = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if "msgstr" in parts:
                flush()
            if line.startswith("#,") and "fuzzy" in [f.strip() for f in line[2:].split(",")]:
                fuzzy = True
            continue
        if line.startswith('"'):
            if field is None:
                raise ValueError(f"{path}:{number}: a string outside any entry")
            parts[field].append(_unquote(line, path, number))
            continue
        keyword, _sep, rest = line.partition(" ")
        if keyword not in ("msgid", "msgstr"):
            raise ValueError(f"{path}:{number}: {keyword} is not supported in this catalog")
        if keyword == "msgid" and "msgstr" in parts:
            flush()
        field = keyword
        parts[field] = [_unquote(rest, path, number)]
    flush()
    return entries


@functools.cache
def catalog(lang: Lang) -> dict[str, str]:
    """``{English: translation}`` for ``lang`` (read once per process; fuzzy and empty
    entries left out, so their English shows — the catalog test forbids both)."""
    if lang is Lang.EN:
        return {}
    return {k: v for k, (v, fuzzy) in read_po(CATALOG).items() if v and not fuzzy}


@functools.cache
def glossary() -> tuple[tuple[str, str, str], ...]:
    """The terms the translation uses: ``(English, 中文, a note)`` rows of ``glossary.tsv``."""
    rows: list[tuple[str, str, str]] = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2:
            raise ValueError(f"{GLOSSARY}: a row needs English and Chinese: {line!r}")
        rows.append((cells[0], cells[1], cells[2] if len(cells) > 2 else ""))
    return tuple(rows)


def _literal(text: str) -> str:
    """Glossary text as Markdown that shows it literally."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


@functools.cache
def glossary_markdown() -> str:
    """The glossary as one Markdown list, a term a line (``tensor → **张量** — a note``),
    the same in both languages: it wraps in the 300 px sidebar, where a three-column table
    did not fit. Built once: the About box on every page sends a string, not a dataframe."""
    return "\n".join(
        f"- {_literal(en)} → **{_literal(zh)}**" + (f" — {_literal(note)}" if note else "")
        for en, zh, note in glossary()
    )

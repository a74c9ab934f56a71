"""Untrusted text (file names, typed shapes, checkpoint keys, module names) made inert.

Streamlit renders messages, captions and metric labels as Markdown, with its own
extensions (``:red[…]`` colours, ``:material/…:`` icons, ``$…$`` maths) and GFM autolinks.
Text a learner or a file supplied must never become a link, an image, a colour or a
heading. Two helpers do that, everywhere:

* :func:`code_span` — the text as one literal code span (nothing inside a code span is
  interpreted), with backticks inside handled by a longer fence, newlines shown as ``⏎``,
  and long text shortened;
* :func:`md_escape` — the text as plain prose, every Markdown special backslash-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ptexplore.i18n import _

#: Untrusted text longer than this is shortened before it is echoed back.
ECHO_CHARS = 80

#: Characters with a meaning in (Streamlit) markdown. CommonMark allows a backslash before
#: any ASCII punctuation, so escaping all of them is always safe.
_MD_SPECIAL = frozenset("\\`*_{}[]()#!|<>~$:&\"'=")
#: What GFM turns into a link with no brackets at all: ``www.…``, ``…://…``, ``a@b.c``.
_AUTOLINK = re.compile(r"(?i)www\.|://|@")


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters with ``…`` (and the full length) when longer."""
    if len(text) <= limit:
        return text
    return _("{head}… ({n:,} characters)").format(head=text[:limit], n=len(text))


def _one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")


def code_span(text: str, *, limit: int = ECHO_CHARS) -> str:
    """``text`` as one Markdown code span that shows it literally (backticks included)."""
    # nothing in a code span is a link, but a word joiner between "](" keeps even a
    # renderer that got the span wrong from seeing one
    body = shorten(_one_line(str(text)), limit).replace("](", "]\u2060(")
    runs = re.findall(r"`+", body)
    fence = "`" * (max((len(r) for r in runs), default=0) + 1)
    pad = " " if runs or body.startswith(" ") or body.endswith(" ") else ""
    if not body:
        return "`" + _("(empty)") + "`"
    return f"{fence}{pad}{body}{pad}{fence}"


def md_escape(text: str, *, limit: int | None = None) -> str:
    """``text`` as inert Markdown prose: every special character backslash-escaped."""
    body = _one_line(str(text)) if limit is None else shorten(_one_line(str(text)), limit)
    # a word joiner inside "www." / "http:" breaks GFM's bare autolinks, which escaping
    # alone does not reliably stop
    body = _AUTOLINK.sub(lambda m: m.group(0)[:1] + "\u2060" + m.group(0)[1:], body)
    # ". - +" only matter at the start of a line (lists), where this text never is
    return "".join(f"\\{c}" if c in _MD_SPECIAL else c for c in body)


def named(names: Sequence[str], most: int) -> str:
    """The first ``most`` names as code spans: ``a``, ``b`` and 3 more ("" for none)."""
    shown = ", ".join(code_span(k) for k in names[:most])
    if len(names) > most:
        return _("{names} and {n} more").format(names=shown, n=len(names) - most)
    return shown


def named_reasons(pairs: Sequence[tuple[str, str]], most: int) -> str:
    """The first ``most`` (name, why) pairs: ``a`` why; ``b`` why (and 3 more)."""
    shown = _("; ").join(f"{code_span(k)} {why}" for k, why in pairs[:most])
    if len(pairs) > most:
        return _("{shown} (and {n} more)").format(shown=shown, n=len(pairs) - most)
    return shown

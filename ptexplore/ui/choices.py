"""Enum members as widget options, and their text in the rerun's language (every lab)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import TypeVar

from ptexplore.i18n import _

E = TypeVar("E", bound=Enum)


def choices(enum: type[E]) -> list[E]:
    """All members of ``enum``, typed (an inline ``list(Enum)`` reads as empty to mypy)."""
    return list(enum)


def shown(options: Iterable[E], text: Callable[[E], str] = str) -> Callable[[object], str]:
    """A ``format_func`` showing each option's (English, marked) text translated.

    The texts are translated now, in this rerun's language: a ``format_func`` may be
    called after the rerun (AppTest does), where the rerun's language is gone. A string
    equal to a member's value (a ``StrEnum``) finds that member's text.
    """
    texts = {o: _(text(o)) for o in options}
    return lambda v: texts.get(v, str(v))  # type: ignore[call-overload]

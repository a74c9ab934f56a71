"""Enum members as widget options."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


def choices(enum: type[E]) -> list[E]:
    """All members of ``enum``, typed (an inline ``list(Enum)`` reads as empty to mypy)."""
    return list(enum)

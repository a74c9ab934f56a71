"""The view lab's shapes: typed with the one size grammar (:mod:`ptexplore.parse`), then
checked against the lab's bounds and, where torch has an opinion, against torch itself.

Limits keep every figure small: at most :data:`MAX_DIMS` sizes and at most
:data:`MAX_ELEMENTS` elements. Where torch itself has an opinion (two ``-1`` sizes, a size
below ``-1``), the message is torch's own, obtained by asking torch (on the ``meta``
device, so nothing is allocated).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ptexplore.errors import InputError
from ptexplore.i18n import _
from ptexplore.limits import VIEW_MAX_DIMS as MAX_DIMS
from ptexplore.limits import VIEW_MAX_ELEMENTS as MAX_ELEMENTS
from ptexplore.parse import parse_ints
from ptexplore.text import code_span

__all__ = [
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "code_span",
    "format_shape",
    "parse_permutation",
    "parse_source_shape",
    "parse_target_shape",
    "torch_message",
]

_EXAMPLE = "2, 3, 4"


def torch_message(call: Callable[[], object]) -> str | None:
    """Run ``call``; return torch's own error text if it raises, else ``None``."""
    try:
        call()
    except (RuntimeError, IndexError, ValueError, TypeError) as err:
        return str(err).strip()
    return None


def _tokens(text: str, what: str) -> list[int]:
    dims = parse_ints(text, what, example=_EXAMPLE, max_dims=MAX_DIMS)
    for d in dims:
        if abs(d) > MAX_ELEMENTS:
            raise InputError(
                _(
                    "The size {d} is too large: this lab works with at most {max:,} elements."
                ).format(d=d, max=MAX_ELEMENTS),
                fix=_("Use smaller sizes so the grids stay readable."),
            )
    return dims


def parse_source_shape(text: str) -> tuple[int, ...]:
    """A source shape: 1–6 positive sizes, at most :data:`MAX_ELEMENTS` elements in all."""
    dims = tuple(_tokens(text, _("source shape")))
    for i, d in enumerate(dims):
        if d < 1:
            raise InputError(
                _(
                    "Source size {d} at position {i}: every source size must be at least 1 "
                    "(the source is a real tensor, so -1 has nothing to infer from)."
                ).format(d=d, i=i + 1),
                fix=_("Type positive sizes, e.g. `2, 3, 4`."),
            )
    n = math.prod(dims)
    if n > MAX_ELEMENTS:
        raise InputError(
            _(
                "The source shape {shape} has {n:,} elements; this lab works with at most {max:,}."
            ).format(shape=list(dims), n=n, max=MAX_ELEMENTS),
            fix=_("Use smaller sizes so every element fits on screen."),
        )
    return dims


def parse_target_shape(text: str) -> tuple[int, ...]:
    """A target shape: 1–6 sizes, each ``>= 0`` or ``-1`` (at most one ``-1``).

    Whether it fits the source is torch's verdict, not the parser's: ``"5, 5"`` parses and
    torch then says ``shape '[5, 5]' is invalid for input of size 24``.
    """
    dims = tuple(_tokens(text, _("target shape")))
    bad = [(i, d) for i, d in enumerate(dims) if d < -1]
    if bad:
        i, d = bad[0]
        msg = torch_message(lambda: torch.empty(0, device="meta").view(dims))
        raise InputError(
            # torch's own words (the fallback is torch's message too): never translated
            msg or f"invalid shape dimension {d} at index {i} of shape {list(dims)}",
            fix=_(
                "Sizes are counts (0 or more); the only negative size allowed is -1, "
                "meaning 'infer this one'."
            ),
        )
    n_infer = dims.count(-1)
    if n_infer > 1:
        msg = torch_message(lambda: torch.empty(0, device="meta").view(dims))
        raise InputError(
            _(
                "{torch} — the shape {shape} has {n} sizes of -1, and one equation "
                "(product = number of elements) can only solve for one unknown."
            ).format(
                torch=msg or "only one dimension can be inferred", shape=list(dims), n=n_infer
            ),
            fix=_("Keep a single -1 and type the other sizes."),
        )
    known = math.prod(d for d in dims if d != -1)
    if known > MAX_ELEMENTS:
        raise InputError(
            _(
                "The target shape {shape} asks for {n:,} elements; this lab works with "
                "at most {max:,}."
            ).format(shape=list(dims), n=known, max=MAX_ELEMENTS),
            fix=_(
                "A view keeps the element count: the product of the sizes must equal the "
                "source's element count."
            ),
        )
    return dims


def parse_permutation(text: str, ndim: int) -> tuple[int, ...]:
    """A ``permute`` order: each of ``0 … ndim-1`` exactly once (negative dims allowed)."""
    dims = tuple(_tokens(text, _("permute order")))
    example = ", ".join(str(d) for d in reversed(range(ndim)))
    if len(dims) != ndim:
        raise InputError(
            _(
                "permute needs one entry per dimension: the source has {ndim}, you typed {n}."
            ).format(ndim=ndim, n=len(dims)),
            fix=_("List every dimension once in the new order, e.g. `{example}`.").format(
                example=example
            ),
        )
    norm = tuple(d + ndim if d < 0 else d for d in dims)
    if any(not 0 <= d < ndim for d in norm) or sorted(norm) != list(range(ndim)):
        raise InputError(
            _(
                "`{dims}` is not an order of the dimensions 0…{last}: each must appear "
                "exactly once."
            ).format(dims=", ".join(map(str, dims)), last=ndim - 1),
            fix=_("e.g. `{example}` reverses them.").format(example=example),
        )
    return norm


def format_shape(dims: tuple[int, ...]) -> str:
    """``(2, -1)`` → ``"2, -1"`` — the argument list as it appears in code."""
    return ", ".join(str(d) for d in dims)

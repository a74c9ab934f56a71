"""Strict, bounded parsing of the shapes a learner types (``"2, 3, 4"``, ``"(2, -1)"``).

Accepted: ASCII integers separated by commas, optional surrounding ``()`` or ``[]``, one
optional trailing comma (``"6,"`` as in a Python tuple). Everything else raises
:class:`~ptexplore.errors.InputError` with a plain message and a fix — never another
exception. Limits keep every figure small: at most :data:`MAX_DIMS` sizes and at most
:data:`MAX_ELEMENTS` elements.

Where torch itself has an opinion (two ``-1`` sizes, a size below ``-1``), the message is
torch's own, obtained by asking torch (on the ``meta`` device, so nothing is allocated).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch

from ptexplore.errors import InputError

MAX_DIMS = 6
MAX_ELEMENTS = 10_000
#: Longest integer literal accepted (``10000`` has 5 digits; a sign adds one).
_MAX_TOKEN = 7
_INT = re.compile(r"-?[0-9]+")
_EXAMPLE = "2, 3, 4"


def torch_message(call: Callable[[], object]) -> str | None:
    """Run ``call``; return torch's own error text if it raises, else ``None``."""
    try:
        call()
    except (RuntimeError, IndexError, ValueError, TypeError) as err:
        return str(err).strip()
    return None


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, even when it contains backticks itself."""
    runs = re.findall(r"`+", text)
    fence = "`" * (max((len(r) for r in runs), default=0) + 1)
    pad = " " if runs else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _tokens(text: str, what: str) -> list[str]:
    if not isinstance(text, str):
        raise InputError(f"The {what} must be text such as `{_EXAMPLE}`.")
    body = text.strip()
    if len(body) > 200:
        raise InputError(
            f"The {what} is {len(body)} characters long; a shape is a few numbers.",
            fix=f"Type at most {MAX_DIMS} sizes, e.g. `{_EXAMPLE}`.",
        )
    if len(body) >= 2 and body[0] in "([" and body[-1] in ")]":
        if (body[0], body[-1]) not in {("(", ")"), ("[", "]")}:
            raise InputError(
                f"The {what} {code_span(body)} opens and closes with different brackets.",
                fix=f"Write `({_EXAMPLE})`, `[{_EXAMPLE}]` or just `{_EXAMPLE}`.",
            )
        body = body[1:-1].strip()
    if not body:
        raise InputError(
            f"The {what} is empty.", fix=f"Type sizes separated by commas, e.g. `{_EXAMPLE}`."
        )
    parts = [p.strip() for p in body.split(",")]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing comma, as in the Python tuple (6,)
    for i, part in enumerate(parts):
        if part == "":
            raise InputError(
                f"The {what} {code_span(text.strip())} has an empty size at position {i + 1}.",
                fix=f"Separate sizes with single commas, e.g. `{_EXAMPLE}`.",
            )
        if not _INT.fullmatch(part):
            shown = part if len(part) <= 20 else part[:20] + "…"
            raise InputError(
                f"{code_span(shown)} in the {what} is not a whole number: sizes are integers only.",
                fix=f"Type integers separated by commas, e.g. `{_EXAMPLE}`.",
            )
        if len(part) > _MAX_TOKEN or abs(int(part)) > MAX_ELEMENTS:
            shown = part if len(part) <= 20 else part[:20] + "…"
            raise InputError(
                f"The size {shown} is too large: this lab works with at most "
                f"{MAX_ELEMENTS:,} elements.",
                fix="Use smaller sizes so the grids stay readable.",
            )
    if len(parts) > MAX_DIMS:
        raise InputError(
            f"The {what} has {len(parts)} dimensions; this lab shows at most {MAX_DIMS}.",
            fix="Drop some dimensions (or merge them: a shape is just a way to read memory).",
        )
    return parts


def parse_source_shape(text: str) -> tuple[int, ...]:
    """A source shape: 1–6 positive sizes, at most :data:`MAX_ELEMENTS` elements in all."""
    dims = tuple(int(p) for p in _tokens(text, "source shape"))
    for i, d in enumerate(dims):
        if d < 1:
            raise InputError(
                f"Source size {d} at position {i + 1}: every source size must be at least 1 "
                "(the source is a real tensor, so -1 has nothing to infer from).",
                fix=f"Type positive sizes, e.g. `{_EXAMPLE}`.",
            )
    n = math.prod(dims)
    if n > MAX_ELEMENTS:
        raise InputError(
            f"The source shape {list(dims)} has {n:,} elements; this lab works with at most "
            f"{MAX_ELEMENTS:,}.",
            fix="Use smaller sizes so every element fits on screen.",
        )
    return dims


def parse_target_shape(text: str) -> tuple[int, ...]:
    """A target shape: 1–6 sizes, each ``>= 0`` or ``-1`` (at most one ``-1``).

    Whether it fits the source is torch's verdict, not the parser's: ``"5, 5"`` parses and
    torch then says ``shape '[5, 5]' is invalid for input of size 24``.
    """
    dims = tuple(int(p) for p in _tokens(text, "target shape"))
    bad = [(i, d) for i, d in enumerate(dims) if d < -1]
    if bad:
        i, d = bad[0]
        msg = torch_message(lambda: torch.empty(0, device="meta").view(dims))
        raise InputError(
            msg or f"invalid shape dimension {d} at index {i} of shape {list(dims)}",
            fix="Sizes are counts (0 or more); the only negative size allowed is -1, "
            "meaning 'infer this one'.",
        )
    n_infer = dims.count(-1)
    if n_infer > 1:
        msg = torch_message(lambda: torch.empty(0, device="meta").view(dims))
        raise InputError(
            f"{msg or 'only one dimension can be inferred'} — the shape {list(dims)} has "
            f"{n_infer} sizes of -1, and one equation (product = number of elements) can "
            "only solve for one unknown.",
            fix="Keep a single -1 and type the other sizes.",
        )
    known = math.prod(d for d in dims if d != -1)
    if known > MAX_ELEMENTS:
        raise InputError(
            f"The target shape {list(dims)} asks for {known:,} elements; this lab works with "
            f"at most {MAX_ELEMENTS:,}.",
            fix="A view keeps the element count: the product of the sizes must equal the "
            "source's element count.",
        )
    return dims


def parse_permutation(text: str, ndim: int) -> tuple[int, ...]:
    """A ``permute`` order: each of ``0 … ndim-1`` exactly once (negative dims allowed)."""
    dims = tuple(int(p) for p in _tokens(text, "permute order"))
    example = ", ".join(str(d) for d in reversed(range(ndim)))
    if len(dims) != ndim:
        raise InputError(
            f"permute needs one entry per dimension: the source has {ndim}, you typed {len(dims)}.",
            fix=f"List every dimension once in the new order, e.g. `{example}`.",
        )
    norm = tuple(d + ndim if d < 0 else d for d in dims)
    if any(not 0 <= d < ndim for d in norm) or sorted(norm) != list(range(ndim)):
        raise InputError(
            f"`{', '.join(map(str, dims))}` is not an order of the dimensions 0…{ndim - 1}: "
            "each must appear exactly once.",
            fix=f"e.g. `{example}` reverses them.",
        )
    return norm


def format_shape(dims: tuple[int, ...]) -> str:
    """``(2, -1)`` → ``"2, -1"`` — the argument list as it appears in code."""
    return ", ".join(str(d) for d in dims)

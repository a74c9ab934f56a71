"""The one grammar for sizes a learner types (shapes, permutations, input sizes).

Accepted, and read exactly as Python reads the same tuple::

    2, 3, 4      (2, 3, 4)     [2, 3, 4]     6,        -1
    2 3 4        2x3x4         2×3×4         (as people write sizes; no commas then)

That is: ASCII integers (an optional ``-``, digits ``0-9`` only — no ``٣``, ``0x10``,
``1_0``, ``1e3`` or ``+2``), separated either by commas (with one optional trailing comma,
as in ``(6,)``) or — when there is no comma — by spaces or ``x``/``×``; optionally inside
one matching pair of ``()`` or ``[]``. Everything else raises an
:class:`~ptexplore.errors.InputError` with a plain message and a fix, never another
exception. The text is bounded before anything is parsed, and echoed back shortened.
"""

from __future__ import annotations

import re

from ptexplore.errors import InputError
from ptexplore.limits import MAX_SHAPE_CHARS, MAX_SIZE_DIGITS
from ptexplore.text import code_span

_INT = re.compile(r"-?[0-9]+")
_SPACED = re.compile(r"\s*(?:[x×]|\s)\s*")
_SPACED_SIZES = re.compile(r"-?[0-9]+(?:\s*(?:[x×]|\s)\s*-?[0-9]+)*")
_HEX = re.compile(r"(?<![0-9])0[xX][0-9A-Fa-f]")


def parse_ints(text: object, what: str, *, example: str = "2, 3, 4", max_dims: int) -> list[int]:
    """The integers of ``text`` under the grammar above (bounds on each value are the
    caller's: this checks syntax, the digit count and the number of sizes only)."""
    if not isinstance(text, str):
        raise InputError(f"The {what} must be text such as `{example}`.", fix=f"Type {example}.")
    body = text.strip()
    if len(body) > MAX_SHAPE_CHARS:
        raise InputError(
            f"The {what} is {len(body):,} characters long; a shape is a few numbers.",
            fix=f"Type at most {max_dims} sizes, e.g. `{example}`.",
        )
    if len(body) >= 2 and body[0] in "([" and body[-1] in ")]":
        if (body[0], body[-1]) not in {("(", ")"), ("[", "]")}:
            raise InputError(
                f"The {what} {code_span(body)} opens and closes with different brackets.",
                fix=f"Write `({example})`, `[{example}]` or just `{example}`.",
            )
        body = body[1:-1].strip()
    if not body:
        raise InputError(
            f"The {what} is empty.", fix=f"Type sizes separated by commas, e.g. `{example}`."
        )
    if _HEX.search(body):
        raise InputError(
            f"The {what} {code_span(body, limit=40)} looks like a hexadecimal number; sizes "
            "are plain decimal integers.",
            fix=f"Type decimal sizes, e.g. `{example}` (write 16, not 0x10).",
        )
    if "," in body:
        parts = [p.strip() for p in body.split(",")]
        if len(parts) > 1 and parts[-1] == "":
            parts.pop()  # one trailing comma, as in the Python tuple (6,)
    elif _SPACED_SIZES.fullmatch(body):
        parts = _SPACED.split(body)
    else:
        parts = [body]  # one (bad) token: the message shows it whole
    for i, part in enumerate(parts):
        if part == "":
            raise InputError(
                f"The {what} {code_span(text.strip())} has an empty size at position {i + 1}.",
                fix=f"Separate sizes with single commas, e.g. `{example}`.",
            )
        if not _INT.fullmatch(part):
            raise InputError(
                f"{code_span(part, limit=20)} in the {what} is not a whole number: sizes are "
                "integers only.",
                fix=f"Type integers separated by commas, e.g. `{example}`.",
            )
        if len(part) > MAX_SIZE_DIGITS:
            raise InputError(
                f"The size {code_span(part, limit=20)} is too large for this lab.",
                fix="Use smaller sizes so the figures stay readable.",
            )
    if len(parts) > max_dims:
        raise InputError(
            f"The {what} has {len(parts)} dimensions; this lab shows at most {max_dims}.",
            fix="Drop some dimensions (or merge them: a shape is just a way to read memory).",
        )
    return [int(p) for p in parts]

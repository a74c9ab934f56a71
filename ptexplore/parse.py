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
from ptexplore.i18n import _
from ptexplore.limits import MAX_SHAPE_CHARS, MAX_SIZE_DIGITS
from ptexplore.text import code_span

_INT = re.compile(r"-?[0-9]+")
_SPACED = re.compile(r"\s*(?:[x×]|\s)\s*")
_SPACED_SIZES = re.compile(r"-?[0-9]+(?:\s*(?:[x×]|\s)\s*-?[0-9]+)*")
_HEX = re.compile(r"(?<![0-9])0[xX][0-9A-Fa-f]")


def parse_ints(text: object, what: str, *, example: str = "2, 3, 4", max_dims: int) -> list[int]:
    """The integers of ``text`` under the grammar above (bounds on each value are the
    caller's: this checks syntax, the digit count and the number of sizes only).

    ``what`` names the text in the messages ("shape", "input size"): English marked with
    ``N_`` (translated here), or text already translated."""
    what = _(what)
    if not isinstance(text, str):
        raise InputError(
            _("The {what} must be text such as `{example}`.").format(what=what, example=example),
            fix=_("Type {example}.").format(example=example),
        )
    body = text.strip()
    if len(body) > MAX_SHAPE_CHARS:
        raise InputError(
            _("The {what} is {n:,} characters long; a shape is a few numbers.").format(
                what=what, n=len(body)
            ),
            fix=_("Type at most {most} sizes, e.g. `{example}`.").format(
                most=max_dims, example=example
            ),
        )
    if len(body) >= 2 and body[0] in "([" and body[-1] in ")]":
        if (body[0], body[-1]) not in {("(", ")"), ("[", "]")}:
            raise InputError(
                _("The {what} {text} opens and closes with different brackets.").format(
                    what=what, text=code_span(body)
                ),
                fix=_("Write `({example})`, `[{example}]` or just `{example}`.").format(
                    example=example
                ),
            )
        body = body[1:-1].strip()
    if not body:
        raise InputError(
            _("The {what} is empty.").format(what=what),
            fix=_("Type sizes separated by commas, e.g. `{example}`.").format(example=example),
        )
    if _HEX.search(body):
        raise InputError(
            _(
                "The {what} {text} looks like a hexadecimal number; sizes are plain decimal "
                "integers."
            ).format(what=what, text=code_span(body, limit=40)),
            fix=_("Type decimal sizes, e.g. `{example}` (write 16, not 0x10).").format(
                example=example
            ),
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
                _("The {what} {text} has an empty size at position {i}.").format(
                    what=what, text=code_span(text.strip()), i=i + 1
                ),
                fix=_("Separate sizes with single commas, e.g. `{example}`.").format(
                    example=example
                ),
            )
        if not _INT.fullmatch(part):
            raise InputError(
                _("{part} in the {what} is not a whole number: sizes are integers only.").format(
                    part=code_span(part, limit=20), what=what
                ),
                fix=_("Type integers separated by commas, e.g. `{example}`.").format(
                    example=example
                ),
            )
        if len(part) > MAX_SIZE_DIGITS:
            raise InputError(
                _("The size {part} is too large for this lab.").format(
                    part=code_span(part, limit=20)
                ),
                fix=_("Use smaller sizes so the figures stay readable."),
            )
    if len(parts) > max_dims:
        raise InputError(
            _("The {what} has {n} dimensions; this lab shows at most {most}.").format(
                what=what, n=len(parts), most=max_dims
            ),
            fix=_("Drop some dimensions (or merge them: a shape is just a way to read memory)."),
        )
    return [int(p) for p in parts]

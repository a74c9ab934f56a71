"""A step parameter as a widget shows it: the value ⇄ widget conversions, the typed-text
grammar (sizes, pairs, fills: checked, never truncated), the tooltip with torchvision's
default and the valid range, and which widget a parameter gets (no Streamlit here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ptexplore.augment.catalog import Kind, ParamSpec, Value, spec_for
from ptexplore.augment.pipeline import PixelDomain
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.parse import parse_ints
from ptexplore.text import md_escape

#: A float slider with more positions than this becomes a number box (type any value).
MAX_SLIDER_POSITIONS = 200

#: The placeholder of each typed parameter's text box (English, marked with ``N_``:
#: translate it where it is shown, ``_(TEXT_HINTS[kind])``).
TEXT_HINTS = {
    Kind.SIZE: N_("e.g. 224 or 224, 160"),
    Kind.PAIR: "x, y",
    Kind.TRIPLE: "r, g, b",
    Kind.FILL: N_("a number, r, g, b or random"),
}


def show(value: Value) -> str:
    """A value as the lab writes it in a sentence: ``(0.08, 1)``, ``0.5``, ``224``."""
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def numbers(text: str, kind: type[float] | type[int]) -> tuple[Any, ...]:
    """Parse "a, b, c" into finite numbers; ``int`` refuses fractions instead of truncating.

    Sizes (``int``) then go through the one size grammar (:func:`ptexplore.parse.parse_ints`:
    ASCII digits only, bounded). The learner's text is echoed escaped and shortened.
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise InputError(
            _("This field is empty."), fix=_("Type a number, or numbers separated by commas.")
        )
    out: list[Any] = []
    for part in parts:
        try:
            number = float(part)
        except (ValueError, OverflowError):
            raise InputError(
                _("“{text}” is not a comma-separated list of numbers.").format(
                    text=md_escape(text, limit=40)
                ),
                fix=_("Type numbers separated by commas, e.g. 224, 160."),
            ) from None
        if not math.isfinite(number):
            raise InputError(
                _("“{text}” is not a finite number.").format(text=md_escape(part, limit=40)),
                fix=_("Type an ordinary number."),
            )
        if kind is int:
            if not number.is_integer():
                raise InputError(
                    _("“{text}” is not a whole number; sizes are counted in pixels.").format(
                        text=md_escape(part, limit=40)
                    ),
                    fix=_("Use {lo} or {hi}.").format(lo=math.floor(number), hi=math.ceil(number)),
                )
            out.append(int(number))
        else:
            out.append(number)
    if kind is int:
        return tuple(parse_ints(text, N_("size"), example="224, 160", max_dims=2))
    return tuple(out)


def widget_value(param: ParamSpec, value: Value) -> Any:
    """Pipeline value → the value its widget holds."""
    if param.kind is Kind.SIZE:
        return str(value) if not isinstance(value, tuple) else ", ".join(str(int(v)) for v in value)
    if param.kind in (Kind.PAIR, Kind.TRIPLE):
        assert isinstance(value, tuple)
        return ", ".join(f"{v:g}" for v in value)
    if param.kind is Kind.FILL:
        if isinstance(value, tuple):
            return ", ".join(f"{v:g}" for v in value)
        return value if isinstance(value, str) else f"{value:g}"
    if param.kind is Kind.RANGE:
        assert isinstance(value, tuple)
        return (float(value[0]), float(value[1]))
    if param.kind is Kind.FLOAT:
        assert isinstance(value, int | float)
        return float(value)
    return value


def parse_widget(param: ParamSpec, raw: Any) -> Value:
    """Widget value → pipeline value (validated later by the catalog)."""
    if param.kind is Kind.SIZE:
        sides = numbers(str(raw), int)
        if len(sides) == 1:
            return int(sides[0])
        return tuple(int(v) for v in sides)
    if param.kind in (Kind.PAIR, Kind.TRIPLE):
        return numbers(str(raw), float)
    if param.kind is Kind.FILL:
        if str(raw).strip().lower() == "random":
            return "random"
        fills = numbers(str(raw), float)
        return float(fills[0]) if len(fills) == 1 else tuple(float(v) for v in fills)
    if param.kind is Kind.RANGE:
        return (float(raw[0]), float(raw[1]))
    if param.kind is Kind.INT:
        return int(raw)
    if param.kind is Kind.FLOAT:
        return float(raw)
    return raw  # type: ignore[no-any-return]


def param_help(param: ParamSpec, domain: PixelDomain | None = None) -> str:
    """Tooltip: the parameter's doc, torchvision's default and the valid range.

    For a pixel value (fill, erase value) the range is the one this step's input has.
    """
    parts = [_(param.doc)]
    if param.required:
        parts.append(
            _("torchvision has no default (required); the lab starts at {value}.").format(
                value=show(param.default)
            )
        )
    elif param.none_value is not None and param.default == param.none_value:
        parts.append(
            _("torchvision default: None (here {value}).").format(value=show(param.none_value))
        )
    else:
        parts.append(_("torchvision default: {value}.").format(value=show(param.default)))
    if param.kind is Kind.CHOICE:
        parts.append(
            # the values torchvision takes, as code (they are the same in every language)
            _("Choices: {choices}.").format(choices=", ".join(f"`{c}`" for c in param.choices))
        )
    elif param.lo is not None and param.hi is not None:
        allowed = (
            _("Allowed: {lo:g} to {hi:g}, odd only.")
            if param.odd
            else _("Allowed: {lo:g} to {hi:g}.")
        )
        parts.append(allowed.format(lo=param.lo, hi=param.hi))
    if param.pixel and domain is not None:
        receives = (
            _("This step receives {domain}: allowed {lo:.4g} to {hi:.4g} (whole numbers).")
            if domain.whole
            else _("This step receives {domain}: allowed {lo:.4g} to {hi:.4g}.")
        )
        parts.append(receives.format(domain=domain.describe(), lo=domain.lo, hi=domain.hi))
    return " ".join(parts)


def number_box_step(param: ParamSpec, domain: PixelDomain | None) -> float | None:
    """The step of the number box a float parameter gets, or ``None`` when a slider fits.

    A float without bounds, or with more than :data:`MAX_SLIDER_POSITIONS` positions, is
    typed: e.g. RandomSolarize's threshold is 0–255 on uint8 but 0–1 after
    ``ToDtype(scale=True)``, which a 0–255 slider in steps of 1 could not reach. A fill has
    no fixed bounds (its range depends on the step's input, checked when the pipeline is
    built); on float input it moves in hundredths.
    """
    if param.kind is not Kind.FLOAT:
        return None
    step = param.step or 0.01
    if (
        param.lo is not None
        and param.hi is not None
        and (param.hi - param.lo) / step <= MAX_SLIDER_POSITIONS
    ):
        return None
    if param.pixel and domain is not None and not domain.whole:
        return 0.01
    return float(step)


def added_note(name: str, at: int, visible: Mapping[str, Value]) -> str | None:
    """What the editor says after adding ``name`` at ``at`` with the lab's ``visible``
    values instead of torchvision's defaults (``None`` when it used the defaults)."""
    if not visible:
        return None
    spec = spec_for(name)
    shown = ", ".join(f"{k}={show(v)}" for k, v in visible.items())
    torchvision = ", ".join(f"{k}={show(spec.param(k).default)}" for k in visible)
    return _(
        "Added {name} at position {position} with {shown}: torchvision's defaults "
        "({defaults}) change nothing you could see. The exported code writes these values out."
    ).format(name=name, position=at + 1, shown=shown, defaults=torchvision)

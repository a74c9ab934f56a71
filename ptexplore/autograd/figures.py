"""The freezing demo's figure: every parameter's gradient norm, frozen ones marked."""

from __future__ import annotations

from typing import Any

from ptexplore.autograd.freeze import FreezeResult
from ptexplore.figures import Figure, figure
from ptexplore.i18n import _
from ptexplore.style import PALETTE

FROZEN_COLOUR = "#a0aec0"


def grad_norm_figure(result: FreezeResult) -> Figure:
    """A bar per parameter with a gradient (its L2 norm); an ✕ at 0 where ``.grad is None``."""
    names = [p.name for p in result.params]
    trained = [p for p in result.params if p.grad_norm is not None]
    frozen = [p for p in result.params if p.grad_norm is None]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": _("trainable: ‖p.grad‖"),
            "x": [p.name for p in trained],
            "y": [p.grad_norm for p in trained],
            "marker": {"color": PALETTE[1]},
            "hovertemplate": "%{x}<br>‖grad‖ = %{y:.3g}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("frozen: .grad is None"),
            "x": [p.name for p in frozen],
            "y": [0.0 for _x in frozen],
            "marker": {"color": FROZEN_COLOUR, "symbol": "x", "size": 7},
            "hovertemplate": _("%{x}<br>.grad is None (requires_grad=False)<extra></extra>"),
        },
    ]
    return figure(
        data,
        height=420,
        title={
            "text": _("Gradient norm of each of the {n} parameter tensors").format(n=len(names))
        },
        xaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
            "tickangle": -60,
            "tickfont": {"size": 9},
            "showticklabels": len(names) <= 80,
        },
        yaxis={"title": {"text": _("‖p.grad‖ (L2 norm)")}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        margin={"l": 60, "r": 20, "t": 70, "b": 140},
    )

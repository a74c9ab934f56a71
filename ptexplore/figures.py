"""Figures as plain dicts in plotly's JSON schema — no plotly objects on the hot path.

Building ``plotly.graph_objects`` figures validates every property on every assignment;
profiled under a classroom load that was most of a view-lab rerun (``make_subplots`` and
``update_layout``). Pages rerun on every click, so every figure here is a plain
``{"data": [...], "layout": {...}}`` dict built from a frozen result, and the page sends it
without a second validation (``ptexplore.ui.render.chart``). Tests validate each builder's
output once with ``plotly.graph_objects.Figure`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ptexplore.style import base_layout

#: A figure in plotly's JSON schema: ``{"data": [trace, …], "layout": {…}}``.
Figure = dict[str, Any]


def figure(data: Sequence[dict[str, Any]], **layout: Any) -> Figure:
    """A figure dict with the shared style (``style.base_layout``) under ``layout``."""
    return {"data": list(data), "layout": base_layout(**layout)}


@dataclass(frozen=True, slots=True)
class Grid:
    """Subplot axes for a rows × cols grid (what ``make_subplots`` computes)."""

    rows: int
    cols: int
    layout: dict[str, Any]

    def axes(self, row: int, col: int) -> tuple[str, str]:
        """Trace-side axis ids (``"x3"``, ``"y3"``) of the panel at 1-based (row, col)."""
        n = (row - 1) * self.cols + col
        suffix = "" if n == 1 else str(n)
        return f"x{suffix}", f"y{suffix}"

    def axis_keys(self, row: int, col: int) -> tuple[str, str]:
        """Layout-side axis keys (``"xaxis3"``, ``"yaxis3"``) of that panel."""
        x, y = self.axes(row, col)
        return f"xaxis{x[1:]}", f"yaxis{y[1:]}"


def _span(lo: float, hi: float) -> list[float]:
    """A domain inside [0, 1] (float sums drift a hair past the ends)."""
    return [min(max(round(lo, 9), 0.0), 1.0), min(max(round(hi, 9), 0.0), 1.0)]


def grid(
    rows: int,
    cols: int,
    *,
    titles: Sequence[str] | None = None,
    horizontal_spacing: float = 0.2,
    vertical_spacing: float = 0.3,
) -> Grid:
    """Axis domains, anchors and title annotations for a subplot grid.

    Spacing is a fraction of the figure's width/height, as in plotly's ``make_subplots``
    (which this reproduces for the default ``start_cell="top-left"`` layout).
    """
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    layout: dict[str, Any] = {}
    annotations: list[dict[str, Any]] = []
    for r in range(rows):
        for c in range(cols):
            n = r * cols + c + 1
            suffix = "" if n == 1 else str(n)
            x0 = c * (width + horizontal_spacing)
            y1 = 1.0 - r * (height + vertical_spacing)
            layout[f"xaxis{suffix}"] = {"domain": _span(x0, x0 + width), "anchor": f"y{suffix}"}
            layout[f"yaxis{suffix}"] = {"domain": _span(y1 - height, y1), "anchor": f"x{suffix}"}
            if titles is not None and n - 1 < len(titles):
                annotations.append(
                    {
                        "text": titles[n - 1],
                        "x": x0 + width / 2,
                        "y": y1,
                        "xref": "paper",
                        "yref": "paper",
                        "xanchor": "center",
                        "yanchor": "bottom",
                        "showarrow": False,
                        "font": {"size": 14},
                    }
                )
    if annotations:
        layout["annotations"] = annotations
    return Grid(rows, cols, layout)


def vline(
    x: float, *, color: str, dash: str = "dash", label: str | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A vertical line across the plot (shape) and its label (annotation), as plotly's
    ``add_vline`` makes them."""
    shape = {
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": color, "dash": dash},
    }
    note = None
    if label is not None:
        note = {
            "text": label,
            "x": x,
            "xref": "x",
            "y": 1,
            "yref": "y domain",
            "xanchor": "left",
            "yanchor": "top",
            "showarrow": False,
        }
    return shape, note

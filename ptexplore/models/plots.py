"""Figures for the model explorer (plain dicts: see ``ptexplore.figures``)."""

from __future__ import annotations

from itertools import pairwise

from ptexplore.figures import Figure, figure, vline
from ptexplore.i18n import _
from ptexplore.models.params import ParamTable, ParamValues
from ptexplore.models.shapes import ShapeReport
from ptexplore.style import ACCENT, PALETTE


def values_histogram(v: ParamValues) -> Figure:
    """Histogram of every value of the tensor (binned server-side: 80 bars, not 6 M points)."""
    edges = v.hist_edges
    centers = [(a + b) / 2 for a, b in pairwise(edges)]
    bars = {
        "type": "bar",
        "x": centers,
        "y": list(v.hist_counts),
        "width": edges[1] - edges[0],
        "marker": {"color": ACCENT},
        "name": v.name,
        "hovertemplate": _("%{x:.4g}: %{y:,} values") + "<extra></extra>",
    }
    line, label = vline(v.mean, color=PALETTE[1], label=_("mean"))
    return figure(
        [bars],
        title=_("{name}: all {n:,} values").format(name=v.name, n=v.numel),
        xaxis={"title": {"text": _("value")}},
        yaxis={"title": {"text": _("count")}},
        bargap=0,
        height=340,
        showlegend=False,
        shapes=[line],
        annotations=[label],
    )


def groups_bar(table: ParamTable) -> Figure:
    groups = list(table.groups)
    bars = {
        "type": "bar",
        "x": [g.numel for g in groups],
        "y": [f"{g.group} ({g.class_name})" for g in groups],
        "orientation": "h",
        "marker": {"color": ACCENT},
        "text": [f"{g.share:.1%}" for g in groups],
        "textposition": "auto",
        "hovertemplate": _("%{y}: %{x:,} parameters") + "<extra></extra>",
    }
    return figure(
        [bars],
        title=_("Parameters per top-level child"),
        xaxis={"title": {"text": _("parameters")}},
        height=max(220, 28 * len(groups) + 90),
        yaxis={"autorange": "reversed"},
    )


def macs_bar(report: ShapeReport) -> Figure:
    top = [r for r in report.rows if r.depth == 1]
    bars = {
        "type": "bar",
        "x": [r.macs for r in top],
        "y": [f"{r.name} ({r.class_name})" for r in top],
        "orientation": "h",
        "marker": {"color": PALETTE[1]},
        "text": [f"{r.macs / report.total_macs:.1%}" if report.total_macs else "" for r in top],
        "textposition": "auto",
        "hovertemplate": "%{y}: %{x:,} MACs<extra></extra>",
    }
    return figure(
        [bars],
        title=_("MACs per top-level child (one forward pass)"),
        xaxis={"title": {"text": _("multiply-accumulates")}},
        height=max(220, 28 * len(top) + 90),
        yaxis={"autorange": "reversed"},
    )

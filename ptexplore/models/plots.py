"""Plotly figures for the model explorer."""

from __future__ import annotations

from itertools import pairwise

import plotly.graph_objects as go

from ptexplore.models.params import ParamTable, ParamValues
from ptexplore.models.shapes import ShapeReport
from ptexplore.style import ACCENT, PALETTE, base_layout


def values_histogram(v: ParamValues) -> go.Figure:
    """Histogram of every value of the tensor (binned server-side: 80 bars, not 6 M points)."""
    edges = v.hist_edges
    centers = [(a + b) / 2 for a, b in pairwise(edges)]
    fig = go.Figure(
        go.Bar(
            x=centers,
            y=list(v.hist_counts),
            width=edges[1] - edges[0],
            marker_color=ACCENT,
            name=v.name,
            hovertemplate="%{x:.4g}: %{y:,} values<extra></extra>",
        )
    )
    fig.add_vline(x=v.mean, line_dash="dash", line_color=PALETTE[1], annotation_text="mean")
    fig.update_layout(
        **base_layout(
            title=f"{v.name}: all {v.numel:,} values",
            xaxis_title="value",
            yaxis_title="count",
            bargap=0,
            height=340,
            showlegend=False,
        )
    )
    return fig


def groups_bar(table: ParamTable) -> go.Figure:
    groups = list(table.groups)
    fig = go.Figure(
        go.Bar(
            x=[g.numel for g in groups],
            y=[f"{g.group} ({g.class_name})" for g in groups],
            orientation="h",
            marker_color=ACCENT,
            text=[f"{g.share:.1%}" for g in groups],
            textposition="auto",
            hovertemplate="%{y}: %{x:,} parameters<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title="Parameters per top-level child",
            xaxis_title="parameters",
            height=max(220, 28 * len(groups) + 90),
            yaxis={"autorange": "reversed"},
        )
    )
    return fig


def macs_bar(report: ShapeReport) -> go.Figure:
    top = [r for r in report.rows if r.depth == 1]
    fig = go.Figure(
        go.Bar(
            x=[r.macs for r in top],
            y=[f"{r.name} ({r.class_name})" for r in top],
            orientation="h",
            marker_color=PALETTE[1],
            text=[f"{r.macs / report.total_macs:.1%}" if report.total_macs else "" for r in top],
            textposition="auto",
            hovertemplate="%{y}: %{x:,} MACs<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title="MACs per top-level child (one forward pass)",
            xaxis_title="multiply-accumulates",
            height=max(220, 28 * len(top) + 90),
            yaxis={"autorange": "reversed"},
        )
    )
    return fig

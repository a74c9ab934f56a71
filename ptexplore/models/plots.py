"""Plotly figures for the model explorer."""

from __future__ import annotations

import plotly.graph_objects as go

from ptexplore.models.params import ParamTable, ParamValues
from ptexplore.models.shapes import ShapeReport
from ptexplore.style import ACCENT, PALETTE, base_layout


def values_histogram(v: ParamValues, bins: int = 80) -> go.Figure:
    fig = go.Figure(go.Histogram(x=list(v.values), nbinsx=bins, marker_color=ACCENT, name=v.name))
    for x, label, colour in ((v.mean, "mean", PALETTE[1]),):
        fig.add_vline(x=x, line_dash="dash", line_color=colour, annotation_text=label)
    sampled = "" if len(v.values) == v.numel else f" (random sample of {len(v.values):,})"
    fig.update_layout(
        **base_layout(
            title=f"{v.name}: {v.numel:,} values{sampled}",
            xaxis_title="value",
            yaxis_title="count",
            bargap=0.02,
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

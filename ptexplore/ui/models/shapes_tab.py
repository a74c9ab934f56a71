"""📐 Shapes & MACs: a forward pass on meta tensors — every layer's output shape, its own
parameters and multiply-accumulates, checked against torchvision's published GMACs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.figures import Figure
from ptexplore.i18n import _
from ptexplore.models import catalog, plots, shapes, tables, user
from ptexplore.models.catalog import InputKind, ModelEntry
from ptexplore.text import md_escape
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import SHAPES, STATE, Choice, trace
from ptexplore.ui.render import chart, inert

#: the unit's name (multiply-accumulates), the same in every language
MACS = "MACs"


@dataclass(frozen=True, slots=True)
class ShapeConfig:
    key: str
    num_classes: int | None
    #: height = width of an image input (``None`` for other inputs)
    side: int | None
    batch: int
    #: the table lists leaf layers only
    leaves: bool


@dataclass(frozen=True, slots=True, eq=False)
class Views:
    layers: pd.DataFrame
    macs: Figure


def side_input(e: ModelEntry) -> tuple[int | None, int, bool]:
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    side: int | None = None
    if e.input_kind is InputKind.IMAGE:
        side = int(
            c1.number_input(
                _("Input height = width (pixels)"),
                min_value=1,
                max_value=limits.TRACE_MAX_SIDE,
                step=1,
                help=_("Default {side}: the crop size of torchvision's weights.").format(
                    side=e.default_input[1]
                ),
                **STATE.widget("side", reset_on=e.key, default=e.default_input[1]),
            )
        )
    elif e.input_kind is InputKind.FIXED:
        shape, dtype = inert(["batch", *e.default_input]), inert(e.input_dtype)
        c1.markdown(
            _("Input: {shape} {dtype} ({source})").format(
                shape=shape, dtype=dtype, source=md_escape(user.source_text(e.input_source))
            )
            if e.input_source
            else _("Input: {shape} {dtype}").format(shape=shape, dtype=dtype)
        )
    else:
        c1.markdown(_("Input: a batch of vectors of {n} features.").format(n=e.default_input[0]))
    batch = int(
        c2.number_input(_("Batch size"), 1, limits.TRACE_MAX_BATCH, 1, **STATE.widget("batch"))
    )
    leaves = bool(c3.toggle(_("Leaf layers only"), value=False, **STATE.widget("leaves")))
    return side, batch, leaves


def _controls(c: Choice) -> ShapeConfig:
    side, batch, leaves = side_input(c.entry)
    return ShapeConfig(c.key, c.num_classes, side, batch, leaves)


def _compute(s: ShapeConfig) -> shapes.ShapeReport:
    return trace(s.key, s.num_classes, s.side, s.batch)


def _views(s: ShapeConfig, report: shapes.ShapeReport) -> Views:
    return Views(tables.layers(report, s.leaves), plots.macs_bar(report))


def _published(report: shapes.ShapeReport) -> None:
    """torchvision's published GMACs beside the count, where it publishes one."""
    e = catalog.entry(report.key)
    if report.published_gmacs is None:
        return
    source = f"`{e.published_weights}`"
    if report.at_published_input:
        ok = round(report.gmacs, 3) == round(report.published_gmacs, 3)
        verdict = _("equal ✓") if ok else _("differ ✗")
        st.success(
            _(
                "torchvision publishes {published:.3f} GMACs with {weights}; counted here: "
                "{counted:.3f} GMACs — {verdict}. (torchinfo misses matmuls inside attention "
                "and functional calls: it reports 0.36 GMACs for vit_l_16 instead of 61.6.)"
            ).format(
                published=report.published_gmacs,
                weights=source,
                counted=report.gmacs,
                verdict=verdict,
            )
        )
    else:
        st.info(
            _(
                "torchvision's published {published:.3f} GMACs ({weights}) is for one "
                "{h}×{w} image; this input differs, so compare with care."
            ).format(
                published=report.published_gmacs,
                weights=source,
                h=e.default_input[1],
                w=e.default_input[2],
            )
        )
    if not e.weights_match:
        st.caption(
            _(
                "Note: the published weights use a slightly different architecture than this "
                "weights=None build (googlenet's drop the auxiliary classifiers)."
            )
        )


def _render(_s: ShapeConfig, report: shapes.ShapeReport, views: Views) -> None:
    m = st.columns(4)
    m[0].metric(_("input"), str(list(report.input_shape)))
    m[1].metric(_("output"), report.output_shape)
    m[2].metric(MACS, shapes.human(report.total_macs))
    m[3].metric(_("FLOPs (2 per MAC)"), shapes.human(2 * report.total_macs))
    _published(report)
    st.dataframe(
        views.layers,
        hide_index=True,
        width="stretch",
        height=420,
        key=STATE.key("shape_table"),
        column_config={
            _(tables.OWN_PARAMS): st.column_config.NumberColumn(format="localized"),
            "MACs": st.column_config.NumberColumn(format="localized"),
            _(tables.NOTE): st.column_config.TextColumn(width="large"),
        },
    )
    chart(views.macs, key=STATE.key("macs_chart"))


SHAPES_SECTION: Section[ShapeConfig, shapes.ShapeReport] = Section(
    "shapes", _controls, _compute, _render, label=SHAPES, views=_views
)

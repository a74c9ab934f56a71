"""🐍 Code: plain PyTorch for what the page shows, with the lines it prints taken from the
page's own results (the other tabs' choices are read from state: they may be closed)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.errors import LessonError
from ptexplore.i18n import _
from ptexplore.live import Snippet
from ptexplore.models import shapes
from ptexplore.models.code import WeightsLoad, explorer_snippet
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import (
    CODE,
    STATE,
    Choice,
    Weights,
    code_load,
    input_size,
    load,
    name_hits,
    param_table,
    picked_weights,
    trace,
)


@dataclass(frozen=True, slots=True)
class CodeConfig:
    choice: Choice
    side: int | None
    batch: int
    #: the tree tab's name filter
    needle: str
    weights: Weights


def _controls(c: Choice) -> CodeConfig:
    side, batch = input_size(c.entry)
    needle = str(STATE.get("filter", "") or "").strip()
    return CodeConfig(c, side, batch, needle, picked_weights(c.key))


def _compute(k: CodeConfig) -> Snippet:
    """The script for what the page shows, with the lines it prints (from the results)."""
    c = k.choice
    report: shapes.ShapeReport | None
    try:
        report = trace(c.key, c.num_classes, k.side, k.batch)
    except LessonError:  # the Shapes tab says why; the script leaves the forward out
        report = None
    weights: WeightsLoad | None = None
    try:
        loaded = load(c.key, c.num_classes, k.weights)
    except LessonError:  # the Parameters tab says why; the script loads nothing
        loaded = None
    if loaded is not None:
        weights = code_load(loaded[1])
    return explorer_snippet(
        c.key,
        c.num_classes,
        shapes.input_shape_for(c.key, k.side, k.batch),
        param_table(c.key, c.num_classes, c.frozen),
        report,
        frozen=c.frozen,
        name_filter=k.needle,
        filter_hits=name_hits(c.key, c.num_classes, k.needle) if k.needle else (),
        weights=weights,
    )


def _render(_k: CodeConfig, _snippet: Snippet, _views: None) -> None:
    st.markdown(
        _(
            "Plain PyTorch for what this page shows: build the model, freeze, the parameter "
            "table, the name filter and the forward pass that counts MACs. The page itself "
            "works on the `meta` device, so it shows what this script prints from its own "
            "results (a test runs the script and compares)."
        )
    )


CODE_SECTION: Section[CodeConfig, Snippet] = Section(
    "code",
    _controls,
    _compute,
    _render,
    lambda _k, snippet: snippet,
    label=CODE,
    code_expanded=True,
)

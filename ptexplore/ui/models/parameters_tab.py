"""🔢 Parameters: one parameter's name part by part and its values (random init, the torch
hub cache's file or an upload, with the load's report), then ``named_parameters()``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from ptexplore.errors import LessonError
from ptexplore.figures import Figure
from ptexplore.i18n import _
from ptexplore.models import catalog, params, plots, tables, weights
from ptexplore.models.weights import LoadReport, WeightsSource
from ptexplore.text import md_escape
from ptexplore.ui import uploads
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import (
    PARAMETERS,
    RANDOM,
    STATE,
    UPLOAD,
    Choice,
    Weights,
    explain,
    hub_weights,
    load,
    param_table,
    random_values,
    uploaded_weights,
)
from ptexplore.ui.render import chart, inert, show_error


@dataclass(frozen=True, slots=True)
class ParamConfig:
    choice: Choice
    name: str
    weights: Weights


@dataclass(frozen=True, slots=True, eq=False)
class Values:
    table: params.ParamTable
    parts: tuple[params.NamePart, ...]
    values: params.ParamValues
    report: LoadReport | None
    #: the file could not be read or loaded: the values are the random init
    failed: LessonError | None
    #: the file was loaded but does not hold this parameter
    not_in_file: bool


@dataclass(frozen=True, slots=True, eq=False)
class Views:
    parameters: pd.DataFrame
    naming: pd.DataFrame
    groups: Figure
    histogram: Figure


def _default_param(table: params.ParamTable) -> int:
    """The first weight matrix (not ViT's zero-initialised class token, not a bias)."""
    rows = table.rows
    return next(
        (i for i, r in enumerate(rows) if r.name.endswith("weight") and len(r.shape) >= 2),
        next((i for i, r in enumerate(rows) if len(r.shape) >= 2), 0),
    )


def _weights(c: Choice) -> Weights:
    """The 'Values from' control: random init, the torch hub cache, or an uploaded file."""
    source = WeightsSource(
        st.radio(
            _("Values from"),
            [s.value for s in WeightsSource],
            format_func=shown(choices(WeightsSource)),
            horizontal=True,
            help=_("Nothing is downloaded: real weights are used only when you have them."),
            **STATE.widget("weights"),
        )
    )
    if source is WeightsSource.HUB:
        hub = hub_weights(c.key)
        if hub is None:
            filename = weights.hub_filename(c.key)
            where = Path(torch.hub.get_dir()) / "checkpoints"
            text = (
                _(
                    "No cached weights for {model}: torchvision keeps {file} in {where} after "
                    "`weights='DEFAULT'` downloads them once. Nothing is downloaded here; "
                    "showing the random init instead."
                )
                if filename
                else _(
                    "No cached weights for {model}: torchvision keeps its weights in {where} "
                    "after `weights='DEFAULT'` downloads them once. Nothing is downloaded "
                    "here; showing the random init instead."
                )
            )
            st.info(
                text.format(
                    model=catalog.shown_label(c.key, c.entry.label),
                    file=f"`{filename}`",
                    where=f"`{where}`",
                )
            )
        return hub or RANDOM
    if source is WeightsSource.UPLOAD:
        st.file_uploader(
            _("A state_dict: torch.save (.pth, .pt, .bin, Lightning .ckpt) or .safetensors"),
            type=["pth", "pt", "bin", "ckpt", "safetensors"],
            help=_(
                "Read with torch.load(weights_only=True) or safetensors, every size and "
                "count checked first: a file that would run code, or claims more than it "
                "holds, is refused."
            ),
            key=STATE.key("weights_file"),
            on_change=uploads.keep,
            args=(STATE, "weights_file", UPLOAD),
        )
        kept = uploaded_weights()
        if kept is None:
            st.caption(_("No file yet: showing the random init."))
            return RANDOM
        if st.session_state.get(STATE.key("weights_file")) is None:
            st.caption(
                _("Using {name}, uploaded earlier in this session.").format(name=inert(kept.name))
            )
        return kept
    return RANDOM


def _controls(c: Choice) -> ParamConfig:
    table = param_table(c.key, c.num_classes, c.frozen)
    names = [r.name for r in table.rows]
    left, right = st.columns([1, 1])
    with left:
        name = (
            str(
                st.selectbox(
                    _("Parameter"),
                    names,
                    **STATE.widget(
                        "param",
                        reset_on=(c.key, c.num_classes),
                        default=names[_default_param(table)],
                    ),
                )
            )
            if names
            else ""
        )
    with right:
        picked = _weights(c)
    return ParamConfig(c, name, picked)


def _no_parameters(p: ParamConfig) -> str | None:
    return None if p.name else _("This model has no parameters.")


def _compute(p: ParamConfig) -> Values:
    c = p.choice
    table = param_table(c.key, c.num_classes, c.frozen)
    parts = explain(c.key, c.num_classes, p.name)
    t0 = time.perf_counter()
    try:
        loaded = load(c.key, c.num_classes, p.weights)
    except LessonError as err:  # a bad file must not take the rest of the tab with it
        values = random_values(c.key, c.num_classes, p.name, c.seed)
        return Values(table, parts, values, None, err, False)
    if loaded is None:
        values = random_values(c.key, c.num_classes, p.name, c.seed)
        return Values(table, parts, values, None, None, False)
    model, report = loaded
    tensor = weights.tensor_from(model, p.name)
    if tensor is None:
        values = random_values(c.key, c.num_classes, p.name, c.seed)
        return Values(table, parts, values, report, None, True)
    values = params.summarize(p.name, tensor, seed=c.seed, source=params.ValuesSource.LOADED, t0=t0)
    return Values(table, parts, values, report, None, False)


def _views(_p: ParamConfig, v: Values) -> Views:
    return Views(
        tables.parameters(v.table),
        tables.naming(v.parts),
        plots.groups_bar(v.table),
        plots.values_histogram(v.values),
    )


def _keys(keys: tuple[str, ...], limit: int = 50) -> str:
    return ", ".join(inert(k) for k in keys[:limit]) + (" …" if len(keys) > limit else "")


def render_load_report(r: LoadReport) -> None:
    st.markdown(
        _("**`model.load_state_dict(sd, strict=False)`** from {origin}").format(
            origin=inert(r.origin)
        )
    )
    notes = []
    if r.wrapper_key:
        notes.append(
            _("the file is a checkpoint dict: its weights are under {key}").format(
                key=inert(r.wrapper_key)
            )
        )
    # what reading and fitting noticed (prefixes and who adds them, casts, skipped values):
    # markdown built by ptexplore.ckpt with every name from the file in a code span
    notes.extend(r.notes)
    if notes:
        st.caption("\n".join(f"- {n}" for n in notes))
    c = st.columns(4)
    c[0].metric(_("loaded"), len(r.loaded))
    c[1].metric(_("missing keys"), len(r.missing))
    c[2].metric(_("unexpected keys"), len(r.unexpected))
    c[3].metric(_("shape mismatches"), len(r.mismatched))
    if r.missing or r.unexpected or r.mismatched or r.refused:
        with st.expander(_("Which keys")):
            if r.refused:
                st.markdown(
                    _(
                        "Not loaded (the file has them, but they cannot go in as they are): {keys}"
                    ).format(
                        keys="; ".join(f"{inert(n)} {md_escape(why)}" for n, why in r.refused[:50])
                    )
                )
            if r.mismatched:
                st.markdown(_("Shape mismatches (set aside; strict=False does not skip these):"))
                st.dataframe(tables.mismatches(r), hide_index=True)
            if r.missing:
                st.markdown(
                    _("Missing (keep their random init): {keys}").format(keys=_keys(r.missing))
                )
            if r.unexpected:
                st.markdown(_("Unexpected (ignored): {keys}").format(keys=_keys(r.unexpected)))


def _source_caption(v: params.ParamValues) -> str:
    ms = v.seconds * 1000
    if v.source is params.ValuesSource.LOADED:
        return _("Real values read from the checkpoint ({ms:.0f} ms).").format(ms=ms)
    if v.source is params.ValuesSource.FULL_BUILD:
        return _(
            "Random init: real values from a normal build after {call} — the same numbers "
            "plain PyTorch gives ({ms:.0f} ms)."
        ).format(call=f"`torch.manual_seed({v.seed})`", ms=ms)
    return _(
        "Random init, seed {seed}. This model is large, so only this tensor (owned by "
        "{owner}) was materialised, every other weight stayed on meta. The model's own init "
        "code ran on it, so the distribution is the real one, but the random stream differs "
        "from a full build, so individual numbers differ ({ms:.0f} ms instead of building "
        "every layer)."
    ).format(seed=v.seed, owner=inert(v.owner or "(root)"), ms=ms)


def _render_values(p: ParamConfig, r: Values, views: Views) -> None:
    if r.failed is not None:
        show_error(r.failed)
        st.caption(_("Showing the random init instead."))
    if r.report is not None:
        render_load_report(r.report)
    if r.not_in_file:
        st.warning(
            _("{name} was not loaded from the file (see the report): random init.").format(
                name=inert(p.name)
            )
        )
    v = r.values
    st.markdown(
        _("#### Values of {name} — shape {shape}").format(name=inert(p.name), shape=list(v.shape))
    )
    m = [*st.columns(3), *st.columns(3)]
    m[0].metric(_("mean"), f"{v.mean:.4g}")
    m[1].metric(_("std"), f"{v.std:.4g}")
    m[2].metric(_("zeros"), f"{v.zeros_share:.1%}")
    m[3].metric(_("min"), f"{v.min:.4g}")
    m[4].metric(_("max"), f"{v.max:.4g}")
    m[5].metric(_("mean |x|"), f"{v.abs_mean:.4g}")
    if v.note:  # NaN/inf in a diverged run's file, or an empty tensor
        st.warning(v.note, icon="⚠️")
    st.caption(_source_caption(v))
    chart(views.histogram, key=STATE.key("hist"))


def _render(p: ParamConfig, r: Values, views: Views) -> None:
    left, right = st.columns([1, 1])
    with left:
        st.markdown(
            _(
                "**The naming rule.** A parameter's name is the path of attribute names from "
                "the model down to the module that registered it, joined by dots, then the "
                "tensor's own name: `attribute.index.weight|bias`. Sequential and ModuleList "
                "children are named by position (`0`, `1`, …) unless built from an OrderedDict."
            )
        )
        # a static table wraps the long "why" sentences instead of cutting them off
        st.table(views.naming)
    with right:
        chart(views.groups, key=STATE.key("groups_chart"))
    _render_values(p, r, views)
    st.markdown("#### `named_parameters()`")
    table: object = views.parameters
    needle = str(st.session_state.get(STATE.key("filter"), "")).strip()
    if needle:
        held = views.parameters[_(tables.NAME)].str.contains(needle, regex=False)
        st.caption(
            _(
                "{n} of {total} parameters' names hold {text}: highlighted (the Module tree's "
                "filter, or the module chosen in Data flow)."
            ).format(n=int(held.sum()), total=len(held), text=inert(repr(needle)))
        )
        table = views.parameters.style.apply(
            lambda row: [HIGHLIGHT_ROW if held[row.name] else ""] * len(row), axis=1
        )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=320,
        key=STATE.key("param_table"),
        column_config={"numel": st.column_config.NumberColumn(format="localized")},
    )


#: a parameter row of the highlighted module (PyTorch's orange, light)
HIGHLIGHT_ROW = "background-color: #FDE3DC"


PARAMETERS_SECTION: Section[ParamConfig, Values] = Section(
    "parameters",
    _controls,
    _compute,
    _render,
    label=PARAMETERS,
    ready=_no_parameters,
    views=_views,
)

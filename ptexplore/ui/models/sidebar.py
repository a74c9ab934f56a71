"""The page's :func:`setup`: the sidebar's model picker, head size, freezing and seed, and
the model's totals above the tabs (every tab shares the :class:`Choice` it returns)."""

from __future__ import annotations

import streamlit as st

from ptexplore import limits
from ptexplore.i18n import N_, _
from ptexplore.models import catalog, tables, tree, user, zoo
from ptexplore.models.catalog import ModelEntry
from ptexplore.text import md_escape
from ptexplore.ui.cache import shared
from ptexplore.ui.models.common import STATE, Choice, module_tree, param_table
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert
from ptexplore.ui.state import LinkValue, link_choice, link_int

DEFAULT_MODEL = "example:Model"
#: the constructor's parameter: its name is code, the label in every language
NUM_CLASSES = "num_classes"


@shared(4)
def _picker_options(models_env: str) -> tuple[tuple[str, ...], LinkValue]:
    """The picker's keys in their groups' order, and its deep-link parser (per value of
    PTEXPLORE_MODELS: a rerun rebuilds neither, even with ~1,400 timm names)."""
    keys = tuple(k for k, _x in catalog.choices())
    return keys, link_choice(keys)


#: what the failure says, by the first step that failed (bench/timm_zoo.py's stages)
_FAILED_AT = {
    "open": N_("Measured on meta, this architecture failed to open: {reason}"),
    "trace": N_("Measured on meta, this architecture failed to trace: {reason}"),
    "count": N_("Measured on meta, this architecture failed to count: {reason}"),
}


def _timm_status_note(e: ModelEntry) -> None:
    """What bench/timm_zoo.py measured for timm on meta, and this model's failure if any."""
    measured = zoo.status()
    if measured is None:
        return
    failure = measured.failure(e.key.removeprefix(catalog.TIMM_PREFIX))
    if failure is not None:
        reason = inert(failure.reason, limit=240)
        said = _FAILED_AT.get(failure.stage)
        st.warning(
            _(said).format(reason=reason)
            if said is not None
            else _("Measured on meta, this architecture failed to {stage}: {reason}").format(
                stage=failure.stage, reason=reason
            ),
            icon="⚠️",
        )
    with st.expander(
        _("timm on meta: {counted:,} of {total:,} count").format(
            counted=measured.counted, total=measured.total
        ),
        expanded=False,
    ):
        st.caption(
            _(
                "timm {timm}, torch {torch}: {opened:,} open, {traced:,} trace, {counted:,} "
                "count MACs on the meta device (bench/timm_zoo.py)."
            ).format(
                timm=measured.timm_version,
                torch=measured.torch_version,
                opened=measured.opened,
                traced=measured.traced,
                counted=measured.counted,
            )
        )
        if measured.failures:
            st.dataframe(
                tables.zoo_failures(measured.failures),
                hide_index=True,
                key=STATE.key("timm_failures"),
            )


def _num_classes(e: ModelEntry) -> int | None:
    if e.takes_num_classes:
        return int(
            st.number_input(
                NUM_CLASSES,
                min_value=1,
                max_value=limits.MAX_NUM_CLASSES,
                step=1,
                help=_("Size of the final classification layer."),
                **STATE.widget(
                    "num_classes",
                    reset_on=e.key,
                    default=e.default_num_classes or 1000,
                    url=link_int(1, limits.MAX_NUM_CLASSES),
                ),
            )
        )
    if e.source is catalog.Source.EXAMPLE:
        st.caption(_("This example has a fixed output size."))
    else:
        st.caption(_("This model takes no num_classes argument: its output size is its own."))
    return None


def model_picker() -> tuple[ModelEntry, int | None]:
    """One searchable selectbox, in groups: your models (PTEXPLORE_MODELS), the examples,
    torchvision, then timm family by family (type to filter: ``resnet``, ``timm``)."""
    keys, link = _picker_options(user.configured())
    with st.sidebar:
        st.subheader(_("Model"))
        chosen = st.selectbox(
            _("Model"),
            options=keys,
            format_func=catalog.shown_labels(keys),
            help=_(
                "Your models (the server's --model / PTEXPLORE_MODELS) first, then the "
                "examples, every torchvision classification model and, when timm is installed, "
                "every timm architecture by family. Type to search. Random init: no weights "
                "are downloaded."
            ),
            **STATE.widget("model", default=DEFAULT_MODEL, url=link),
        )
        e = catalog.entry(chosen)
        num_classes = _num_classes(e)
        if e.source is catalog.Source.USER:
            st.caption(
                _(
                    "Your model, registered when the server started; input "
                    "{shape} {dtype} ({source})."
                ).format(
                    shape=inert([1, *e.default_input]),
                    dtype=e.input_dtype,
                    source=user.source_text(e.input_source),
                )
            )
        if e.doc:
            st.caption(
                md_escape(e.doc, limit=400)
                if e.source is catalog.Source.USER
                else catalog.shown_doc(e)
            )
        if e.source is catalog.Source.TIMM:
            _timm_status_note(e)
    return e, num_classes


def setup() -> Choice:
    """The sidebar, then the model's totals (what every tab shares)."""
    entry, num_classes = model_picker()
    table = param_table(entry.key, num_classes, ())
    top_groups = [g.group for g in table.groups if g.group != "(root)"]
    frozen = tuple(
        st.sidebar.multiselect(
            _("Freeze top-level children"),
            top_groups,
            help=_("Calls .requires_grad_(False) on them: watch trainable vs frozen change."),
            **STATE.widget("freeze", reset_on=(entry.key, num_classes), default=[]),
        )
    )
    seed = seed_input(label=N_("Seed (parameter values)"))
    choice = Choice(entry, num_classes, frozen, seed)
    table = param_table(entry.key, num_classes, frozen)
    root = module_tree(entry.key, num_classes, frozen)
    label, family = catalog.shown_label(entry.key, entry.label), catalog.shown_family(entry)
    # a family the label already names (an example's, a timm model's) is not said twice
    st.subheader(label if family in label else f"{label} · {family}")
    m = st.columns(5)
    m[0].metric(_("Total parameters"), f"{table.total:,}")
    m[1].metric(_("Trainable"), f"{table.trainable:,}")
    m[2].metric(_("Frozen"), f"{table.frozen:,}")
    m[3].metric(_("Size at fp32"), _("{mb:,.1f} MB").format(mb=table.mb_fp32))
    m[4].metric(_("Modules"), f"{tree.count_nodes(root):,}")
    st.caption(
        _(
            "Built on the `meta` device: names, shapes and counts without allocating a single "
            "weight; each tab below computes only when you open it."
        )
    )
    return choice

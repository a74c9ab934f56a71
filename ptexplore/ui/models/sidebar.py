"""The page's :func:`setup`: the sidebar's model picker, head size, freezing and seed, and
the model's totals above the tabs (every tab shares the :class:`Choice` it returns)."""

from __future__ import annotations

import streamlit as st

from ptexplore import limits
from ptexplore.models import catalog, tables, tree, user, zoo
from ptexplore.models.catalog import ModelEntry
from ptexplore.text import md_escape
from ptexplore.ui.cache import shared
from ptexplore.ui.models.common import STATE, Choice, module_tree, param_table
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert
from ptexplore.ui.state import LinkValue, link_choice, link_int

DEFAULT_MODEL = "example:Model"


@shared(4)
def _picker_options(models_env: str) -> tuple[tuple[str, ...], LinkValue]:
    """The picker's keys in their groups' order, and its deep-link parser (per value of
    PTEXPLORE_MODELS: a rerun rebuilds neither, even with ~1,400 timm names)."""
    keys = tuple(k for k, _ in catalog.choices())
    return keys, link_choice(keys)


def _timm_status_note(e: ModelEntry) -> None:
    """What bench/timm_zoo.py measured for timm on meta, and this model's failure if any."""
    measured = zoo.status()
    if measured is None:
        return
    failure = measured.failure(e.key.removeprefix(catalog.TIMM_PREFIX))
    if failure is not None:
        st.warning(
            f"Measured on meta, this architecture failed to {failure.stage}: "
            f"{inert(failure.reason, limit=240)}",
            icon="⚠️",
        )
    with st.expander(
        f"timm on meta: {measured.counted:,} of {measured.total:,} count", expanded=False
    ):
        st.caption(
            f"timm {measured.timm_version}, torch {measured.torch_version}: "
            f"{measured.opened:,} open, {measured.traced:,} trace, {measured.counted:,} "
            "count MACs on the meta device (bench/timm_zoo.py)."
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
                "num_classes",
                min_value=1,
                max_value=limits.MAX_NUM_CLASSES,
                step=1,
                help="Size of the final classification layer.",
                **STATE.widget(
                    "num_classes",
                    reset_on=e.key,
                    default=e.default_num_classes or 1000,
                    url=link_int(1, limits.MAX_NUM_CLASSES),
                ),
            )
        )
    if e.source is catalog.Source.EXAMPLE:
        st.caption("This example has a fixed output size.")
    else:
        st.caption("This model takes no num_classes argument: its output size is its own.")
    return None


def model_picker() -> tuple[ModelEntry, int | None]:
    """One searchable selectbox, in groups: your models (PTEXPLORE_MODELS), the examples,
    torchvision, then timm family by family (type to filter: ``resnet``, ``timm``)."""
    keys, link = _picker_options(user.configured())
    labels = catalog.labels()
    with st.sidebar:
        st.subheader("Model")
        chosen = st.selectbox(
            "Model",
            options=keys,
            format_func=lambda k: labels.get(k, k),
            help="Your models (the server's --model / PTEXPLORE_MODELS) first, then the "
            "examples, every torchvision classification model and, when timm is installed, "
            "every timm architecture by family. Type to search. Random init: no weights "
            "are downloaded.",
            **STATE.widget("model", default=DEFAULT_MODEL, url=link),
        )
        e = catalog.entry(chosen)
        num_classes = _num_classes(e)
        if e.source is catalog.Source.USER:
            st.caption(
                f"Your model, registered when the server started; input "
                f"{inert([1, *e.default_input])} {e.input_dtype} ({e.input_source})."
            )
        if e.doc:
            st.caption(md_escape(e.doc, limit=400) if e.source is catalog.Source.USER else e.doc)
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
            "Freeze top-level children",
            top_groups,
            help="Calls .requires_grad_(False) on them: watch trainable vs frozen change.",
            **STATE.widget("freeze", reset_on=(entry.key, num_classes), default=[]),
        )
    )
    seed = seed_input(label="Seed (parameter values)")
    choice = Choice(entry, num_classes, frozen, seed)
    table = param_table(entry.key, num_classes, frozen)
    root = module_tree(entry.key, num_classes, frozen)
    st.subheader(f"{entry.label} · {entry.family}")
    m = st.columns(5)
    m[0].metric("Total parameters", f"{table.total:,}")
    m[1].metric("Trainable", f"{table.trainable:,}")
    m[2].metric("Frozen", f"{table.frozen:,}")
    m[3].metric("Size at fp32", f"{table.mb_fp32:,.1f} MB")
    m[4].metric("Modules", f"{tree.count_nodes(root):,}")
    st.caption(
        "Built on the `meta` device: names, shapes and counts without allocating a single "
        "weight; each tab below computes only when you open it."
    )
    return choice

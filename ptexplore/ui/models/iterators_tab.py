"""🔁 modules() vs children(): how many items each iterator yields, and one listing."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.i18n import _
from ptexplore.models import catalog, iterators
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import ITERATORS, STATE, Choice, counts, iterator

MAX_ITEMS_SHOWN = 300
#: Items of an iterator listing shown before "Show all".
FIRST_ITEMS = 20


@dataclass(frozen=True, slots=True)
class IterConfig:
    choice: Choice
    kind: iterators.IteratorKind
    #: lines of each item's repr
    lines: int
    everything: bool


@dataclass(frozen=True, slots=True)
class Listing:
    view: iterators.IteratorView
    #: the iterator's loop, as Python
    code: str
    #: the items, each cut to its lines
    text: str


def _controls(c: Choice) -> IterConfig:
    n = dict(counts(c.key, c.num_classes))
    cols = st.columns(3)
    for col, (label, k) in zip(cols, n.items(), strict=True):
        col.metric(label, _("{n:,} items").format(n=k))
    if n["named_modules(remove_duplicate=False)"] != n["modules()"]:
        st.info(
            _(
                "This model registers one module object under more than one name: "
                "modules() yields it once, named_modules(remove_duplicate=False) yields every "
                "name."
            )
        )
    kind = iterators.IteratorKind(
        st.radio(
            _("Iterator"),
            options=[k.value for k in iterators.IteratorKind],
            horizontal=True,
            **STATE.widget("iterator"),
        )
    )
    items = len(iterator(c.key, c.num_classes, kind.value).items)
    lines = st.slider(
        _("Lines shown per item"),
        1,
        60,
        6,
        help=_("Long reprs are cut."),
        **STATE.widget("iter_lines"),
    )
    everything = st.toggle(
        _("Show all {n:,} items").format(n=items),
        value=False,
        help=_("Off: the first {n} items (a big model's listing is a long wall).").format(
            n=FIRST_ITEMS
        ),
        disabled=items <= FIRST_ITEMS,
        **STATE.widget("iter_all"),
    )
    return IterConfig(c, kind, int(lines), bool(everything))


def _compute(i: IterConfig) -> Listing:
    c = i.choice
    view = iterator(c.key, c.num_classes, i.kind.value)
    limit = MAX_ITEMS_SHOWN if i.everything else FIRST_ITEMS
    text = "\n".join(iterators.truncate(it.text, i.lines) for it in view.items[:limit])
    if len(view.items) > limit:
        text += f"\n… {len(view.items) - limit:,} more items"
    code = iterators.code(view.kind, catalog.constructor_code(c.key, c.num_classes))
    return Listing(view, code, text)


def _render(_i: IterConfig, listing: Listing, _views: None) -> None:
    st.markdown(listing.view.explanation)
    st.code(listing.code, language="python")
    st.code(listing.text, language="text")


ITERATORS_SECTION: Section[IterConfig, Listing] = Section(
    "iterators", _controls, _compute, _render, label=ITERATORS
)

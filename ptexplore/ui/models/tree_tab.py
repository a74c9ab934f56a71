"""🌳 Module tree: the model's modules as a collapsible tree, filtered by name, with the
classic ``named_modules()`` loop that finds the same modules."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.i18n import _
from ptexplore.models import tables, tree
from ptexplore.ui.cache import shared
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import STATE, TREE, Choice, module_tree, name_hits
from ptexplore.ui.render import inert


@dataclass(frozen=True, slots=True)
class TreeConfig:
    choice: Choice
    #: the filter text, stripped ('' shows every module)
    needle: str
    #: how deep the tree opens
    depth: int


@dataclass(frozen=True, slots=True)
class Drawn:
    """The filtered tree as HTML, how many modules it shows and how many match."""

    html: str
    shown: int
    matches: int


@dataclass(frozen=True, slots=True)
class TreeView:
    total: int
    #: ``None`` when no module name holds the filter text
    drawn: Drawn | None
    #: (name, class) of the modules the classic loop finds
    hits: tuple[tuple[str, str], ...]


@shared(64)
def _drawn(
    key: str, num_classes: int | None, frozen: tuple[str, ...], text: str, depth: int
) -> Drawn | None:
    shown = tree.filter_tree(module_tree(key, num_classes, frozen), text)
    if shown is None:
        return None
    matches = sum(1 for n in shown.walk() if n.match)
    html = tree.tree_html(shown, open_depth=depth, highlight=text)
    return Drawn(html, tree.count_nodes(shown), matches)


def _expand_all(depth: int) -> None:
    st.session_state[STATE.key("depth")] = depth


def _controls(c: Choice) -> TreeConfig:
    deepest = tree.max_depth(module_tree(c.key, c.num_classes, c.frozen)) + 1
    c1, c2, c3, c4 = st.columns([3, 3, 1.6, 1.6], vertical_alignment="bottom")
    text = c1.text_input(
        _("Filter by name"),
        placeholder=_("e.g. conv"),
        help=_("Keeps modules whose qualified name contains this text (and their parents)."),
        **STATE.widget("filter"),
    )
    depth_key = STATE.key("depth")
    if depth_key not in st.session_state:
        st.session_state[depth_key] = min(1, deepest)
    st.session_state[depth_key] = min(st.session_state[depth_key], deepest)
    depth = c2.slider(_("Expand to depth"), 0, deepest, **STATE.widget("depth"))
    c3.button(_("Expand all"), key=STATE.key("expand_all"), on_click=_expand_all, args=(deepest,))
    c4.button(_("Collapse all"), key=STATE.key("collapse_all"), on_click=_expand_all, args=(0,))
    needle = text.strip()
    return TreeConfig(c, needle, deepest + 1 if needle else int(depth))


def _compute(t: TreeConfig) -> TreeView:
    c = t.choice
    root = module_tree(c.key, c.num_classes, c.frozen)
    drawn = _drawn(c.key, c.num_classes, c.frozen, t.needle, t.depth)
    hits = name_hits(c.key, c.num_classes, t.needle) if t.needle and drawn else ()
    return TreeView(tree.count_nodes(root), drawn, hits)


def _render(t: TreeConfig, v: TreeView, _views: None) -> None:
    needle = t.needle
    if v.drawn is None:
        st.warning(_("No module name contains {text}.").format(text=inert(needle)))
        return
    caption = _("Showing {shown} of {total} modules").format(shown=v.drawn.shown, total=v.total)
    if needle:
        caption += _(" · {n} match {text}").format(n=v.drawn.matches, text=inert(repr(needle)))
    caption += _(" · click a ▸ row to open it")
    st.caption(caption)
    st.html(v.drawn.html)
    if needle:
        with st.expander(
            _("The classic loop: {n} modules with {text} in the name").format(
                n=len(v.hits), text=repr(needle)
            )
        ):
            st.code(
                "for name, layer in model.named_modules():\n"
                f"    if {needle!r} in name:\n        print(name, '-', layer)",
                language="python",
            )
            st.dataframe(tables.filter_hits(v.hits), hide_index=True, width="stretch")


TREE_SECTION: Section[TreeConfig, TreeView] = Section(
    "tree", _controls, _compute, _render, label=TREE
)

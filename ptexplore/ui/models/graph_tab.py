"""🕸️ Data flow: how a tensor travels through the model — module calls and the ops
between them, collapsed to a depth, repeated blocks folded, one box opened in place.

The graph shares the sidebar's model, the input size of the Shapes tab and the name
filter of the Module tree: choosing a module here sets that filter (the tree then shows
it, the Parameters tab's code lists it), and a filter typed there is highlighted here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from ptexplore import graph
from ptexplore.graph import ItemKind, View
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.models import catalog
from ptexplore.models.catalog import InputKind
from ptexplore.ui.cache import shared
from ptexplore.ui.lab import Section
from ptexplore.ui.models.common import FLOW, STATE, Choice
from ptexplore.ui.render import inert


@dataclass(frozen=True, slots=True)
class FlowConfig:
    key: str
    num_classes: int | None
    side: int | None
    depth: int
    fold: bool
    expand: tuple[str, ...]
    collapse: tuple[str, ...]
    needle: str


@dataclass(frozen=True, slots=True)
class FlowViews:
    dot: str
    lit: tuple[str, ...]  # the items the filter highlights


@shared(16, spinner=N_("Tracing the data flow on meta tensors…"))
def traced(key: str, num_classes: int | None, side: int | None) -> graph.Graph:
    return graph.sandboxed(key, num_classes, side)


def _side(c: Choice) -> int | None:
    """The Shapes tab's input side, when the learner set one for this model."""
    if c.entry.input_kind is not InputKind.IMAGE:
        return None
    side = st.session_state.get(STATE.key("side"))
    return int(side) if isinstance(side, int) and side != c.entry.default_input[1] else None


def _pick(name: str, options: list[str]) -> tuple[str, ...]:
    """The kept choices of a multiselect whose options change with the view."""
    key = STATE.key(name)
    kept = [k for k in st.session_state.get(key, []) if k in options]
    st.session_state[key] = kept
    return tuple(kept)


def _focus() -> None:
    chosen = st.session_state.get(STATE.key("flow_focus")) or ""
    st.session_state[STATE.key("filter")] = chosen


def _controls(c: Choice) -> FlowConfig:
    side = _side(c)
    g = traced(c.key, c.num_classes, side)
    deepest = max((call.depth for call in g.calls), default=0) + 1
    a, b, d = st.columns([2.4, 2, 3], vertical_alignment="bottom")
    depth_key = STATE.key("flow_depth")
    st.session_state[depth_key] = min(st.session_state.get(depth_key, min(2, deepest)), deepest)
    depth = int(
        a.slider(
            _("Open to depth"),
            0,
            deepest,
            key=depth_key,
            help=_(
                "A module call deeper than this is one box: its input and output "
                "shapes, parameters and MACs."
            ),
        )
    )
    fold = bool(
        b.toggle(
            _("Fold repeats"),
            value=True,
            key=STATE.key("flow_fold"),
            help=_(
                "Consecutive identical blocks (same class, parameter shapes and "
                "input/output shapes, feeding one another) become one box ×N."
            ),
        )
    )
    before = graph.build(g, depth, fold=fold)
    expand_options = sorted({*before.expandable, *st.session_state.get(STATE.key("flow_open"), [])})
    expand = _pick("flow_open", expand_options)
    opened = graph.build(g, depth, fold=fold, expand=frozenset(expand))
    collapse_options = sorted(
        {*opened.collapsible, *st.session_state.get(STATE.key("flow_close"), [])}
    )
    collapse = _pick("flow_close", collapse_options)
    e1, e2 = st.columns(2)
    e1.multiselect(
        _("Open a box in place"),
        expand_options,
        key=STATE.key("flow_open"),
        help=_("Its siblings stay closed."),
    )
    e2.multiselect(_("Close a frame"), collapse_options, key=STATE.key("flow_close"))
    modules = sorted({m for i in opened.items for m in i.modules if m})
    d.selectbox(
        _("Highlight a module (here, in the tree, in the parameter code)"),
        ["", *modules],
        key=STATE.key("flow_focus"),
        on_change=_focus,
        format_func=lambda m: m or "—",
    )
    needle = str(st.session_state.get(STATE.key("filter"), "")).strip()
    return FlowConfig(c.key, c.num_classes, side, depth, fold, expand, collapse, needle)


def _compute(f: FlowConfig) -> View:
    g = traced(f.key, f.num_classes, f.side)
    return graph.build(
        g, f.depth, fold=f.fold, expand=frozenset(f.expand), collapse=frozenset(f.collapse)
    )


def _views(f: FlowConfig, v: View) -> FlowViews:
    lit = tuple(i.key for i in v.items if f.needle and any(f.needle in m for m in i.modules))
    lit += tuple(c.key for c in v.clusters if f.needle and f.needle in c.key)
    return FlowViews(graph.to_dot(v, highlight=lit), lit)


def _render(f: FlowConfig, v: View, views: FlowViews) -> None:
    g = v.graph
    boxes = sum(1 for i in v.items if i.kind is not ItemKind.NODE)
    folds = sum(1 for i in v.items if i.kind is ItemKind.FOLD)
    st.caption(
        _(
            "{method} {nodes:,} nodes and {tensors:,} tensors traced in {seconds:.2f} s on "
            "input {shape}; drawn: {items} items ({boxes} boxes, {folds} folded runs) and "
            "{edges} edges."
        ).format(
            method=_(g.method),
            nodes=len(g.nodes),
            tensors=len(g.edges),
            seconds=g.seconds,
            shape=list(g.input_shape),
            items=len(v.items),
            boxes=boxes,
            folds=folds,
            edges=len(v.edges),
        )
    )
    if g.stopped is not None:
        st.warning(g.stopped)
    if f.needle:
        st.caption(
            _(
                "Highlighted: {n} drawn item(s) whose module name holds {needle} (the "
                "Module tree's filter)."
            ).format(n=len(views.lit), needle=inert(repr(f.needle)))
        )
    st.graphviz_chart(views.dot, width="stretch")
    name = f.key.replace(":", "_")
    exports: list[tuple[str, Callable[[], str | bytes], str]] = [
        ("dot", lambda: views.dot, "text/vnd.graphviz"),
        ("json", lambda: graph.to_json(v), "application/json"),
    ]
    if graph.render_available():  # made when clicked: Graphviz runs only then
        exports += [
            ("svg", lambda: graph.render(views.dot, "svg"), "image/svg+xml"),
            ("png", lambda: graph.render(views.dot, "png"), "image/png"),
        ]
    columns = st.columns(4)
    for column, (fmt, data, mime) in zip(columns, exports, strict=False):
        column.download_button(
            fmt.upper(),
            data,
            f"{name}.{fmt}",
            mime,
            key=STATE.key(f"flow_{fmt}"),
            on_click="ignore",
        )
    if not graph.render_available():
        columns[2].caption(_("SVG and PNG need Graphviz (`dot`) on the server."))


def _code(f: FlowConfig, v: View) -> Snippet:
    build = catalog.constructor_code(f.key, f.num_classes)
    shape = tuple(v.graph.input_shape)
    lines = [
        build.head("import torch", "import ptexplore").rstrip("\n"),
        "",
        "with torch.device('meta'):  # parameters without memory or values: a trace needs none",
        f"    model = {build.expr}",
        f"g = ptexplore.graph(model, input_size={shape})",
        "print(len(g.nodes), 'nodes', len(g.edges), 'tensors', len(g.calls), 'module calls')",
        f"view = ptexplore.graph.build(g, depth={f.depth}, fold={f.fold})",
        "print(len(view.items), 'drawn', len(view.edges), 'edges')",
        "dot = ptexplore.graph.to_dot(view)  # st.graphviz_chart(dot), or: dot -Tsvg",
        "",
        "# the same model with torchview, for comparison (pip install torchview):",
        "# from torchview import draw_graph",
        f"# draw_graph(model, input_size={shape}, device='meta', depth={f.depth})",
    ]
    plain = graph.build(v.graph, f.depth, fold=f.fold)
    g = v.graph
    out = (
        f"{len(g.nodes)} nodes {len(g.edges)} tensors {len(g.calls)} module calls\n"
        f"{len(plain.items)} drawn {len(plain.edges)} edges\n"
    )
    return Snippet("\n".join(lines) + "\n", out)


FLOW_SECTION: Section[FlowConfig, View] = Section(
    "flow",
    _controls,
    _compute,
    _render,
    code=_code,
    label=FLOW,
    views=_views,
    code_title=N_("The same graph from Python (ptexplore.graph)"),
)

"""A :class:`~ptexplore.graph.view.View` as DOT (always), SVG or PNG (Graphviz's ``dot``,
when installed: Debian's ``graphviz``), or JSON.

Labels are DOT quoted strings, never HTML-like labels: a module name from a learner's own
model is text in the picture, escaped (``"`` and ``\\``), and cannot become markup.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable

from ptexplore.errors import InputError
from ptexplore.graph.model import NodeKind, Shape
from ptexplore.graph.view import Item, ItemKind, View
from ptexplore.i18n import _
from ptexplore.limits import GRAPH_RENDER_TIMEOUT_S
from ptexplore.models import shapes

#: Colours: PyTorch's orange for what is highlighted, soft fills for the rest.
HIGHLIGHT = "#EE4C2C"
_FILL = {
    NodeKind.INPUT: "#E8F0FE",
    NodeKind.OUTPUT: "#E8F0FE",
    NodeKind.MODULE: "#FFFFFF",
    NodeKind.OP: "#FFF4E5",
}


def dims(shape: Shape) -> str:
    return "×".join(map(str, shape)) if shape else _("scalar")


def _shapes(shapes: tuple[Shape, ...]) -> str:
    return ", ".join(dims(s) for s in shapes[:3]) + (" …" if len(shapes) > 3 else "")


def _q(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, newlines as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def label(item: Item) -> str:
    lines = []
    if item.kind is ItemKind.NODE and item.node_kind is NodeKind.OP:
        lines.append(item.label)
    elif item.kind is ItemKind.NODE and item.node_kind in (NodeKind.INPUT, NodeKind.OUTPUT):
        lines.append(_("input") if item.node_kind is NodeKind.INPUT else _("output"))
    else:
        head = f"{item.title}  ×{item.repeat}" if item.kind is ItemKind.FOLD else item.title
        lines += [head, item.label]
    if item.kind is not ItemKind.NODE:
        lines.append(f"{_shapes(item.in_shapes)} → {_shapes(item.out_shapes)}")
    elif item.out_shapes:
        lines.append(_shapes(item.out_shapes))
    facts = []
    if item.params:
        facts.append(_("{n} params").format(n=shapes.human(item.params)))
    if item.macs:
        facts.append(f"{shapes.human(item.macs)} MACs")  # a unit: the same in every language
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines)


def to_dot(view: View, *, highlight: Iterable[str] = ()) -> str:
    """The view in Graphviz's DOT language; ``highlight``: item keys drawn in orange."""
    lit = set(highlight)
    ids = {item.key: f"n{i}" for i, item in enumerate(view.items)}
    out = [
        "digraph G {",
        "  graph [rankdir=TB, fontname=Helvetica, fontsize=11, nodesep=0.25, ranksep=0.3];",
        '  node [fontname=Helvetica, fontsize=10, shape=box, style="rounded,filled", '
        'fillcolor="#FFFFFF", color="#666666", margin="0.12,0.04"];',
        '  edge [fontname=Helvetica, fontsize=8, color="#888888", arrowsize=0.6];',
    ]

    def node_line(item: Item, indent: str) -> str:
        attrs = [f"label={_q(label(item))}", f"tooltip={_q(item.key)}"]
        if item.kind is ItemKind.NODE:
            assert item.node_kind is not None
            attrs.append(f'fillcolor="{_FILL[item.node_kind]}"')
            if item.node_kind is NodeKind.OP:
                attrs.append("shape=ellipse")
            elif item.node_kind in (NodeKind.INPUT, NodeKind.OUTPUT):
                attrs.append("shape=oval")
        elif item.kind is ItemKind.FOLD:
            attrs += ["shape=box3d", 'fillcolor="#F1F3F4"']
        else:
            attrs += ["peripheries=2", 'fillcolor="#F8F9FA"']
        if item.key in lit:
            attrs += [f'color="{HIGHLIGHT}"', "penwidth=2.5"]
        return f"{indent}{ids[item.key]} [{', '.join(attrs)}];"

    children: dict[str | None, list[str]] = {}
    for c in view.clusters:
        children.setdefault(c.parent, []).append(c.key)
    clusters = {c.key: c for c in view.clusters}
    inside: dict[str | None, list[Item]] = {}
    for item in view.items:
        inside.setdefault(item.parent, []).append(item)

    def emit(parent: str | None, indent: str) -> None:
        for item in inside.get(parent, []):
            out.append(node_line(item, indent))
        for k in children.get(parent, []):
            c = clusters[k]
            out.append(f"{indent}subgraph cluster_{len(out)} {{")
            border = HIGHLIGHT if k in lit else "#BBBBBB"
            out.append(
                f'{indent}  label={_q(f"{c.title} ({c.label})")}; color="{border}"; '
                'style="rounded,dashed"; fontsize=10; labeljust=l;'
            )
            emit(k, indent + "  ")
            out.append(f"{indent}}}")

    emit(None, "  ")
    for e in view.edges:
        out.append(f"  {ids[e.src]} -> {ids[e.dst]} [label={_q(' ' + dims(e.shape))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_json(view: View) -> str:
    """The view as JSON: items, edges and frames (what ``ptexplore graph --format json``
    prints)."""
    g = view.graph
    data = {
        "model": g.model,
        "input_shape": list(g.input_shape),
        "depth": view.depth,
        "fold": view.fold,
        "complete": g.complete,
        "stopped": g.stopped,
        "items": [
            {
                "key": i.key,
                "kind": i.kind.value,
                "title": i.title,
                "label": i.label,
                "in_shapes": [list(s) for s in i.in_shapes],
                "out_shapes": [list(s) for s in i.out_shapes],
                "params": i.params,
                "macs": i.macs,
                "repeat": i.repeat,
                "modules": list(i.modules),
                "parent": i.parent,
            }
            for i in view.items
        ],
        "edges": [
            {"src": e.src, "dst": e.dst, "shape": list(e.shape), "dtype": e.dtype}
            for e in view.edges
        ],
        "frames": [{"key": c.key, "label": c.label, "parent": c.parent} for c in view.clusters],
    }
    return json.dumps(data, indent=1) + "\n"


def have_dot() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str) -> bytes:
    """SVG or PNG bytes of ``dot`` by Graphviz's ``dot`` (a separate process, bounded)."""
    if fmt not in ("svg", "png"):
        raise InputError(
            _("No format {fmt} here.").format(fmt=repr(fmt)),
            fix=_("Use svg or png (or dot, json)."),
        )
    exe = shutil.which("dot")
    if exe is None:
        raise InputError(
            _("Graphviz's `dot` is not installed here, so there is no SVG or PNG."),
            fix=_("Install Graphviz (Debian: apt-get install graphviz), or take the DOT file."),
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=dot.encode(),
            capture_output=True,
            timeout=GRAPH_RENDER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            _("Graphviz took longer than {s:g} s to lay this graph out.").format(
                s=GRAPH_RENDER_TIMEOUT_S
            ),
            fix=_("Collapse it to a smaller depth or fold repeated blocks, then export again."),
        ) from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise InputError(
            _("Graphviz could not draw this graph ({why}).").format(
                why="; ".join(said) or done.returncode
            ),
            fix=_("Export the DOT file instead."),
        )
    return done.stdout

"""The module hierarchy as a tree of frozen nodes, a name filter, and an HTML rendering."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from enum import StrEnum

from torch import nn

from ptexplore import compat
from ptexplore.i18n import N_, _


class Trainable(StrEnum):
    YES = "trainable"
    NO = "frozen"
    MIXED = "mixed"
    NONE = "no parameters"


@dataclass(frozen=True, slots=True)
class SharedRef:
    """A child attribute that points at a module already shown elsewhere in the tree."""

    name: str
    qualname: str
    first_qualname: str
    class_name: str


@dataclass(frozen=True, slots=True)
class ModuleNode:
    name: str  # attribute name under the parent ("" for the root)
    qualname: str  # as named_modules() prints it ("" for the root)
    class_name: str
    extra_repr: str
    depth: int
    own_params: int  # parameters registered on this module itself
    total_params: int  # own + all descendants (each shared parameter counted once)
    trainable: Trainable
    children: tuple[ModuleNode, ...]
    shared: tuple[SharedRef, ...] = ()
    match: bool = False

    def walk(self) -> list[ModuleNode]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


def _trainable(params: list[nn.Parameter]) -> Trainable:
    if not params:
        return Trainable.NONE
    flags = {p.requires_grad for p in params}
    if flags == {True}:
        return Trainable.YES
    if flags == {False}:
        return Trainable.NO
    return Trainable.MIXED


def build_tree(model: nn.Module) -> ModuleNode:
    """One node per distinct module, exactly the modules that ``model.modules()`` yields."""
    seen: dict[int, str] = {}

    def visit(module: nn.Module, name: str, qualname: str, depth: int) -> ModuleNode:
        seen[id(module)] = qualname
        children: list[ModuleNode] = []
        shared: list[SharedRef] = []
        for child_name, child in compat.own_modules(module).items():
            if child is None:
                continue
            child_q = f"{qualname}.{child_name}" if qualname else child_name
            if id(child) in seen:
                shared.append(SharedRef(child_name, child_q, seen[id(child)], type(child).__name__))
                continue
            children.append(visit(child, child_name, child_q, depth + 1))
        own = [p for p in compat.own_parameters(module).values() if p is not None]
        all_params = list(module.parameters())  # de-duplicated by torch
        return ModuleNode(
            name=name,
            qualname=qualname,
            class_name=type(module).__name__,
            extra_repr=module.extra_repr(),
            depth=depth,
            own_params=sum(p.numel() for p in own),
            total_params=sum(p.numel() for p in all_params),
            trainable=_trainable(all_params),
            children=tuple(children),
            shared=tuple(shared),
        )

    return visit(model, "", "", 0)


def count_nodes(node: ModuleNode) -> int:
    return 1 + sum(count_nodes(c) for c in node.children)


def max_depth(node: ModuleNode) -> int:
    return max((max_depth(c) for c in node.children), default=node.depth)


def filter_tree(node: ModuleNode, text: str) -> ModuleNode | None:
    """Keep nodes whose qualified name contains ``text`` (case-insensitive), plus ancestors.

    Matching nodes are flagged (``match=True``) so they can be highlighted. Empty text keeps
    the whole tree unflagged. Returns None when nothing matches.
    """
    needle = text.strip().lower()
    if not needle:
        return node
    kept = tuple(k for c in node.children if (k := filter_tree(c, needle)) is not None)
    is_match = bool(node.qualname) and needle in node.qualname.lower()
    if is_match:
        # a matching module keeps its whole subtree so its insides stay visible
        return replace(node, match=True)
    if kept:
        return replace(node, children=kept, shared=())
    return None


def filter_named_modules(model: nn.Module, text: str) -> list[tuple[str, str]]:
    """The classic selection, run for real:
    ``[(name, layer) for name, layer in model.named_modules() if text in name]``."""
    return [(name, type(m).__name__) for name, m in model.named_modules() if text in name]


def _fmt_count(n: int) -> str:
    return f"{n:,}"


_BADGE = {
    Trainable.YES: ("#0b7a3e", N_("trainable")),
    Trainable.NO: ("#6b7280", N_("frozen")),
    Trainable.MIXED: ("#b45309", N_("partly frozen")),
    Trainable.NONE: ("#9ca3af", N_("no params")),
}

TREE_CSS = """
<style>
.ptx-tree{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;line-height:1.55}
.ptx-tree details>summary{cursor:pointer;list-style:revert}
.ptx-tree .ptx-kids{margin-left:1.1em;border-left:1px dashed #d1d5db;padding-left:.6em}
.ptx-tree .ptx-leaf{padding-left:1.1em}
.ptx-tree .ptx-name{color:#1f2937;font-weight:600}
.ptx-tree .ptx-cls{color:#EE4C2C;font-weight:600}
.ptx-tree .ptx-extra{color:#4b5563}
.ptx-tree .ptx-count{color:#0072B2}
.ptx-tree .ptx-badge{font-size:11px;border-radius:4px;padding:0 4px;color:#fff}
.ptx-tree mark{background:#fde68a;padding:0 2px;border-radius:3px}
.ptx-tree .ptx-shared{color:#6b7280;font-style:italic;padding-left:1.1em}
</style>
"""


def _label(node: ModuleNode, highlight: str) -> str:
    name = node.name or "(root)"
    esc_name = html.escape(name)
    if node.match and highlight:
        low = name.lower()
        i = low.find(highlight.lower())
        if i >= 0:
            esc_name = (
                html.escape(name[:i])
                + "<mark>"
                + html.escape(name[i : i + len(highlight)])
                + "</mark>"
                + html.escape(name[i + len(highlight) :])
            )
        else:  # matched on an ancestor part of the qualified name
            esc_name = f"<mark>{esc_name}</mark>"
    colour, text = _BADGE[node.trainable]
    counts = (
        _("own {own} · total {total}").format(
            own=_fmt_count(node.own_params), total=_fmt_count(node.total_params)
        )
        if node.children
        else _("{n} params").format(n=_fmt_count(node.total_params))
    )
    return (
        f'<span class="ptx-name" title="{html.escape(node.qualname or "(root)")}">{esc_name}</span>'
        f' <span class="ptx-cls">{html.escape(node.class_name)}</span>'
        f'(<span class="ptx-extra">{html.escape(node.extra_repr)}</span>)'
        f' <span class="ptx-count">{counts}</span>'
        f' <span class="ptx-badge" style="background:{colour}">{html.escape(_(text))}</span>'
    )


def tree_html(root: ModuleNode, *, open_depth: int, highlight: str = "") -> str:
    """Nested ``<details>`` elements: nodes shallower than ``open_depth`` start open.

    Every name, class and extra_repr is HTML-escaped.
    """
    parts: list[str] = [TREE_CSS, '<div class="ptx-tree">']

    def emit(node: ModuleNode) -> None:
        label = _label(node, highlight)
        if not node.children and not node.shared:
            parts.append(f'<div class="ptx-leaf" data-qualname="{html.escape(node.qualname)}">')
            parts.append(f"{label}</div>")
            return
        is_open = " open" if node.depth < open_depth else ""
        parts.append(f'<details{is_open} data-qualname="{html.escape(node.qualname)}">')
        parts.append(f"<summary>{label}</summary><div class='ptx-kids'>")
        for c in node.children:
            emit(c)
        for s in node.shared:
            said = _(
                "{name} → same {cls} object as {first} (not repeated: modules() yields it once)"
            ).format(
                name=html.escape(s.name),
                cls=html.escape(s.class_name),
                first=f"<code>{html.escape(s.first_qualname)}</code>",
            )
            parts.append(f'<div class="ptx-shared">{said}</div>')
        parts.append("</div></details>")

    emit(root)
    parts.append("</div>")
    return "".join(parts)

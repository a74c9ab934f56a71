"""What the page draws of a :class:`~ptexplore.graph.model.Graph`: collapsed to a depth,
repeated blocks folded, some boxes expanded or collapsed in place.

A module call at depth < ``depth`` is open (its nodes drawn), deeper ones are one box
with their input and output shapes, parameters and MACs. **Folding**: consecutive sibling
calls that are structurally identical — same class, same parameter shapes, same input
and output shapes — and feed one another (``layer1.0 → layer1.1``, ViT's 12 encoder
blocks, a timm stage's blocks) become one box marked ×N, until that box is expanded.
``expand`` opens a box in place (its siblings stay as they are); ``collapse`` closes an
open one. Boxes are named by :func:`box_key`: a call's qualname (``layer1.0``, with
``#2`` for a module's second call), a folded run's ``layer1.0…layer1.1``.

Edges are the tensors between what is drawn: an edge inside one box disappears, several
tensors between the same two boxes are one edge (with the first's shape). A residual
edge stays visible at every depth: it leaves a box and enters the box that adds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ptexplore.graph.model import Call, Graph, Node, NodeKind, Shape


class ItemKind(StrEnum):
    NODE = "node"  # a leaf module call, an op, the input or the output
    BOX = "box"  # a collapsed module call
    FOLD = "fold"  # a run of identical calls, folded


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    kind: ItemKind
    title: str  # what the box says first: a name, "layer1.0 … layer1.1"
    label: str  # a class or an op
    node_kind: NodeKind | None  # for NODE items
    in_shapes: tuple[Shape, ...]
    out_shapes: tuple[Shape, ...]
    params: int
    macs: int
    repeat: int = 1
    #: the module names this item stands for (a module's, every member's; "" for an op)
    modules: tuple[str, ...] = ()
    #: the open call it is drawn inside (a cluster), None at the top
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ViewEdge:
    src: str
    dst: str
    shape: Shape
    dtype: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """An open module call: the items drawn inside it are in its frame."""

    key: str
    title: str
    label: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class View:
    graph: Graph
    depth: int
    fold: bool
    items: tuple[Item, ...]
    edges: tuple[ViewEdge, ...]
    clusters: tuple[Cluster, ...]

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    @property
    def expandable(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items if i.kind is not ItemKind.NODE)

    @property
    def collapsible(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.clusters)


def _call_keys(g: Graph) -> dict[int, str]:
    seen: dict[str, int] = {}
    keys: dict[int, str] = {}
    for c in g.calls:
        n = seen.get(c.qualname, 0) + 1
        seen[c.qualname] = n
        base = c.qualname or g.model
        keys[c.id] = base if n == 1 else f"{base}#{n}"
    return keys


def _node_key(n: Node) -> str:
    if n.kind is NodeKind.MODULE:
        return f"{n.name}@{n.id}"
    return f"{n.name}#{n.id}"


def fold_runs(g: Graph) -> dict[int, tuple[int, ...]]:
    """Per first member: the runs of consecutive identical sibling calls (length ≥ 2)
    that feed one another, in call order."""
    owner = {n.id: n.scope for n in g.nodes}  # node -> every call that holds it
    by_parent: dict[int | None, list[Call]] = {}
    for c in sorted(g.calls, key=lambda c: c.order):
        by_parent.setdefault(c.parent, []).append(c)
    feeds: set[tuple[int, int]] = set()
    for e in g.edges:
        for a in owner.get(e.src, ()):
            for b in owner.get(e.dst, ()):
                if a != b:
                    feeds.add((a, b))
    runs: dict[int, tuple[int, ...]] = {}
    for siblings in by_parent.values():
        run: list[Call] = []
        for c in siblings:
            if run and c.signature == run[-1].signature and (run[-1].id, c.id) in feeds:
                run.append(c)
                continue
            if len(run) > 1:
                runs[run[0].id] = tuple(r.id for r in run)
            run = [c]
        if len(run) > 1:
            runs[run[0].id] = tuple(r.id for r in run)
    return runs


def build(
    g: Graph,
    depth: int = 1,
    *,
    fold: bool = True,
    expand: frozenset[str] = frozenset(),
    collapse: frozenset[str] = frozenset(),
) -> View:
    """The graph at ``depth``, folded (or not), with ``expand``/``collapse`` applied."""
    keys = _call_keys(g)
    runs = fold_runs(g) if fold else {}
    run_of: dict[int, tuple[int, ...]] = {m: r for r in runs.values() for m in r}
    run_key = {r: f"{keys[r[0]]}…{keys[r[-1]].rsplit('.', 1)[-1]}" for r in runs.values()}

    def is_open(c: Call) -> bool:
        k = keys[c.id]
        if k in collapse:
            return False
        return c.depth < depth or k in expand

    def folded(c: Call) -> tuple[int, ...] | None:
        r = run_of.get(c.id)
        return r if r is not None and run_key[r] not in expand else None

    def rep(scope: tuple[int, ...]) -> tuple[str, ItemKind, object] | None:
        """The box that swallows a node with this scope, or None (the node is drawn)."""
        for cid in scope:
            c = g.calls[cid]
            r = folded(c)
            if r is not None:
                return run_key[r], ItemKind.FOLD, r
            if not is_open(c):
                return keys[cid], ItemKind.BOX, cid
        return None

    def inner(chain: tuple[int, ...]) -> str | None:
        """The innermost open call of ``chain`` that is drawn as a frame (not the model)."""
        framed = [cid for cid in chain if g.calls[cid].depth > 0]
        return keys[framed[-1]] if framed else None

    items: dict[str, Item] = {}
    where: dict[int, str] = {}
    frames: dict[str, tuple[int, ...]] = {}  # cluster key -> its chain
    for n in g.nodes:
        found = rep(n.scope)
        if found is None:
            key = _node_key(n)
            chain = n.scope
            if key not in items:
                items[key] = Item(
                    key,
                    ItemKind.NODE,
                    n.name,
                    n.label,
                    n.kind,
                    (),
                    n.out_shapes,
                    n.own_params,
                    n.macs,
                    modules=(n.name,) if n.kind is NodeKind.MODULE else (),
                    parent=inner(chain),
                )
        else:
            key, kind, what = found
            if isinstance(what, int):
                c = g.calls[what]
                chain = _scope(g, c)
                if key not in items:
                    items[key] = Item(
                        key,
                        kind,
                        key,
                        c.class_name,
                        None,
                        c.in_shapes,
                        c.out_shapes,
                        c.params,
                        c.macs,
                        modules=(c.qualname,),
                        parent=inner(chain),
                    )
            else:
                assert isinstance(what, tuple)
                members = [g.calls[m] for m in what]
                first, last = members[0], members[-1]
                chain = _scope(g, first)
                if key not in items:
                    items[key] = Item(
                        key,
                        kind,
                        f"{keys[first.id]} … {keys[last.id]}",
                        first.class_name,
                        None,
                        first.in_shapes,
                        last.out_shapes,
                        sum(m.params for m in members),
                        sum(m.macs for m in members),
                        repeat=len(members),
                        modules=tuple(m.qualname for m in members),
                        parent=inner(chain),
                    )
        where[n.id] = key
        for k in range(len(chain)):
            cid = chain[k]
            if g.calls[cid].depth > 0:
                frames.setdefault(keys[cid], chain[: k + 1])
    clusters = tuple(
        Cluster(k, k, g.calls[chain[-1]].class_name, inner(chain[:-1]))
        for k, chain in frames.items()
    )
    edges: dict[tuple[str, str], ViewEdge] = {}
    for e in g.edges:
        a, b = where[e.src], where[e.dst]
        if a != b and (a, b) not in edges:
            edges[(a, b)] = ViewEdge(a, b, e.shape, e.dtype)
    return View(g, depth, fold, tuple(items.values()), tuple(edges.values()), clusters)


def _scope(g: Graph, c: Call) -> tuple[int, ...]:
    """The calls that hold call ``c``, outermost first."""
    out: list[int] = []
    p = c.parent
    while p is not None:
        out.append(p)
        p = g.calls[p].parent
    return tuple(reversed(out))

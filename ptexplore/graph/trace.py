"""Trace a model's forward on meta tensors into a :class:`~ptexplore.graph.model.Graph`.

How (said on the page): **module hooks and a ``TorchFunctionMode``** on one forward pass
with meta tensors, the way torchview follows tensors. Every module call is seen by its
forward pre-hook and hook (a leaf module — one without children — becomes one node; a
module with children becomes a :class:`Call` that holds the nodes its forward makes). The
mode sees every torch function called *between* module calls (inside a block's own
``forward``: the residual ``add``, ``cat``, ``flatten``, ``reshape``, ``matmul``,
``softmax`` …) and records it as an op node. An edge is a tensor: the node that returned
it (followed by object identity, so an in-place op moves it on) and each node that took it.
Ops inside a leaf module (``nn.Linear`` → ``F.linear``) belong to that module's node; ops
whose tensors are only parameters (ViT's ``class_token.expand``) feed nothing traced and
are left out. ``torch.fx`` is not used: it fails on data-dependent Python control flow
that a meta run goes through (and on many timm models), where this records what ran.

MACs come from the same counter as the summary (``FlopCounterMode``, FLOPs halved),
counted between each node's start and end. Data-dependent control flow that a meta tensor
cannot answer (``if x.sum() > 0``) stops the forward: the graph is the part that ran, and
:attr:`Graph.stopped` names the op in one sentence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode

from ptexplore import compat
from ptexplore.graph.model import Call, Edge, Graph, Node, NodeKind, Shape
from ptexplore.i18n import N_, _
from ptexplore.text import code_span

#: (English, marked: the page translates it where it shows it)
METHOD = N_(
    "Traced with module hooks and a TorchFunctionMode on one forward pass with meta "
    "tensors (no torch.fx: what ran is what is drawn)."
)


def _shapes(value: Any) -> tuple[Shape, ...]:
    return tuple(tuple(t.shape) for t in _tensors(value))


_PLAIN = (int, float, bool, str, bytes, type(None), torch.dtype, torch.device, torch.Size)


def _tensors(value: Any) -> list[torch.Tensor]:
    """The tensors in a call's arguments or result, in order: tuples, lists and dicts are
    walked here (every call goes through this: it must be cheap), anything else through
    torch's pytree (dataclass-like outputs registered with it)."""
    out: list[torch.Tensor] = []
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (tuple, list)):
            todo.extend(reversed(v))
        elif isinstance(v, dict):
            todo.extend(reversed(list(v.values())))
        elif not isinstance(v, _PLAIN):
            leaves, _x = compat.tree_flatten(v)
            out.extend(t for t in leaves if isinstance(t, torch.Tensor))
    return out


def _op_name(func: Any) -> tuple[str, str]:
    """(name, label): ``add`` and ``Tensor.__add__``; ``cat`` and ``torch.cat``."""
    raw = getattr(func, "__name__", None) or str(func)
    name = raw.strip("_") if raw.startswith("__") else raw
    if name.startswith("i") and raw.startswith("__i") and raw not in ("__index__",):
        name = name[1:] + "_"  # __iadd__ -> add_
    qual = getattr(func, "__qualname__", "") or ""
    module = getattr(func, "__module__", "") or ""
    if (
        qual.startswith(("Tensor.", "_TensorBase.", "TensorBase."))
        or getattr(torch.Tensor, raw, None) is func
    ):
        return name, f"Tensor.{raw}"
    if module.startswith("torch.nn.functional") or module == "torch._C._nn":
        return name, f"F.{raw}"
    return name, f"torch.{raw}"


@dataclass
class _Frame:
    module: nn.Module
    qualname: str
    leaf: bool
    call: int | None  # a Call id (module with children)
    flops: int
    inputs: list[torch.Tensor]
    order: int


@dataclass
class _Tracer:
    names: dict[int, str]
    counter: FlopCounterMode
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    stack: list[_Frame] = field(default_factory=list)
    #: id(tensor) -> (the node that made it, the tensor: kept alive so ids stay unique)
    made: dict[int, tuple[int, torch.Tensor]] = field(default_factory=dict)
    order: int = 0
    #: the last torch function that raised, and what it raised
    failed: tuple[Any, BaseException] | None = None
    inside: int = 0  # module calls nested inside a leaf (not drawn)

    def tick(self) -> int:
        self.order += 1
        return self.order

    def scope(self) -> tuple[int, ...]:
        return tuple(f.call for f in self.stack if f.call is not None)

    def add(
        self,
        kind: NodeKind,
        name: str,
        label: str,
        ins: list[torch.Tensor],
        out: Any,
        *,
        params: int = 0,
        macs: int = 0,
    ) -> int:
        nid = len(self.nodes)
        self.nodes.append(Node(nid, kind, name, label, self.scope(), _shapes(out), params, macs))
        seen: set[tuple[int, int]] = set()
        for t in ins:
            found = self.made.get(id(t))
            if found is not None and found[1] is t and (found[0], id(t)) not in seen:
                seen.add((found[0], id(t)))
                self.edges.append(Edge(found[0], nid, tuple(t.shape), str(t.dtype)))
        for t in _tensors(out):
            self.made[id(t)] = (nid, t)
        return nid

    def produced(self, ts: list[torch.Tensor]) -> bool:
        return any((f := self.made.get(id(t))) is not None and f[1] is t for t in ts)

    # ------------------------------------------------------------------ module hooks

    def pre(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        if self.inside or (self.stack and self.stack[-1].leaf):
            self.inside += 1
            return
        leaf = not compat.own_modules(module)
        ins = _tensors((args, kwargs))
        call = None
        order = self.tick()
        if not leaf:
            call = len(self.calls)
            parent = self.stack[-1].call if self.stack else None
            self.calls.append(
                {
                    "module": module,
                    "qualname": self.names.get(id(module), ""),
                    "parent": parent,
                    "depth": len(self.scope()),
                    "in": _shapes(ins),
                    "out": (),
                    "macs": 0,
                    "order": order,
                }
            )
        qual = self.names.get(id(module), "")
        self.stack.append(
            _Frame(module, qual, leaf, call, self.counter.get_total_flops(), ins, order)
        )

    def post(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if self.inside:
            self.inside -= 1
            return
        frame = self.stack.pop()
        spent = (self.counter.get_total_flops() - frame.flops) // 2
        if frame.leaf:
            own = sum(p.numel() for p in compat.own_parameters(module).values() if p is not None)
            self.add(
                NodeKind.MODULE,
                frame.qualname,
                type(module).__name__,
                frame.inputs,
                output,
                params=own,
                macs=spent,
            )
        else:
            assert frame.call is not None
            self.calls[frame.call]["out"] = _shapes(output)
            self.calls[frame.call]["macs"] = spent

    # ------------------------------------------------------------------ functional ops

    def op(self, func: Any, args: Any, kwargs: Any, out: Any, flops: int) -> None:
        if not self.stack or self.inside or self.stack[-1].leaf:
            return
        if not _tensors(out):
            return  # a query (size, dim, a bool): no tensor flows on
        ins = _tensors((args, kwargs))
        if not self.produced(ins):
            return  # only parameters or constants in: nothing traced feeds it
        self.tick()
        name, label = _op_name(func)
        self.add(NodeKind.OP, name, label, ins, out, macs=flops // 2)


class _Ops(TorchFunctionMode):
    def __init__(self, tracer: _Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        before = self.tracer.counter.get_total_flops()
        try:
            out = func(*args, **kwargs)
        except BaseException as err:  # named if it is what stops the forward
            self.tracer.failed = (func, err)
            raise
        self.tracer.op(func, args, kwargs, out, self.tracer.counter.get_total_flops() - before)
        return out


class _ParamFacts:
    """Each module's parameter count and shapes (its children's included), computed once
    per module from its own and its children's: a deep model's calls ask for every one.
    A model that shares a parameter or a module between two places (tied weights) is asked
    ``parameters()`` itself, which counts a shared one once."""

    def __init__(self, model: nn.Module) -> None:
        self._seen: dict[int, tuple[int, tuple[Shape, ...]]] = {}
        every = list(model.named_parameters(remove_duplicate=False))
        mods = list(model.named_modules(remove_duplicate=False))
        self._shared = len({id(p) for _x, p in every}) < len(every) or len(
            {id(m) for _x, m in mods}
        ) < len(mods)

    def _of(self, m: nn.Module) -> tuple[int, tuple[Shape, ...]]:
        found = self._seen.get(id(m))
        if found is None and self._shared:
            ps = list(m.parameters())
            found = self._seen[id(m)] = (
                sum(p.numel() for p in ps),
                tuple(tuple(p.shape) for p in ps),
            )
        if found is None:
            own = [p for p in compat.own_parameters(m).values() if p is not None]
            n = sum(p.numel() for p in own)
            shapes = [tuple(p.shape) for p in own]
            for child in compat.own_modules(m).values():
                if child is not None:
                    cn, cs = self._of(child)
                    n, shapes = n + cn, shapes + list(cs)
            found = self._seen[id(m)] = (n, tuple(shapes))
        return found

    def count(self, m: nn.Module) -> int:
        return self._of(m)[0]

    def shapes(self, m: nn.Module) -> tuple[Shape, ...]:
        return self._of(m)[1]


def trace_graph(model: nn.Module, inputs: tuple[Any, ...], *, name: str = "") -> Graph:
    """The data-flow graph of ``model(*inputs)``, ``inputs`` meta tensors.

    The model runs through ``torch.func.functional_call`` with meta stand-ins for its
    parameters and buffers (its own tensors untouched), in eval mode; its modes are put
    back and every hook removed afterwards, however the forward ends.
    """
    t0 = time.perf_counter()
    counter = FlopCounterMode(display=False)
    tracer = _Tracer({id(m): q for q, m in model.named_modules()}, counter)
    shape = tuple(inputs[0].shape) if inputs and isinstance(inputs[0], torch.Tensor) else ()
    tracer.add(NodeKind.INPUT, "input", "input", [], inputs)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    stand_ins = {
        n: torch.empty_like(t, device="meta", requires_grad=False)
        for n, t in [*model.named_parameters(), *model.named_buffers()]
    }
    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(tracer.pre, with_kwargs=True))
        handles.append(m.register_forward_hook(tracer.post, with_kwargs=True))
    stopped: str | None = None
    out: Any = None
    try:
        with torch.no_grad(), counter, _Ops(tracer):
            out = torch.func.functional_call(model, stand_ins, inputs, strict=False)
    except Exception as err:  # a forward that a meta run cannot finish: keep what ran
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        where = tracer.stack[-1].qualname if tracer.stack else ""
        said = code_span(msg, limit=200)
        failed = tracer.failed
        if failed is not None and failed[1] in (err, err.__cause__, err.__context__):
            op = code_span(_op_name(failed[0])[1])
            stopped = (
                _(
                    "The trace stopped at {op} inside {module}: {said} — what ran before it "
                    "is drawn."
                )
                if where
                else _("The trace stopped at {op}: {said} — what ran before it is drawn.")
            ).format(op=op, module=code_span(where), said=said)
        else:  # the model's own Python raised, between torch calls
            kind = code_span(type(err).__name__)
            stopped = (
                _(
                    "The forward raised {kind} inside {module}: {said} — what ran before it "
                    "is drawn."
                )
                if where
                else _("The forward raised {kind}: {said} — what ran before it is drawn.")
            ).format(kind=kind, module=code_span(where), said=said)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    if stopped is None:
        tracer.add(NodeKind.OUTPUT, "output", "output", _tensors(out), out)
    facts = _ParamFacts(model)
    calls = tuple(
        Call(
            id=i,
            qualname=c["qualname"],
            class_name=type(c["module"]).__name__,
            parent=c["parent"],
            depth=c["depth"],
            in_shapes=c["in"],
            out_shapes=c["out"],
            params=facts.count(c["module"]),
            macs=c["macs"],
            signature=(
                type(c["module"]).__name__,
                facts.shapes(c["module"]),
                c["in"],
                c["out"],
            ),
            order=c["order"],
        )
        for i, c in enumerate(tracer.calls)
    )
    return Graph(
        model=name or type(model).__name__,
        input_shape=shape,
        nodes=tuple(tracer.nodes),
        edges=tuple(tracer.edges),
        calls=calls,
        method=METHOD,
        stopped=stopped,
        seconds=time.perf_counter() - t0,
        total_params=sum(p.numel() for p in model.parameters()),
        total_macs=counter.get_total_flops() // 2,
    )

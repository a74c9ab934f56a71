"""detach() and no_grad() on a small graph the learner shapes from a fixed menu.

Three leaves ``x``, ``w``, ``b`` (each with its own ``requires_grad``), ``y = w * x + b``,
``z = f(y)``, ``loss = z.sum()`` or ``z.mean()``, and one place to cut: a ``.detach()`` of
a leaf or of ``y``, ``y.detach().requires_grad_()`` (a new leaf), or a step inside
``torch.no_grad()``.

:func:`lab_code` writes the script; :func:`run_graph_lab` runs exactly that text in two
steps (forward and walk, then ``backward()`` and the grads), reads the real graph off the
objects between them (:func:`ptexplore.autograd.graph.extract`, before backward frees the
saved values) and checks every leaf's ``.grad`` against the hand-derived formula,
computed here in plain Python, independently of autograd.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import torch

from ptexplore.autograd.graph import Cut, Graph, extract, to_dot
from ptexplore.errors import Refusal
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.live.script import Script
from ptexplore.memory import same_storage, tensor_facts

#: The leaves' values: y = w * x + b = (1.0, 2.5, -1.0), so relu passes two of three.
X = (1.0, -2.0, 3.0)
W = (0.5, -1.0, 2.0)
B = (0.5, 0.5, -7.0)
LEAVES = ("x", "w", "b")
#: How close autograd's .grad must be to the formula (float32 arithmetic).
TOLERANCE = 1e-6


class Fn(StrEnum):
    RELU = "relu"
    SIGMOID = "sigmoid"
    SQUARE = "square"

    def call(self, arg: str) -> str:
        return f"torch.{self.value}({arg})"

    @property
    def derivative(self) -> str:
        """The derivative in words (English, marked: translated where it is shown)."""
        return {
            Fn.RELU: N_("relu'(y) = 1 where y > 0, else 0"),
            Fn.SIGMOID: "sigmoid'(y) = σ(y)·(1 − σ(y))",
            Fn.SQUARE: "square'(y) = 2·y",
        }[self]

    def slope(self, y: float) -> float:
        if self is Fn.RELU:
            return 1.0 if y > 0 else 0.0
        if self is Fn.SIGMOID:
            s = 1.0 / (1.0 + math.exp(-y))
            return s * (1.0 - s)
        return 2.0 * y


class Reduce(StrEnum):
    SUM = "sum"
    MEAN = "mean"


class CutAt(StrEnum):
    """Where the learner cuts the graph (or not)."""

    NONE = "none"
    DETACH_W = "w.detach()"
    DETACH_X = "x.detach()"
    DETACH_B = "b.detach()"
    DETACH_Y = "y.detach()"
    NEW_LEAF = "y.detach().requires_grad_()"
    NO_GRAD_Y = "no_grad: y"
    NO_GRAD_Z = "no_grad: z"

    @property
    def label(self) -> str:
        """What the picker shows (English, marked: translated where it is shown)."""
        return {
            CutAt.NONE: N_("nowhere (the full graph)"),
            CutAt.DETACH_W: N_("w.detach() in y = w·x + b"),
            CutAt.DETACH_X: N_("x.detach() in y = w·x + b"),
            CutAt.DETACH_B: N_("b.detach() in y = w·x + b"),
            CutAt.DETACH_Y: N_("y.detach() before f"),
            CutAt.NEW_LEAF: N_("y.detach().requires_grad_() before f (a new leaf)"),
            CutAt.NO_GRAD_Y: "with torch.no_grad(): y = w·x + b",
            CutAt.NO_GRAD_Z: "with torch.no_grad(): z = f(y)",
        }[self]

    @property
    def detached_leaf(self) -> str | None:
        """The leaf detached inside ``y = w * x + b``, if any."""
        return {CutAt.DETACH_W: "w", CutAt.DETACH_X: "x", CutAt.DETACH_B: "b"}.get(self)

    @property
    def blocks_leaves(self) -> bool:
        """True when no gradient can reach any of x, w, b."""
        return self in (CutAt.DETACH_Y, CutAt.NEW_LEAF, CutAt.NO_GRAD_Y, CutAt.NO_GRAD_Z)


@dataclass(frozen=True, slots=True)
class GraphConfig:
    x_grad: bool = False
    w_grad: bool = True
    b_grad: bool = True
    fn: Fn = Fn.RELU
    reduce: Reduce = Reduce.SUM
    cut: CutAt = CutAt.NONE

    def requires(self, leaf: str) -> bool:
        return {"x": self.x_grad, "w": self.w_grad, "b": self.b_grad}[leaf]


@dataclass(frozen=True, slots=True)
class LeafGrad:
    """One leaf's ``.grad`` after ``backward()``, beside the formula's value."""

    name: str
    requires_grad: bool
    grad: tuple[float, ...] | None
    formula: str
    expected: tuple[float, ...] | None

    @property
    def matches(self) -> bool:
        if self.grad is None or self.expected is None:
            return self.grad is None and self.expected is None
        return all(
            abs(g - e) <= TOLERANCE * max(1.0, abs(e))
            for g, e in zip(self.grad, self.expected, strict=True)
        )


@dataclass(frozen=True, slots=True)
class TensorRow:
    """What torch says about one named tensor of the script."""

    name: str
    values: tuple[float, ...]
    requires_grad: bool
    is_leaf: bool
    grad_fn: str
    version: int
    #: the other named tensors that share its storage (memory.same_storage)
    shares_storage_with: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GraphResult:
    config: GraphConfig
    graph: Graph
    dot: str
    tensors: tuple[TensorRow, ...]
    leaves: tuple[LeafGrad, ...]
    #: torch's refusal when loss has no grad_fn (everything was cut)
    refusal: Refusal | None
    snippet: Snippet

    def leaf(self, name: str) -> LeafGrad:
        return next(g for g in self.leaves if g.name == name)


# ------------------------------------------------------------------------- the script


def _tensor(values: tuple[float, ...], requires_grad: bool) -> str:
    return f"torch.tensor({list(values)}, requires_grad={requires_grad})"


def leaf_names(config: GraphConfig) -> tuple[str, ...]:
    """The leaves whose ``.grad`` the script prints (the new leaf too, when there is one)."""
    return (*LEAVES, "y_new") if config.cut is CutAt.NEW_LEAF else LEAVES


def forward_code(config: GraphConfig) -> str:
    """Imports, leaves, the forward pass and the graph walk (printed)."""
    c = config
    lines = [
        "import torch",
        "",
        f"x = {_tensor(X, c.x_grad)}",
        f"w = {_tensor(W, c.w_grad)}",
        f"b = {_tensor(B, c.b_grad)}",
        "",
    ]
    terms = {"w": "w", "x": "x", "b": "b"}
    leaf = c.cut.detached_leaf
    if leaf is not None:
        lines.append(f"{leaf}_d = {leaf}.detach()  # same memory as {leaf}; no grad_fn, no grad")
        terms[leaf] = f"{leaf}_d"
    y_expr = f"{terms['w']} * {terms['x']} + {terms['b']}"
    if c.cut is CutAt.NO_GRAD_Y:
        lines += [
            "with torch.no_grad():  # computed, but autograd records nothing",
            f"    y = {y_expr}",
        ]
    else:
        lines.append(f"y = {y_expr}")
    f_arg = "y"
    if c.cut is CutAt.DETACH_Y:
        lines.append("y_d = y.detach()  # same memory as y; the graph above is cut off")
        f_arg = "y_d"
    elif c.cut is CutAt.NEW_LEAF:
        lines.append("y_new = y.detach().requires_grad_()  # a NEW leaf: same memory as y")
        f_arg = "y_new"
    if c.cut is CutAt.NO_GRAD_Z:
        lines += ["with torch.no_grad():", f"    z = {c.fn.call(f_arg)}"]
    else:
        lines.append(f"z = {c.fn.call(f_arg)}")
    lines.append(f"loss = z.{c.reduce.value}()")
    names = ", ".join(f'"{n}": {n}' for n in leaf_names(c))
    lines += [
        "",
        f"leaves = {{{names}}}",
        "",
        "",
        "def show(fn, depth=0):",
        '    """Print the graph backward() walks: grad_fn, its next_functions, ..."""',
        '    pad = "  " * depth',
        "    if fn is None:  # an input that needs no gradient",
        '        print(pad + "None")',
        "        return",
        "    name = type(fn).__name__",
        '    if name == "AccumulateGrad":  # writes a leaf\'s .grad',
        '        name += " -> " + next(k for k, t in leaves.items() if t is fn.variable)',
        '    saved = [a.removeprefix("_saved_") for a in dir(fn) if a.startswith("_saved_")]',
        '    print(pad + name + ("  saved: " + ", ".join(saved) if saved else ""))',
        "    for next_fn, _ in fn.next_functions:",
        "        show(next_fn, depth + 1)",
        "",
        "",
        'print("loss =", loss)',
        'print("loss.grad_fn graph:")',
        "show(loss.grad_fn)",
    ]
    return "\n".join(lines) + "\n"


BACKWARD_CODE = """\
try:
    loss.backward()
except RuntimeError as err:  # nothing in loss's history requires grad
    error = err
    print(f"{type(err).__name__}: {err}")
for name, t in leaves.items():
    print(f"{name}.grad =", t.grad)
"""


def lab_code(config: GraphConfig) -> str:
    """The whole script, as the code panel shows it."""
    return forward_code(config) + "\n" + BACKWARD_CODE


# ------------------------------------------------------------------------ the formula


def y_values(config: GraphConfig) -> tuple[float, ...]:
    del config  # a cut changes what autograd records, never the values
    return tuple(w * x + b for x, w, b in zip(X, W, B, strict=True))


def _upstream(config: GraphConfig) -> tuple[float, ...]:
    """d loss / d y, element by element: f'(y) times 1 (sum) or 1/n (mean)."""
    scale = 1.0 if config.reduce is Reduce.SUM else 1.0 / len(X)
    return tuple(config.fn.slope(y) * scale for y in y_values(config))


def _formula_text(config: GraphConfig, leaf: str) -> str:
    factor = {"x": " · w", "w": " · x", "b": "", "y_new": ""}[leaf]
    mean = f" / {len(X)}" if config.reduce is Reduce.MEAN else ""
    return f"f'(y){factor}{mean}"


def expected_grad(config: GraphConfig, leaf: str) -> tuple[float, ...] | None:
    """The hand-derived ``.grad`` of ``leaf`` (None where no gradient can reach it)."""
    up = _upstream(config)
    if leaf == "y_new":
        return up if config.cut is CutAt.NEW_LEAF else None
    if not config.requires(leaf) or config.cut.blocks_leaves or config.cut.detached_leaf == leaf:
        return None
    if not any(config.requires(n) and config.cut.detached_leaf != n for n in LEAVES):
        return None
    other = {"x": W, "w": X, "b": tuple(1.0 for _x in X)}[leaf]
    return tuple(u * o for u, o in zip(up, other, strict=True))


# ------------------------------------------------------------------------------- run


def _cuts(config: GraphConfig) -> tuple[Cut, ...]:
    leaf = config.cut.detached_leaf
    if leaf is not None:
        return (Cut(leaf, f"{leaf}_d", "✂ detach()"),)
    if config.cut is CutAt.DETACH_Y:
        return (Cut("y", "y_d", "✂ detach()"),)
    if config.cut is CutAt.NEW_LEAF:
        return (Cut("y", "y_new", _("✂ new leaf")),)
    # nothing was recorded: draw the result above its inputs, joined by a red line
    if config.cut is CutAt.NO_GRAD_Y:
        return tuple(Cut("y", n, "no_grad()", constrain=True) for n in LEAVES)
    if config.cut is CutAt.NO_GRAD_Z:
        return (Cut("z", "y", "no_grad()", constrain=True),)
    return ()


def _named(script: Script, config: GraphConfig) -> dict[str, torch.Tensor]:
    """The script's tensors in drawing order: loss at the top, the leaves at the bottom."""
    order = ["loss", "z", "y_new", "y_d", "y", "w_d", "x_d", "b_d", *LEAVES]
    del config
    return {n: script[n] for n in order if isinstance(script.namespace.get(n), torch.Tensor)}


def _grad_fn_name(t: torch.Tensor) -> str:
    return "None" if t.grad_fn is None else type(t.grad_fn).__name__


def _rows(named: dict[str, torch.Tensor]) -> tuple[TensorRow, ...]:
    rows = []
    for name, t in named.items():
        facts = tensor_facts(t)
        rows.append(
            TensorRow(
                name=name,
                values=tuple(float(v) for v in facts.values),
                requires_grad=bool(t.requires_grad),
                is_leaf=bool(t.is_leaf),
                grad_fn=_grad_fn_name(t),
                version=facts.version,
                shares_storage_with=tuple(
                    other for other, u in named.items() if other != name and same_storage(t, u)
                ),
            )
        )
    return tuple(rows)


def run_graph_lab(config: GraphConfig) -> GraphResult:
    """Run the script for ``config``; the graph, each leaf's ``.grad`` and the formula."""
    script = Script()
    script.run(forward_code(config))
    named = _named(script, config)
    row = (*LEAVES, "w_d", "x_d", "b_d")  # the leaves side by side, with their detached copies
    graph = extract(named, _cuts(config), same_rank=row)
    rows = _rows(named)
    script.run(BACKWARD_CODE)
    refusal = None
    err = script.namespace.get("error")
    if isinstance(err, RuntimeError):
        refusal = Refusal(
            type(err).__name__,
            str(err),
            _(
                "loss has no grad_fn: every path from loss back to a tensor that requires grad "
                "was cut (or no leaf requires grad), so backward() has nothing to walk."
            ),
            _(
                "Move the detach() / no_grad() off the path you want gradients for, or start "
                "a new graph on purpose with y.detach().requires_grad_()."
            ),
        )
    leaves: list[LeafGrad] = []
    for name in leaf_names(config):
        t: torch.Tensor = script[name]
        grad = None if t.grad is None else tuple(float(v) for v in t.grad.tolist())
        leaves.append(
            LeafGrad(
                name=name,
                requires_grad=bool(t.requires_grad),
                grad=grad,
                formula=_formula_text(config, name),
                expected=expected_grad(config, name),
            )
        )
    return GraphResult(
        config=config,
        graph=graph,
        dot=to_dot(graph),
        tensors=rows,
        leaves=tuple(leaves),
        refusal=refusal,
        snippet=script.snippet(),
    )

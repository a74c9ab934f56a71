"""Four truths about detach(), .data, no_grad() and requires_grad_(), each shown live.

Every truth is a short script (:func:`truth_steps`) run step by step
(:class:`ptexplore.live.script.Script`); the page's facts are read off its objects
between steps with the one memory vocabulary (``tensor_facts``: data_ptr, ``_version``;
``same_storage``), and each claim is a :class:`Check` measured on them, never assumed:

* **shared memory, shared version** — ``d = s.detach()`` is a new tensor object over the
  same storage with the same version counter; an in-place write through ``d`` bumps it and
  ``backward()`` then raises torch's "modified by an inplace operation" error;
* **a new leaf** — ``s.detach().requires_grad_()`` is a new leaf that gets its own
  ``.grad`` in a new computation, while nothing flows back into the original graph;
* **.data vs .detach()** — the same write through ``.data`` is hidden from autograd: no
  error, a silently wrong gradient (compared with the correct one);
* **no_grad() vs detach() vs requires_grad_(False)** — what each produces.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import torch

from ptexplore.errors import Refusal
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.live.script import Script
from ptexplore.memory import same_storage, tensor_facts

#: The leaf every truth starts from.
A = (1.0, 2.0, 3.0)
TOLERANCE = 1e-6


class Truth(StrEnum):
    """The truths; a value is the picker's option (English, marked: shown translated)."""

    VERSION = N_("shared memory, shared version counter")
    NEW_LEAF = N_("detach().requires_grad_() is a new leaf")
    DATA = N_(".data vs .detach()")
    MODES = N_("no_grad() vs detach() vs requires_grad_(False)")


class SavesOutput(StrEnum):
    """Functions whose backward needs their own output (so writing into it breaks it)."""

    SIGMOID = "sigmoid"
    EXP = "exp"
    TANH = "tanh"

    def derivative(self, out: float) -> float:
        """d out / d input, written with the output (what the backward function saved)."""
        if self is SavesOutput.SIGMOID:
            return out * (1.0 - out)
        if self is SavesOutput.EXP:
            return out
        return 1.0 - out * out

    def forward(self, v: float) -> float:
        if self is SavesOutput.SIGMOID:
            return 1.0 / (1.0 + math.exp(-v))
        if self is SavesOutput.EXP:
            return math.exp(v)
        return math.tanh(v)

    @property
    def formula(self) -> str:
        return {
            SavesOutput.SIGMOID: "s · (1 − s)",
            SavesOutput.EXP: "s",
            SavesOutput.TANH: "1 − s²",
        }[self]


class Write(StrEnum):
    """The in-place write made through the detached (or .data) tensor."""

    ZERO = "zero_()"
    DOUBLE = "mul_(2)"
    ADD_ONE = "add_(1)"

    def apply(self, v: float) -> float:
        return {Write.ZERO: 0.0, Write.DOUBLE: 2.0 * v, Write.ADD_ONE: v + 1.0}[self]


@dataclass(frozen=True, slots=True)
class TruthConfig:
    truth: Truth = Truth.VERSION
    fn: SavesOutput = SavesOutput.SIGMOID
    write: Write = Write.ZERO


@dataclass(frozen=True, slots=True)
class Check:
    """One claim, measured: ``holds`` is what the live objects say."""

    key: str
    claim: str
    holds: bool
    detail: str


@dataclass(frozen=True, slots=True)
class FactRow:
    """One tensor at one moment, as torch reports it."""

    moment: str  # in the rerun's language
    name: str
    made_by: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str
    version: int
    #: (same storage as the reference tensor, same data_ptr): from ptexplore.memory
    same_storage_as: str
    data_ptr: int


@dataclass(frozen=True, slots=True)
class TruthResult:
    config: TruthConfig
    lesson: str
    checks: tuple[Check, ...]
    facts: tuple[FactRow, ...]
    #: the gradients the truth is about: (name, values or None); the names are English,
    #: marked (looked up by :meth:`grad`, translated by the table)
    grads: tuple[tuple[str, tuple[float, ...] | None], ...]
    refusal: Refusal | None
    #: the code torch refused (for the error box)
    refused_call: str
    snippet: Snippet

    def check(self, key: str) -> Check:
        return next(c for c in self.checks if c.key == key)

    def grad(self, name: str) -> tuple[float, ...] | None:
        return next(g for n, g in self.grads if n == name)


def _a() -> str:
    return f"a = torch.tensor({list(A)}, requires_grad=True)\n"


def _values(t: torch.Tensor | None) -> tuple[float, ...] | None:
    return None if t is None else tuple(float(v) for v in t.detach().reshape(-1).tolist())


def _close(got: tuple[float, ...] | None, want: tuple[float, ...]) -> bool:
    return got is not None and all(
        abs(g - w) <= TOLERANCE * max(1.0, abs(w)) for g, w in zip(got, want, strict=True)
    )


def _fmt(values: tuple[float, ...] | None) -> str:
    return "None" if values is None else "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def _row(
    moment: str, name: str, made_by: str, t: torch.Tensor, ref: tuple[str, torch.Tensor] | None
) -> FactRow:
    facts = tensor_facts(t)
    shares = "—"
    if ref is not None and ref[1] is not t:
        ref_name, other = ref
        if same_storage(t, other):
            same_ptr = facts.data_ptr == tensor_facts(other).data_ptr
            if same_ptr:
                shares = _("yes: {ref}'s storage, same data_ptr").format(ref=ref_name)
            else:
                shares = _("yes: {ref}'s storage").format(ref=ref_name)
        else:
            shares = _("no (own storage, not {ref}'s)").format(ref=ref_name)
    return FactRow(
        moment=moment,
        name=name,
        made_by=made_by,
        requires_grad=bool(t.requires_grad),
        is_leaf=bool(t.is_leaf),
        grad_fn="None" if t.grad_fn is None else type(t.grad_fn).__name__,
        version=facts.version,
        same_storage_as=shares,
        data_ptr=facts.data_ptr,
    )


_BACKWARD_TRY = """\
try:
    s.sum().backward()
except RuntimeError as err:  # torch refuses: {why}
    error = err
    print(f"{{type(err).__name__}}: {{err}}")
"""


def _refusal(script: Script, lesson: str, fix: str) -> Refusal | None:
    err = script.namespace.get("error")
    if not isinstance(err, RuntimeError):
        return None
    return Refusal(type(err).__name__, str(err), lesson, fix)


# ------------------------------------------------------------------- 1. version counter


def _version(config: TruthConfig) -> TruthResult:
    fn, write = config.fn, config.write
    script = Script()
    script.run(
        "import torch\n\n"
        + _a()
        + f"s = a.{fn.value}()  # {fn.value}'s backward needs its output s: it saves it\n"
        "d = s.detach()  # a new tensor object: no grad_fn, requires_grad=False\n"
        'print("same data_ptr:", d.data_ptr() == s.data_ptr())\n'
        'print("versions before:", s._version, d._version)\n'
    )
    s, d = script["s"], script["d"]
    before = (
        _row(_("before"), "s", f"a.{fn.value}()", s, None),
        _row(_("before"), "d", "s.detach()", d, ("s", s)),
    )
    script.run(
        f"d.{write.value}  # an in-place write through the detached tensor ...\n"
        'print("versions after: ", s._version, d._version)  # ... bumps the shared counter\n'
        'print("s is now", s)\n'
    )
    moment = _("after {call}").format(call=f"d.{write.value}")
    after = (
        _row(moment, "s", f"a.{fn.value}()", s, None),
        _row(moment, "d", "s.detach()", d, ("s", s)),
    )
    script.run(_BACKWARD_TRY.format(why="the saved s was overwritten"))
    refusal = _refusal(
        script,
        _(
            "d shares s's memory *and* its version counter. {fn}'s backward saved s at "
            "version {before}; d.{write} moved the counter to {after}, so autograd knows the "
            "value it saved is gone and refuses to compute a wrong gradient."
        ).format(fn=fn.value, before=before[0].version, write=write.value, after=after[0].version),
        _(
            "Write into a copy: `d = s.detach().clone()` (own memory, own version counter), "
            "or make the write before s is used in the graph."
        ),
    )
    script.run(
        "# the fix: a copy has its own memory, so the saved s is untouched\n"
        f"s = a.{fn.value}()\n"
        f"d = s.detach().clone()\n"
        f"d.{write.value}\n"
        "s.sum().backward()\n"
        f'print("a.grad =", a.grad)  # = {fn.formula}, from the untouched s\n'
    )
    out = tuple(fn.forward(v) for v in A)
    want = tuple(fn.derivative(o) for o in out)
    fixed = _values(script["a"].grad)
    checks = (
        Check(
            "same_ptr",
            _("d is a different object over the same memory"),
            d is not s and same_storage(d, s) and before[0].data_ptr == before[1].data_ptr,
            _(
                "d is s: {same_object}; same storage (memory.same_storage): {same_storage}; "
                "same data_ptr: {same_ptr}"
            ).format(
                same_object=d is s,
                same_storage=same_storage(d, s),
                same_ptr=before[0].data_ptr == before[1].data_ptr,
            ),
        ),
        Check(
            "version_shared",
            _("{call} bumps the version counter s and d share").format(call=f"d.{write.value}"),
            after[0].version == after[1].version == before[0].version + 1,
            f"s._version {before[0].version} → {after[0].version}, d._version "
            f"{before[1].version} → {after[1].version}",
        ),
        Check(
            "backward_raises",
            _("backward() then raises “modified by an inplace operation”"),
            refusal is not None and "modified by an inplace operation" in refusal.message,
            _("torch's own message is shown below"),
        ),
        Check(
            "fix_works",
            _("with .clone() the gradient is {formula} of the untouched s").format(
                formula=fn.formula
            ),
            _close(fixed, want),
            _("a.grad = {got}; formula {want}").format(got=_fmt(fixed), want=_fmt(want)),
        ),
    )
    return TruthResult(
        config,
        _(
            "`d = s.detach()` gives **a new tensor that shares `s`'s memory and its version "
            "counter** (`_version`). `{fn}` saves its output for backward, so an in-place "
            "write through `d` is a write into a value autograd still needs — and autograd "
            "notices, because the counter moved."
        ).format(fn=fn.value),
        checks,
        before + after,
        ((N_("a.grad (after the fix)"), fixed),),
        refusal,
        "s.sum().backward()",
        script.snippet(),
    )


# ----------------------------------------------------------------------- 2. a new leaf


def _new_leaf(config: TruthConfig) -> TruthResult:
    fn = config.fn
    script = Script()
    script.run(
        "import torch\n\n" + _a() + f"s = a.{fn.value}()\n"
        "d = s.detach().requires_grad_()  # detached, then asks for grad: a NEW leaf\n"
        'print("d.is_leaf:", d.is_leaf, "| d.requires_grad:", d.requires_grad, '
        '"| d.grad_fn:", d.grad_fn)\n'
        'print("same data_ptr as s:", d.data_ptr() == s.data_ptr())\n'
    )
    s, d = script["s"], script["d"]
    made = _("made")
    facts = (
        _row(made, "a", "torch.tensor(..., requires_grad=True)", script["a"], None),
        _row(made, "s", f"a.{fn.value}()", s, None),
        _row(made, "d", "s.detach().requires_grad_()", d, ("s", s)),
    )
    script.run(
        "(d * d).sum().backward()  # a new computation that starts at d\n"
        'print("d.grad =", d.grad)  # its own gradient: 2 * d\n'
        'print("a.grad =", a.grad)  # None: nothing flowed back through the detach\n'
    )
    d_grad = _values(d.grad)
    a_after_new = _values(script["a"].grad)
    script.run(
        "s.sum().backward()  # the original graph still works on its own\n"
        f'print("a.grad =", a.grad)  # = {fn.formula}\n'
    )
    out = tuple(fn.forward(v) for v in A)
    a_grad = _values(script["a"].grad)
    checks = (
        Check(
            "new_leaf",
            _("d is a leaf that requires grad, with no grad_fn"),
            bool(d.is_leaf and d.requires_grad and d.grad_fn is None),
            f"d.is_leaf={d.is_leaf}, d.requires_grad={d.requires_grad}, d.grad_fn={d.grad_fn}",
        ),
        Check(
            "d_has_grad",
            _("a detached tensor CAN have a .grad: d gets its own (2·d)"),
            _close(d_grad, tuple(2.0 * o for o in out)),
            f"d.grad = {_fmt(d_grad)}; 2·d = {_fmt(tuple(2.0 * o for o in out))}",
        ),
        Check(
            "nothing_back",
            _("… and nothing flowed back into the original graph: a.grad is None"),
            a_after_new is None,
            _("a.grad after (d * d).sum().backward() = {got}").format(got=_fmt(a_after_new)),
        ),
        Check(
            "original_works",
            _("the original graph still gives a.grad = {formula}").format(formula=fn.formula),
            _close(a_grad, tuple(fn.derivative(o) for o in out)),
            f"a.grad = {_fmt(a_grad)}",
        ),
    )
    return TruthResult(
        config,
        _(
            "The popular claim “a detached tensor can never have a grad” is wrong — **both "
            "halves are true at once**: `s.detach().requires_grad_()` is a brand-new **leaf** "
            "that collects its own `.grad` in any new computation, while no gradient ever "
            "flows from it back into `s` or `a`."
        ),
        checks,
        facts,
        (
            ("d.grad", d_grad),
            (N_("a.grad after d's backward"), a_after_new),
            (N_("a.grad after s's backward"), a_grad),
        ),
        None,
        "",
        script.snippet(),
    )


# ------------------------------------------------------------------ 3. .data vs detach


def _data(config: TruthConfig) -> TruthResult:
    fn, write = config.fn, config.write
    script = Script()
    script.run(
        "import torch\n\n" + _a() + "\n# 1. the correct gradient: nothing written\n"
        f"s = a.{fn.value}()\n"
        "s.sum().backward()\n"
        "correct = a.grad.clone()\n"
        'print("correct a.grad:", correct)\n'
    )
    correct = _values(script["correct"])
    script.run(
        "# 2. the same write through .data: autograd is not told\n"
        "a.grad = None\n"
        f"s = a.{fn.value}()\n"
        f"s.data.{write.value}\n"
        'print("s._version after the write:", s._version)  # unchanged: the write is hidden\n'
        "s.sum().backward()  # no error ...\n"
        'print(".data   a.grad:", a.grad)  # ... and a silently wrong gradient\n'
        'print("equal to the correct one:", torch.allclose(a.grad, correct))\n'
    )
    data_version = int(script["s"]._version)
    via_data = _values(script["a"].grad)
    script.run(
        "# 3. the same write through .detach(): autograd notices\n"
        "a.grad = None\n"
        f"s = a.{fn.value}()\n"
        f"s.detach().{write.value}\n"
        'print("s._version after the write:", s._version)\n'
        + _BACKWARD_TRY.format(why="the saved s was overwritten")
    )
    detach_version = int(script["s"]._version)
    refusal = _refusal(
        script,
        _(
            "Through `.detach()` the write bumps the version counter autograd checks, so "
            "backward refuses instead of returning a wrong gradient."
        ),
        _(
            "Never write into tensors the graph saved; if you must change values, write into "
            "a `.clone()`. Use `.detach()`, not `.data`: it fails loudly where `.data` is "
            "silently wrong."
        ),
    )
    out = tuple(fn.forward(v) for v in A)
    written = tuple(write.apply(o) for o in out)
    want_wrong = tuple(fn.derivative(w) for w in written)
    checks = (
        Check(
            "data_hidden",
            _("{call} leaves s._version unchanged (hidden from autograd)").format(
                call=f"s.data.{write.value}"
            ),
            data_version == 0,
            f"s._version = {data_version}",
        ),
        Check(
            "data_wrong",
            _(".data: backward runs and the gradient is silently wrong"),
            via_data is not None and correct is not None and not _close(via_data, correct),
            _(
                ".data a.grad = {got} vs correct {correct} (it is {formula} of the "
                "overwritten s: {wrong})"
            ).format(
                got=_fmt(via_data),
                correct=_fmt(correct),
                formula=fn.formula,
                wrong=_fmt(want_wrong),
            ),
        ),
        Check(
            "detach_raises",
            _("{call} bumps s._version and backward() raises").format(
                call=f"s.detach().{write.value}"
            ),
            detach_version == 1
            and refusal is not None
            and "modified by an inplace operation" in refusal.message,
            _("s._version = {version}; torch's message is shown below").format(
                version=detach_version
            ),
        ),
    )
    return TruthResult(
        config,
        _(
            "`.data` and `.detach()` both give a tensor over the same memory without a graph, "
            "but `.data` also has **its own version counter**: in-place writes through it are "
            "invisible to autograd. Same write, two outcomes: `.data` → **a wrong gradient, "
            "silently**; `.detach()` → **an error**."
        ),
        checks,
        (),
        ((N_("correct a.grad"), correct), (N_("a.grad via .data"), via_data)),
        refusal,
        f"s.detach().{write.value}; s.sum().backward()",
        script.snippet(),
    )


# ---------------------------------------------------- 4. no_grad / detach / requires_grad_


def _modes(config: TruthConfig) -> TruthResult:
    fn = config.fn
    script = Script()
    script.run(
        "import torch\n\n" + _a() + "with torch.no_grad():\n"
        f"    n = a.{fn.value}()  # computed, not recorded: a new tensor, not a view of a\n"
        "    v = a.view(3)  # a view op is still a view: no_grad stops recording, not aliasing\n"
        "d = a.detach()  # the same memory as a, cut from the graph\n"
        f"m = a.{fn.value}()\n"
        "try:\n"
        "    m.requires_grad_(False)  # only leaves may change the flag\n"
        "except RuntimeError as err:\n"
        "    error = err\n"
        '    print(f"{type(err).__name__}: {err}")\n'
        f"p = torch.tensor({list(A)}, requires_grad=True)\n"
        "q = p.requires_grad_(False)  # a leaf: flips the flag in place, returns p itself\n"
        'print("q is p:", q is p)\n'
        'for name, t in {"a": a, "n": n, "v": v, "d": d, "m": m, "p": p}.items():\n'
        "    grad_fn = None if t.grad_fn is None else type(t.grad_fn).__name__\n"
        '    print(f"{name}: requires_grad={t.requires_grad}, grad_fn={grad_fn}, "\n'
        '          f"is_leaf={t.is_leaf}")\n'
        'print("v shares a\'s memory:", v.data_ptr() == a.data_ptr())\n'
        "w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)  # a weight\n"
        "w.grad = torch.ones(3)\n"
        "before = w._version\n"
        "with torch.no_grad():\n"
        "    w -= 0.1 * w.grad  # the SGD step: not recorded, but an in-place write all the same\n"
        'print("w._version:", before, "->", w._version)  # counted: autograd would notice\n'
    )
    ns = script.namespace
    a = ns["a"]
    rows = (
        _row("", "a", "torch.tensor(..., requires_grad=True)", a, None),
        _row("", "n", f"with torch.no_grad(): a.{fn.value}()", ns["n"], ("a", a)),
        _row("", "v", "with torch.no_grad(): a.view(3)", ns["v"], ("a", a)),
        _row("", "d", "a.detach()", ns["d"], ("a", a)),
        _row(
            "",
            "m",
            _("{call}  (requires_grad_(False) refused)").format(call=f"a.{fn.value}()"),
            ns["m"],
            ("a", a),
        ),
        _row("", "p", "torch.tensor(...).requires_grad_(False)", ns["p"], None),
    )
    refusal = _refusal(
        script,
        _(
            "A computed tensor's requires_grad follows from its inputs; only a leaf's flag is "
            "yours to set."
        ),
        _("Use `m.detach()` for a computed tensor you want outside the graph."),
    )
    n, d, p, q, v = ns["n"], ns["d"], ns["p"], ns["q"], ns["v"]
    bumped = int(ns["w"]._version) - int(ns["before"])
    checks = (
        Check(
            "no_grad",
            _("no_grad(): a new result with requires_grad=False, no grad_fn, a leaf"),
            bool(not n.requires_grad and n.grad_fn is None and n.is_leaf)
            and not same_storage(n, a),
            _(
                "n.requires_grad={requires_grad}, n.grad_fn={grad_fn}, is_leaf={is_leaf}, "
                "shares a's storage: {shares}"
            ).format(
                requires_grad=n.requires_grad,
                grad_fn=n.grad_fn,
                is_leaf=n.is_leaf,
                shares=same_storage(n, a),
            ),
        ),
        Check(
            "no_grad_view",
            _("a view op under no_grad() is still a view: the same memory as a, no grad_fn"),
            v.grad_fn is None and same_storage(v, a) and v.data_ptr() == a.data_ptr(),
            _(
                "v shares a's storage: {shares}, v.grad_fn={grad_fn}; "
                "v.requires_grad={requires_grad} (a view reports its base's flag)"
            ).format(shares=same_storage(v, a), grad_fn=v.grad_fn, requires_grad=v.requires_grad),
        ),
        Check(
            "no_grad_write",
            _("an in-place write under no_grad() still bumps _version (unlike one through .data)"),
            bumped == 1,
            _(
                "w._version {before} → {after} after `with torch.no_grad(): w -= 0.1 * w.grad`"
            ).format(before=int(ns["before"]), after=int(ns["w"]._version)),
        ),
        Check(
            "detach",
            _("detach(): the same memory as a, requires_grad=False, no grad_fn"),
            bool(not d.requires_grad and d.grad_fn is None and d.is_leaf) and same_storage(d, a),
            _("d shares a's storage: {shares}").format(shares=same_storage(d, a)),
        ),
        Check(
            "requires_grad_false",
            _("requires_grad_(False) on a leaf changes that leaf itself (returns it)"),
            q is p and not p.requires_grad and p.is_leaf,
            f"q is p: {q is p}; p.requires_grad={p.requires_grad}",
        ),
        Check(
            "non_leaf_refused",
            _("requires_grad_(False) on a computed tensor is refused"),
            refusal is not None and "leaf variables" in refusal.message,
            _("torch's own message is shown below"),
        ),
    )
    return TruthResult(
        config,
        _(
            "Three ways to “stop gradients”, three different things: `torch.no_grad()` stops "
            "**recording** (new results have no `grad_fn`) — nothing else: a view op in it "
            "still aliases its input, and an in-place write in it still bumps `_version` "
            "(which is why `with torch.no_grad(): w -= lr * w.grad` replaced writing through "
            "`w.data`, whose writes autograd cannot see); `.detach()` gives **a graph-free "
            "view of the same memory**; and `requires_grad_(False)` **flips a leaf's own "
            "flag** (and is refused on computed tensors)."
        ),
        checks,
        rows,
        (),
        refusal,
        "m.requires_grad_(False)",
        script.snippet(),
    )


_TRUTHS: dict[Truth, Callable[[TruthConfig], TruthResult]] = {
    Truth.VERSION: _version,
    Truth.NEW_LEAF: _new_leaf,
    Truth.DATA: _data,
    Truth.MODES: _modes,
}


def run_truth(config: TruthConfig) -> TruthResult:
    """Run the script of one truth and measure each of its claims."""
    return _TRUTHS[config.truth](config)


def truth_uses_write(truth: Truth) -> bool:
    return truth in (Truth.VERSION, Truth.DATA)


__all__ = [
    "Check",
    "FactRow",
    "SavesOutput",
    "Truth",
    "TruthConfig",
    "TruthResult",
    "Write",
    "run_truth",
    "truth_uses_write",
]

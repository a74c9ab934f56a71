"""``ptexplore.summary``: a torchinfo-style table whose MACs are right, computed on meta.

>>> import ptexplore
>>> s = ptexplore.summary("resnet18")                  # a catalog name
>>> s = ptexplore.summary("timm:convnext_tiny")        # timm (or just "convnext_small")
>>> s = ptexplore.summary("mypkg.nets:MyNet{\"num_classes\": 10}@1,3,128,128")
>>> s = ptexplore.summary(my_module, input_size=(1, 3, 224, 224))   # any nn.Module
>>> print(s)                 # the table; s.to_markdown(), s.to_csv(), s.to_json()
>>> s.total_params, s.total_macs

Command line: ``python -m ptexplore summary resnet50 [--input 1,3,224,224] [--depth 3]
[--format table|markdown|json|csv]`` (or the ``ptexplore`` script).

How it is computed. Names are built on the ``meta`` device (no weights: vit_h_14's 632 M
parameters cost ~0.3 s and a few MB); an ``nn.Module`` instance is traced through meta
stand-ins for its tensors and left as it was. One forward pass on a meta input runs inside
``torch.utils.flop_counter.FlopCounterMode`` (:func:`ptexplore.models.shapes.trace_module`),
so the matmuls of attention and of functional calls count: totals equal torchvision's
published ``_ops`` (resnet18 1.814 GMACs, vit_h_14 167.295), where torchinfo, which only
sees ``nn.Linear``/``nn.Conv*`` leaves, reports 35-270 times less for attention models.

The table. One row per module down to ``depth`` (the model itself is depth 0). A row whose
sub-modules are shown counts only its *own* parameters and the MACs of its own code (a
``MultiheadAttention``'s ``q @ kᵀ``); a row cut at ``depth`` (or a leaf) counts its whole
subtree. So both columns add up to the totals at any depth, each shared parameter once.
``Trainable`` is ``True``/``False``/``Partial`` over the row's parameters (``--``: none).
A module called twice shows ``×2`` and its last output.

JSON (``to_json()``; stable, pinned by tests/golden/summary_resnet18.json). Version 1::

    {
      "schema": "ptexplore.summary/1",
      "model": str,               # the name given, or the instance's class name
      "class": str,               # type(model).__name__
      "input": {"shape": [int], "dtype": str, "source": str},
      "output": str,              # shape description, e.g. "[1, 1000]"
      "depth": int,
      "totals": {
        "params": int,            # == sum(p.numel() for p in model.parameters())
        "trainable_params": int, "non_trainable_params": int,
        "buffers": int,           # elements in buffers (BatchNorm statistics, …)
        "macs": int, "flops": int,            # flops == 2 * macs
        "params_mb_fp32": float   # params * 4 / 1e6
      },
      "published": null | {       # torchvision's figures for this architecture
        "gmacs": float | null, "params": int | null, "weights": str,
        "at_published_input": bool   # the figure is valid for this input only when true
      },
      "rows": [{
        "name": str,              # qualified name, "" for the model itself
        "class": str, "depth": int,
        "output": str,            # "--" when never called
        "output_shape": [int] | null,   # when the output is one tensor
        "params": int,            # as the table counts them (see above)
        "params_total": int,      # the whole subtree
        "trainable": "True" | "False" | "Partial" | "--",
        "macs": int,              # as the table counts them (see above)
        "macs_total": int,        # the whole subtree, every call
        "calls": int,
        "collapsed": bool,        # its sub-modules are below the depth cut
        "note": str
      }]
    }

Fields are only ever added (with a new ``schema`` version when one changes meaning).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ptexplore import compat
from ptexplore.errors import InputError, ModelError
from ptexplore.limits import SUMMARY_MAX_DEPTH
from ptexplore.models import ShapeReport, build_on_meta, catalog, shapes, user, zoo

__all__ = ["FORMATS", "SCHEMA", "Summary", "SummaryRow", "resolve_name", "summary"]

#: The ``schema`` value of :meth:`Summary.to_json` (see the module docstring).
SCHEMA = "ptexplore.summary/1"
FORMATS = ("table", "markdown", "json", "csv")
BYTES_FP32 = 4


@dataclass(frozen=True, slots=True)
class SummaryRow:
    qualname: str
    name: str
    class_name: str
    depth: int
    output: str
    output_shape: tuple[int, ...] | None
    params: int
    params_total: int
    trainable: str
    macs: int
    macs_total: int
    calls: int
    collapsed: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of one model at one input. ``str()`` is the table."""

    model: str
    class_name: str
    input_shape: tuple[int, ...]
    input_dtype: str
    input_source: str
    output: str
    depth: int
    rows: tuple[SummaryRow, ...]
    total_params: int
    trainable_params: int
    buffers: int
    total_macs: int
    published_gmacs: float | None = None
    published_params: int | None = None
    published_weights: str | None = None
    at_published_input: bool = False
    #: wall time of build + trace (not in the JSON: it varies)
    seconds: float = 0.0

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def params_mb_fp32(self) -> float:
        return self.total_params * BYTES_FP32 / 1e6

    @property
    def gmacs(self) -> float:
        return self.total_macs / 1e9

    def __str__(self) -> str:
        return self.to_table()

    # ------------------------------------------------------------------ formats

    def to_dict(self) -> dict[str, Any]:
        published = None
        if self.published_weights is not None:
            published = {
                "gmacs": self.published_gmacs,
                "params": self.published_params,
                "weights": self.published_weights,
                "at_published_input": self.at_published_input,
            }
        return {
            "schema": SCHEMA,
            "model": self.model,
            "class": self.class_name,
            "input": {
                "shape": list(self.input_shape),
                "dtype": self.input_dtype,
                "source": self.input_source,
            },
            "output": self.output,
            "depth": self.depth,
            "totals": {
                "params": self.total_params,
                "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params,
                "buffers": self.buffers,
                "macs": self.total_macs,
                "flops": 2 * self.total_macs,
                "params_mb_fp32": round(self.params_mb_fp32, 6),
            },
            "published": published,
            "rows": [
                {
                    "name": r.qualname,
                    "class": r.class_name,
                    "depth": r.depth,
                    "output": r.output,
                    "output_shape": None if r.output_shape is None else list(r.output_shape),
                    "params": r.params,
                    "params_total": r.params_total,
                    "trainable": r.trainable,
                    "macs": r.macs,
                    "macs_total": r.macs_total,
                    "calls": r.calls,
                    "collapsed": r.collapsed,
                    "note": r.note,
                }
                for r in self.rows
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            ["name", "class", "depth", "output", "params", "params_total", "trainable",
             "macs", "macs_total", "calls"]
        )  # fmt: skip
        for r in self.rows:
            w.writerow(
                [r.qualname, r.class_name, r.depth, r.output, r.params, r.params_total,
                 r.trainable, r.macs, r.macs_total, r.calls]
            )  # fmt: skip
        return buf.getvalue()

    def _footer(self) -> list[str]:
        lines = [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Total MACs: {self.total_macs:,} ({shapes.human(self.total_macs)}MACs = "
            f"{shapes.human(2 * self.total_macs)}FLOPs)",
        ]
        if self.published_gmacs is not None and self.published_weights is not None:
            if self.at_published_input:
                same = round(self.gmacs, 3) == round(self.published_gmacs, 3)
                verdict = "equal" if same else "DIFFERENT"
                lines.append(
                    f"torchvision publishes {self.published_gmacs:.3f} GMACs "
                    f"({self.published_weights}): {verdict}"
                )
            else:
                lines.append(
                    f"torchvision publishes {self.published_gmacs:.3f} GMACs "
                    f"({self.published_weights}) at another input: not comparable"
                )
        lines += [
            f"Params size (fp32): {self.params_mb_fp32:,.2f} MB",
            f"Buffers: {self.buffers:,} elements",
            f"Input: {list(self.input_shape)} {self.input_dtype}"
            + (f" ({self.input_source})" if self.input_source else "")
            + f" -> output {self.output}",
        ]
        return lines

    def to_table(self) -> str:
        labels = _tree_labels(self.rows)
        head = ("Layer (type)", "Output shape", "Params", "Trainable", "MACs")
        body = [
            (
                lab,
                r.output,
                f"{r.params:,}" if r.params else "--",
                r.trainable,
                f"{r.macs:,}" if r.macs else "--",
            )
            for lab, r in zip(labels, self.rows, strict=True)
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(5)]

        def line(cells: Sequence[str]) -> str:
            left = f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}"
            right = "  ".join(f"{c:>{w}}" for c, w in zip(cells[2:], widths[2:], strict=True))
            return f"{left}  {right}".rstrip()

        rule = "=" * len(line(head))
        out = [rule, line(head), rule, *(line(b) for b in body), rule, *self._footer(), rule]
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        out = [
            f"**{_md(self.model)}** ({_md(self.class_name)}) · input "
            f"`{list(self.input_shape)}` {self.input_dtype}",
            "",
            "| Layer | Type | Output shape | Params | Trainable | MACs |",
            "|---|---|---|---:|:---:|---:|",
        ]
        for r in self.rows:
            calls = f" ×{r.calls}" if r.calls > 1 else ""
            out.append(
                f"| {_md(r.qualname or '(model)')}{calls} | {_md(r.class_name)} | "
                f"{_md(r.output)} | {r.params:,} | {r.trainable} | {r.macs:,} |"
            )
        out += ["", *(f"- {_md(x)}" for x in self._footer())]
        return "\n".join(out) + "\n"

    def render(self, fmt: str) -> str:
        if fmt not in FORMATS:
            raise InputError(
                f"{fmt!r} is not a summary format.", fix=f"Use one of {', '.join(FORMATS)}."
            )
        return {
            "table": self.to_table,
            "markdown": self.to_markdown,
            "json": self.to_json,
            "csv": self.to_csv,
        }[fmt]()


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _tree_labels(rows: Sequence[SummaryRow]) -> list[str]:
    """``├─conv1 (Conv2d)`` lines with ``│`` for the open branches above them (linear time)."""
    # last[i]: no later sibling of row i (a row at its depth before a shallower one)
    last = [True] * len(rows)
    seen: dict[int, bool] = {}
    for i in range(len(rows) - 1, -1, -1):
        d = rows[i].depth
        last[i] = not seen.get(d, False)
        seen = {k: v for k, v in seen.items() if k < d}
        seen[d] = True
    labels: list[str] = []
    open_above: dict[int, bool] = {}  # depth → the current ancestor there has siblings after it
    for i, r in enumerate(rows):
        calls = f" ×{r.calls}" if r.calls > 1 else ""
        open_above[r.depth] = not last[i]
        if r.depth == 0:
            labels.append(f"{r.class_name}{calls}")
            continue
        prefix = "".join("│   " if open_above.get(d) else "    " for d in range(1, r.depth))
        prefix += "└─" if last[i] else "├─"
        labels.append(f"{prefix}{r.name} ({r.class_name}){calls}")
    return labels


# ------------------------------------------------------------------------ building


def _trainable(params: Sequence[nn.Parameter]) -> str:
    if not params:
        return "--"
    flags = {p.requires_grad for p in params}
    return "True" if flags == {True} else "False" if flags == {False} else "Partial"


def _rows(model: nn.Module, report: ShapeReport, depth: int) -> tuple[SummaryRow, ...]:
    by_name = {r.qualname: r for r in report.rows}
    modules = dict(model.named_modules())
    names = list(modules)
    # subtree of each module: itself and every module named under it
    subtree: dict[str, list[str]] = {q: [] for q in names}
    for q in names:
        parts = q.split(".") if q else []
        for k in range(len(parts) + 1):
            anc = ".".join(parts[:k])
            if anc in subtree:
                subtree[anc].append(q)
    seen: set[int] = set()
    rows: list[SummaryRow] = []
    for q in names:
        r = by_name[q]
        if r.depth > depth:
            continue
        m = modules[q]
        has_kids = any(c is not None for c in compat.own_modules(m).values())
        collapsed = has_kids and r.depth == depth
        members = subtree[q] if collapsed or not has_kids else [q]
        params: list[nn.Parameter] = []
        for member in members:
            for p in compat.own_parameters(modules[member]).values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        rows.append(
            SummaryRow(
                qualname=q,
                name=r.name,
                class_name=r.class_name,
                depth=r.depth,
                output="--" if not r.calls else r.output_shape,
                output_shape=r.output_dims,
                params=sum(p.numel() for p in params),
                params_total=sum(p.numel() for p in m.parameters()),
                trainable=_trainable(params),
                macs=sum(by_name[x].self_macs for x in members),
                macs_total=r.macs,
                calls=r.calls,
                collapsed=collapsed,
                note=r.note,
            )
        )
    return tuple(rows)


def _check_depth(depth: int) -> int:
    if not 0 <= depth <= SUMMARY_MAX_DEPTH:
        raise InputError(
            f"depth must be between 0 and {SUMMARY_MAX_DEPTH}, not {depth}.",
            fix="3 shows blocks and their layers (torchinfo's default); 0 only the model.",
        )
    return depth


def _dtype(value: torch.dtype | str | None, default: str) -> torch.dtype:
    name = default if value is None else str(value).removeprefix("torch.")
    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype):
        raise InputError(
            f"{name!r} is not a torch dtype.", fix="Use float32, float16, bfloat16 or int64."
        )
    return dt


def resolve_name(name: str) -> str | user.ModelSpec:
    """A catalog key for ``name``, or the import-path spec it is.

    Catalog keys as the app writes them (``resnet18``, ``example:Model``,
    ``timm:convnext_tiny``) come first; then ``pkg.module:Name…`` import paths; then a
    bare timm architecture name (``convnext_small`` only when torchvision has none).
    """
    text = name.strip()
    if text.startswith(catalog.USER_PREFIX):
        text = text.removeprefix(catalog.USER_PREFIX)
    elif text.startswith((catalog.EXAMPLE_PREFIX, catalog.TIMM_PREFIX)):
        catalog.entry(text)  # raises the lesson when unknown
        return text
    elif text in catalog.torchvision_names():
        return text
    if user.looks_like_spec(text):
        return user.parse_spec(text)
    if zoo.has(text):
        return catalog.TIMM_PREFIX + text
    hint = "" if zoo.available() else " (timm's are listed when timm is installed)"
    raise ModelError(
        f"There is no model called {name!r}{hint}.",
        fix="Give a torchvision name (resnet50), example:Model, timm:<name>, or an import "
        "path pkg.module:Name.",
    )


def _input(
    input_size: Sequence[int] | None, default: tuple[int, ...], dtype: torch.dtype
) -> torch.Tensor:
    shape = default if input_size is None else tuple(int(s) for s in input_size)
    user.check_input(shape, what="input_size")
    return torch.empty(shape, device="meta", dtype=dtype)


def summary(
    model_or_name: nn.Module | str,
    input_size: Sequence[int] | None = None,
    depth: int = 3,
    *,
    num_classes: int | None = None,
    dtype: torch.dtype | str | None = None,
) -> Summary:
    """The torchinfo-style summary of a catalog name, an import path or any ``nn.Module``.

    ``input_size`` is the full input shape, batch first (torchinfo's convention); by default
    the model's own: torchvision's crop size, timm's pretrained config, a spec's ``@…``,
    ``example_input()``, or a guess from the first layer (said so in the table).
    """
    t0 = time.perf_counter()
    _check_depth(depth)
    published: tuple[float | None, int | None, str | None] = (None, None, None)
    default_input: tuple[int, ...]
    if isinstance(model_or_name, nn.Module):
        model = model_or_name
        label = type(model).__name__
        if input_size is not None and dtype is not None:  # example_input() is not needed
            default_input, default_dtype, source = tuple(input_size), str(dtype), "as given"
        else:
            found = user.model_input(model, None, label)
            default_input, default_dtype, source = found.shape, found.dtype, found.source
    elif isinstance(model_or_name, str):
        resolved = resolve_name(model_or_name)
        if isinstance(resolved, str):
            e = catalog.entry(resolved)
            model = catalog.build_meta(resolved, num_classes).model
            label = resolved
            default_input = (1, *e.default_input)
            default_dtype, source = e.input_dtype, e.input_source
            published = (e.published_gmacs, e.published_params, e.published_weights)
        else:
            found_model, model = user.load(resolved)
            label = resolved.path + resolved.kwargs_json
            if num_classes is not None:
                if not found_model.takes_num_classes:
                    raise InputError(
                        f"{resolved.path} takes no num_classes argument.",
                        fix="Leave --num-classes out, or pass it in the JSON kwargs.",
                    )
                model = build_on_meta(found_model.factory(num_classes)).model
            default_input = found_model.input.shape
            default_dtype, source = found_model.input.dtype, found_model.input.source
    else:
        raise InputError(
            f"summary() takes an nn.Module or a model name, not a {type(model_or_name).__name__}.",
            fix="Pass a model instance, or a name such as 'resnet50'.",
        )
    x = _input(input_size, default_input, _dtype(dtype, default_dtype))
    if tuple(x.shape) != default_input:
        source = "as given"
    at_published = tuple(x.shape) == default_input and published[0] is not None
    report = shapes.trace_module(
        model,
        (x,),
        key=label,
        published_gmacs=published[0],
        at_published_input=at_published,
        fix="Give the input the model's forward takes (input_size=..., batch first).",
    )
    params = list(model.parameters())
    return Summary(
        model=label,
        class_name=type(model).__name__,
        input_shape=tuple(x.shape),
        input_dtype=str(x.dtype).removeprefix("torch."),
        input_source=source,
        output=report.output_shape,
        depth=depth,
        rows=_rows(model, report, depth),
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        buffers=sum(b.numel() for b in model.buffers()),
        total_macs=report.total_macs,
        published_gmacs=published[0],
        published_params=published[1],
        published_weights=published[2],
        at_published_input=at_published,
        seconds=time.perf_counter() - t0,
    )


class _CallableModule(types.ModuleType):
    """``ptexplore.summary`` is this module and the function at once: the package attribute
    and the submodule share one name, so the module is made callable."""

    def __call__(
        self,
        model_or_name: nn.Module | str,
        input_size: Sequence[int] | None = None,
        depth: int = 3,
        **kwargs: Any,
    ) -> Summary:
        return summary(model_or_name, input_size, depth, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

"""The plain-PyTorch script that reproduces what the model explorer shows, and what it prints.

The page cannot run this script itself for every model (a real vit_h_14 build takes
seconds and gigabytes; the page works on ``meta``), so :func:`explorer_output` writes the
lines the script prints from the page's own results — its parameter table, its name
filter, its load report and its meta trace. A contract test runs the script in a fresh
interpreter and checks it prints exactly those lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ptexplore.i18n import N_
from ptexplore.live import Snippet
from ptexplore.models import catalog
from ptexplore.models.params import ParamTable
from ptexplore.models.shapes import ShapeReport


@dataclass(frozen=True, slots=True)
class WeightsLoad:
    """How the page loaded a checkpoint, so the script can do the same."""

    file: str
    wrapper_key: str | None  # e.g. "state_dict" when the file is a checkpoint dict
    stripped_prefix: str | None  # e.g. "module."
    mismatched: bool  # some tensors had another shape and were set aside
    missing: tuple[str, ...]  # as load_state_dict(strict=False) reports them
    unexpected: tuple[str, ...]
    safetensors: bool = False  # read with safetensors.torch.load_file, not torch.load
    skipped: bool = False  # the file has entries that are not named tensors
    refused: tuple[str, ...] = ()  # tensors the page did not load as they are (complex, …)


def explorer_code(
    key: str,
    num_classes: int | None,
    input_shape: tuple[int, ...],
    *,
    frozen: tuple[str, ...] = (),
    name_filter: str = "",
    weights: WeightsLoad | None = None,
) -> str:
    build = catalog.constructor_code(key, num_classes)
    imports = ["import torch", "from torch.utils.flop_counter import FlopCounterMode"]
    lines = ["", f"model = {build.expr}"]
    if weights is not None:
        if weights.safetensors:
            imports.append("from safetensors.torch import load_file")
            lines.append(f"state = load_file({weights.file!r})")
        else:
            lines.append(
                f"state = torch.load({weights.file!r}, map_location='cpu', weights_only=True)"
            )
        if weights.wrapper_key is not None:
            lines.append(f"state = state[{weights.wrapper_key!r}]  # a checkpoint dict")
        if weights.skipped:
            lines.append(
                "state = {k: v for k, v in state.items() "
                "if isinstance(k, str) and isinstance(v, torch.Tensor)}  # tensors only"
            )
        if weights.stripped_prefix is not None:
            p = weights.stripped_prefix
            lines.append(f"state = {{k.removeprefix({p!r}): v for k, v in state.items()}}")
        if weights.refused:
            lines.append(
                "state = {k: v for k, v in state.items() if k not in {"
                + ", ".join(repr(n) for n in sorted(weights.refused))
                + "}}"
                "  # not loadable as they are (see the load report)"
            )
        if weights.mismatched:
            lines += [
                "own = model.state_dict()  # strict=False still refuses other shapes:",
                "state = {k: v for k, v in state.items() if k not in own "
                "or own[k].shape == v.shape}",
            ]
        lines += [
            "result = model.load_state_dict(state, strict=False)",
            "print('missing:', result.missing_keys, 'unexpected:', result.unexpected_keys)",
        ]
    for g in frozen:
        lines.append(f"model.{g}.requires_grad_(False)  # freeze")
    lines += [
        "",
        "# the parameter table",
        "for name, p in model.named_parameters():",
        "    print(name, tuple(p.shape), p.numel(), p.dtype, p.requires_grad)",
        "total = sum(p.numel() for p in model.parameters())",
        "trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)",
        "print(f'total {total:,}  trainable {trainable:,}  frozen {total - trainable:,}')",
    ]
    if name_filter:
        lines += [
            "",
            "# the name filter",
            "for name, layer in model.named_modules():",
            f"    if {name_filter!r} in name:",
            "        print(name, '-', type(layer).__name__)",
        ]
    lines += [
        "",
        "# output shapes and MACs (1 multiply-add = 2 FLOPs), counted on the meta device as",
        "# the page does: on CPU, fused attention kernels escape FlopCounterMode (vit_b_16:",
        "# 11.3 GMACs counted under eval() + no_grad() instead of 17.6)",
        "model.eval().to('meta')",
        _zeros(key, tuple(input_shape)),
        "with torch.no_grad(), FlopCounterMode(display=False) as counter:",
        "    out = model(x)",
        "print(tuple(out.shape), counter.get_total_flops() // 2, 'MACs')",
    ]
    return build.head(*imports) + "\n".join(lines) + "\n"


def _zeros(key: str, shape: tuple[int, ...]) -> str:
    """The script's input: zeros of the model's input dtype (int64 for token models)."""
    dtype = catalog.entry(key).input_dtype
    dims = ", ".join(map(str, shape))
    if dtype == "float32":
        return f"x = torch.zeros({dims}, device='meta')"
    return f"x = torch.zeros({dims}, dtype=torch.{dtype}, device='meta')"


def explorer_output(
    table: ParamTable,
    report: ShapeReport | None,
    *,
    filter_hits: Sequence[tuple[str, str]] = (),
    weights: WeightsLoad | None = None,
) -> str:
    """What :func:`explorer_code` prints, from the page's own results."""
    out: list[str] = []
    if weights is not None:
        out.append(f"missing: {list(weights.missing)!r} unexpected: {list(weights.unexpected)!r}")
    for r in table.rows:
        out.append(f"{r.name} {r.shape!r} {r.numel} torch.{r.dtype} {r.requires_grad}")
    out.append(f"total {table.total:,}  trainable {table.trainable:,}  frozen {table.frozen:,}")
    out += [f"{name} - {cls}" for name, cls in filter_hits]
    if report is not None and report.output_dims is not None:
        out.append(f"{report.output_dims!r} {report.total_macs} MACs")
    return "\n".join(out) + "\n"


def explorer_snippet(
    key: str,
    num_classes: int | None,
    input_shape: tuple[int, ...],
    table: ParamTable,
    report: ShapeReport | None,
    *,
    frozen: tuple[str, ...] = (),
    name_filter: str = "",
    filter_hits: Sequence[tuple[str, str]] = (),
    weights: WeightsLoad | None = None,
) -> Snippet:
    code = explorer_code(
        key, num_classes, input_shape, frozen=frozen, name_filter=name_filter, weights=weights
    )
    note = "" if report is not None else N_("up to the forward pass, which refuses this input")
    return Snippet(
        code, explorer_output(table, report, filter_hits=filter_hits, weights=weights), note
    )

"""Fit a file's tensors to a model's parameters, one stated behaviour per edge case.

The model is a meta build, loaded with ``load_state_dict(strict=False, assign=True)``:
``assign`` keeps the file's tensor as it is, where a normal ``load_state_dict`` would
``copy_`` it into the existing parameter. Where the two would differ, this module does
what ``copy_`` would, or refuses the tensor and says why:

* shape differs → set aside and reported (``load_state_dict`` raises even with
  ``strict=False``);
* integer or bool tensor for a float parameter (or float for an integer buffer) → cast to
  the model's dtype, as ``copy_`` casts (a bool/int tensor cannot even be a Parameter that
  requires grad);
* float of another precision (float16 for float32) → kept as saved (values shown exactly
  as stored; ``copy_`` would widen them losslessly), noted;
* complex tensor for a real parameter → not loaded: ``copy_`` keeps only the real part and
  drops the imaginary one with just a warning;
* sparse tensor → made dense when its dense shape is the parameter's (so the dense copy
  costs exactly the parameter's size), else set aside as a shape mismatch;
* quantized tensor → dequantized when its shape is the parameter's;
* a tensor without data (meta) or a value that is not a tensor → not loaded, reported;
* empty tensors follow the shape rule (an empty parameter takes an empty tensor).

NaN and ±inf values load as they are; :func:`ptexplore.models.params.summarize` counts
them and computes statistics over the finite ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ptexplore.i18n import _
from ptexplore.text import named, named_reasons

#: how many keys a note names before it counts the rest
_NAMED = 5


@dataclass(frozen=True, slots=True)
class Fitted:
    """The file's tensors made ready for ``load_state_dict(assign=True)``."""

    usable: dict[str, torch.Tensor]
    #: (name, shape in the model, shape in the file)
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    #: (name, why) of the model's keys the file has but that were not loaded
    refused: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


def _dtype(d: torch.dtype) -> str:
    return str(d).removeprefix("torch.")


def _kind(d: torch.dtype) -> str:
    if d.is_complex:
        return "complex"
    if d.is_floating_point:
        return "float"
    return "bool" if d == torch.bool else "int"


def _names(keys: list[str]) -> str:
    return named(keys, _NAMED)


def fit(expected: Mapping[str, torch.Tensor], state_dict: Mapping[str, object]) -> Fitted:
    """Sort ``state_dict`` against the model's ``expected`` tensors (see the module doc)."""
    usable: dict[str, torch.Tensor] = {}
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    refused: list[tuple[str, str]] = []
    casts: dict[tuple[str, str], list[str]] = {}
    kept: dict[tuple[str, str], list[str]] = {}
    densified: list[str] = []
    dequantized: list[str] = []
    for k, v in state_dict.items():
        if not isinstance(v, torch.Tensor):
            refused.append((k, _("holds a {type}, not a tensor").format(type=type(v).__name__)))
            continue
        if k not in expected:
            usable[k] = v  # torch reports it as unexpected
            continue
        want = expected[k]
        if v.device.type == "meta":
            refused.append((k, _("holds no data (a meta tensor)")))
            continue
        if tuple(v.shape) != tuple(want.shape):
            mismatched.append((k, tuple(want.shape), tuple(v.shape)))
            continue
        if v.dtype.is_complex and not want.dtype.is_complex:
            refused.append(
                (
                    k,
                    _(
                        "is {dtype}: copy_ into a {want} parameter would keep only the real part"
                    ).format(dtype=_dtype(v.dtype), want=_dtype(want.dtype)),
                )
            )
            continue
        try:
            if v.layout != torch.strided:
                v = v.to_dense()
                densified.append(k)
            if v.is_quantized:
                v = v.dequantize()
                dequantized.append(k)
        except Exception as err:  # an inconsistent sparse/quantized tensor
            refused.append(
                (k, _("could not be made dense ({error})").format(error=type(err).__name__))
            )
            continue
        if _kind(v.dtype) != _kind(want.dtype):
            casts.setdefault((_dtype(v.dtype), _dtype(want.dtype)), []).append(k)
            v = v.to(want.dtype)
        elif v.dtype != want.dtype:
            kept.setdefault((_dtype(v.dtype), _dtype(want.dtype)), []).append(k)
        usable[k] = v
    notes: list[str] = []
    for (src, dst), keys in casts.items():
        notes.append(
            _("cast from {src} to {dst}, as load_state_dict's copy_ would: {names}").format(
                src=src, dst=dst, names=_names(keys)
            )
        )
    for (src, dst), keys in kept.items():
        notes.append(
            _(
                "kept as saved in {src} (load_state_dict would copy them into the model's {dst} "
                "parameters, widening them exactly): {names}"
            ).format(src=src, dst=dst, names=_names(keys))
        )
    if densified:
        notes.append(_("sparse in the file, made dense: {names}").format(names=_names(densified)))
    if dequantized:
        notes.append(
            _("quantized in the file, dequantized: {names}").format(names=_names(dequantized))
        )
    if refused:
        shown = named_reasons(refused, _NAMED)
        notes.append(_("not loaded (they keep their random init): {shown}").format(shown=shown))
    return Fitted(usable, tuple(mismatched), tuple(refused), tuple(notes))

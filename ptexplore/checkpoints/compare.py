"""A checkpoint's state_dict against a model's, key by key, as ``load_state_dict`` sees it.

* every key is matched (same name, same shape), shape-mismatched, missing (the model has
  it, the checkpoint not) or unexpected (the checkpoint has it, the model not);
* parameters and buffers are told apart (``named_parameters``/``named_buffers`` with
  ``remove_duplicate=False``: a tied name counts too);
* tied weights — one tensor under two names — are flagged on both sides (same storage,
  offset, shape and strides);
* a wrapper prefix on every checkpoint key (``module.``, ``model.``, ``_orig_mod.``) that
  stops keys from matching is found, with the mapping stripping it gives;
* torch's ``load_state_dict`` error is split into one row per problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import torch
from torch import nn

from ptexplore.checkpoints.inspector import common_prefix, prefix_owners
from ptexplore.i18n import N_, _


class Status(StrEnum):
    MATCHED = "matched"
    SHAPE = "shape mismatch"
    MISSING = "missing"
    UNEXPECTED = "unexpected"


class Role(StrEnum):
    """The values are English, marked for the catalog: shown translated, ``_(role.value)``."""

    PARAMETER = N_("parameter")
    BUFFER = N_("buffer")
    NONE = "—"  # a key the model does not have


@dataclass(frozen=True, slots=True)
class KeyRow:
    key: str
    status: Status
    role: Role
    model_shape: tuple[int, ...] | None
    ckpt_shape: tuple[int, ...] | None
    model_dtype: str | None
    ckpt_dtype: str | None
    #: the first other name of the same tensor, in the model / in the checkpoint
    model_tied: str | None = None
    ckpt_tied: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    rows: tuple[KeyRow, ...]
    #: (key, checkpoint dtype, model dtype) of matched floating keys whose dtypes differ:
    #: load_state_dict's copy_ casts them without a word
    casts: tuple[tuple[str, str, str], ...]
    #: groups of names that are one tensor
    model_tied: tuple[tuple[str, ...], ...]
    ckpt_tied: tuple[tuple[str, ...], ...]
    #: checkpoint entries that are not tensors (load_state_dict would refuse them)
    not_tensors: tuple[str, ...] = ()

    def count(self, status: Status, role: Role | None = None) -> int:
        return sum(1 for r in self.rows if r.status is status and (role is None or r.role is role))

    def keys(self, status: Status) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows if r.status is status)


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def tied_groups(tensors: Mapping[str, torch.Tensor]) -> tuple[tuple[str, ...], ...]:
    """Groups of names whose tensors are one tensor (same storage, offset, shape, strides)."""
    groups: dict[tuple[int, int, tuple[int, ...], tuple[int, ...]], list[str]] = {}
    for k, v in tensors.items():
        if v.numel() == 0 or v.device.type == "meta":
            continue
        ptr = v.untyped_storage().data_ptr()
        groups.setdefault(
            (ptr, int(v.storage_offset()), tuple(v.shape), tuple(v.stride())), []
        ).append(k)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def _first_other(groups: tuple[tuple[str, ...], ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for g in groups:
        for k in g:
            out[k] = next(o for o in g if o != k)
    return out


def compare(model: nn.Module, ckpt: Mapping[str, object]) -> Comparison:
    """``ckpt`` (the state_dict as the script will load it) against ``model``."""
    own = model.state_dict()
    params = {n for n, _p in model.named_parameters(remove_duplicate=False)}
    tensors = {k: v for k, v in ckpt.items() if isinstance(v, torch.Tensor)}
    not_tensors = tuple(str(k) for k, v in ckpt.items() if not isinstance(v, torch.Tensor))
    model_tied = tied_groups(own)
    ckpt_tied = tied_groups(tensors)
    mt, ct = _first_other(model_tied), _first_other(ckpt_tied)
    rows: list[KeyRow] = []
    casts: list[tuple[str, str, str]] = []
    for k, v in own.items():
        role = Role.PARAMETER if k in params else Role.BUFFER  # (or extra state)
        c = tensors.get(k)
        if c is None:
            status = Status.MISSING
        elif tuple(c.shape) != tuple(v.shape):
            status = Status.SHAPE
        else:
            status = Status.MATCHED
            if c.dtype != v.dtype and c.dtype.is_floating_point and v.dtype.is_floating_point:
                casts.append((k, _dtype(c), _dtype(v)))
        rows.append(
            KeyRow(
                key=k,
                status=status,
                role=role,
                model_shape=tuple(v.shape),
                ckpt_shape=None if c is None else tuple(c.shape),
                model_dtype=_dtype(v),
                ckpt_dtype=None if c is None else _dtype(c),
                model_tied=mt.get(k),
                ckpt_tied=ct.get(k),
            )
        )
    for k, c in tensors.items():
        if k not in own:
            rows.append(
                KeyRow(
                    key=k,
                    status=Status.UNEXPECTED,
                    role=Role.NONE,
                    model_shape=None,
                    ckpt_shape=tuple(c.shape),
                    model_dtype=None,
                    ckpt_dtype=_dtype(c),
                    ckpt_tied=ct.get(k),
                )
            )
    return Comparison(
        rows=tuple(rows),
        casts=tuple(casts),
        model_tied=model_tied,
        ckpt_tied=ckpt_tied,
        not_tensors=not_tensors,
    )


# -------------------------------------------------------------------------- prefixes


@dataclass(frozen=True, slots=True)
class PrefixFinding:
    """Every checkpoint key starts with ``prefix``; stripping it makes more keys match."""

    prefix: str
    who: str
    matches_as_is: int
    matches_stripped: int
    #: (checkpoint key, key after stripping, in the model?) for every key
    mapping: tuple[tuple[str, str, bool], ...]


def find_prefix(ckpt_keys: list[str], model_keys: set[str]) -> PrefixFinding | None:
    """The wrapper prefix in the way, if stripping it makes more keys match."""
    prefix = common_prefix(ckpt_keys)
    if prefix is None:
        return None
    stripped = [k.removeprefix(prefix) for k in ckpt_keys]
    as_is = sum(1 for k in ckpt_keys if k in model_keys)
    after = sum(1 for k in stripped if k in model_keys)
    if after <= as_is:
        return None
    return PrefixFinding(
        prefix=prefix,
        who=prefix_owners(prefix),
        matches_as_is=as_is,
        matches_stripped=after,
        mapping=tuple((k, s, s in model_keys) for k, s in zip(ckpt_keys, stripped, strict=True)),
    )


# ---------------------------------------------------------------------- torch's error


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One problem ``load_state_dict`` listed in its error."""

    #: "missing key", "unexpected key", "size mismatch", or "other" (English, marked for
    #: the catalog: shown translated, ``_(row.problem)``)
    problem: str
    key: str
    detail: str  # in the learner's language (torch's own line for "other")


def _listed(text: str) -> list[str]:
    """The keys of torch's ``"a", "b".`` list (torch does not escape quotes in keys: split
    on the separator it writes)."""
    body = text.strip().removesuffix(".").strip()
    if len(body) < 2 or not (body.startswith('"') and body.endswith('"')):
        return [body] if body else []
    return body[1:-1].split('", "')


_SIZE = re.compile(
    r"size mismatch for (?P<key>.+?): copying a param with shape "
    r"(?P<ckpt>torch\.Size\(\[[^\]]*\]\)) from checkpoint, "
    r"the shape in current model is (?P<model>torch\.Size\(\[[^\]]*\]\))"
)


def parse_load_error(text: str) -> tuple[ErrorRow, ...]:
    """torch's "Error(s) in loading state_dict for X:" message, one row per problem."""
    rows: list[ErrorRow] = []
    for line in text.splitlines()[1:]:
        line = line.strip()
        if not line:
            continue
        if line.startswith(("Missing key(s)", "Unexpected key(s)")):
            problem = N_("missing key") if line.startswith("Missing") else N_("unexpected key")
            where = (
                _("in the model, not in the checkpoint")
                if problem == "missing key"
                else _("in the checkpoint, not in the model")
            )
            rows.extend(ErrorRow(problem, k, where) for k in _listed(line.split(": ", 1)[-1]))
            continue
        m = _SIZE.match(line)
        if m:
            rows.append(
                ErrorRow(
                    N_("size mismatch"),
                    m["key"],
                    _("checkpoint {ckpt}, model {model}").format(
                        ckpt=m["ckpt"].removeprefix("torch.Size"),
                        model=m["model"].removeprefix("torch.Size"),
                    ),
                )
            )
            continue
        rows.append(ErrorRow(N_("other"), "", line))
    return tuple(rows)


__all__ = [
    "Comparison",
    "ErrorRow",
    "KeyRow",
    "PrefixFinding",
    "Role",
    "Status",
    "compare",
    "find_prefix",
    "parse_load_error",
    "tied_groups",
]

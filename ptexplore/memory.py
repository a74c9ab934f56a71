"""One vocabulary for memory: what a tensor is in memory, and whether two objects share it.

Used by every lab that asks "is this a view or a copy?" (the Tensor lab's numpy bridges, the
view/reshape lab, and the autograd and checkpoint labs). Every answer is measured on the
live objects — storage addresses, ``np.shares_memory`` — never inferred from a function's
name (``torch.as_tensor`` shares *or* copies depending on dtype and device).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch

Number = int | float | bool


class Sharing(StrEnum):
    """How one tensor relates to another's memory."""

    SAME_PTR = "same data_ptr"
    SAME_STORAGE = "same storage, other offset"
    COPY = "copy"
    FAILED = "failed"


def array_ptr(a: np.ndarray) -> int:
    """Address of an array's first element (``a.__array_interface__['data'][0]``)."""
    return int(a.__array_interface__["data"][0])


def storage_ptr(t: torch.Tensor) -> int:
    """Address of the start of ``t``'s storage (shared by every view of it)."""
    return int(t.untyped_storage().data_ptr())


def same_storage(x: torch.Tensor, y: torch.Tensor) -> bool:
    """True when ``x`` and ``y`` are views of one storage (on the same device)."""
    return x.device == y.device and storage_ptr(x) == storage_ptr(y)


def sharing(source: torch.Tensor, result: torch.Tensor) -> Sharing:
    """Is ``result`` a view of ``source`` (same storage), and at the same address?"""
    if not same_storage(source, result):
        return Sharing.COPY
    return Sharing.SAME_PTR if result.data_ptr() == source.data_ptr() else Sharing.SAME_STORAGE


def host_view(t: torch.Tensor) -> np.ndarray | None:
    """A numpy view of a CPU tensor's memory (no copy); ``None`` for GPU/meta tensors."""
    if t.device.type != "cpu":
        return None
    view: np.ndarray = t.detach().numpy()
    return view


def shares_memory(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> bool | None:
    """``np.shares_memory`` for any mix of arrays and CPU tensors; ``None`` when either
    lives off the host (a GPU tensor can never share with host memory)."""
    views = []
    for obj in (a, b):
        if isinstance(obj, torch.Tensor):
            v = host_view(obj)
            if v is None:
                return None
            views.append(v)
        else:
            views.append(obj)
    return bool(np.shares_memory(views[0], views[1]))


@dataclass(frozen=True, slots=True)
class StorageFacts:
    """One storage: its start address, its elements, and which of them a tensor reads."""

    ptr: int
    values: tuple[Number, ...]
    used: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class TensorFacts:
    """What torch reports about one tensor, plus its elements in reading (row-major) order."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]
    storage_offset: int
    is_contiguous: bool
    data_ptr: int
    storage_ptr: int
    element_size: int
    dtype: str
    #: ``t._version``: the version counter autograd checks, shared by ``t``, its views and
    #: ``t.detach()``, bumped by an in-place write through any of them (under ``no_grad``
    #: too); a write through ``t.data`` goes to another counter and is not seen.
    version: int
    values: tuple[Number, ...]
    #: For each element in reading order, its index in the storage ("memory position").
    positions: tuple[int, ...]
    storage: StorageFacts
    #: torch's own ``repr`` of the tensor (summarised with ``...`` when large).
    text: str

    @property
    def numel(self) -> int:
        return len(self.values)

    def nested(self) -> object:
        """The values as nested lists (``tensor.tolist()`` layout)."""
        return _nest(list(self.values), self.shape)


def _nest(flat: list[Number], shape: tuple[int, ...]) -> object:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def storage_elements(t: torch.Tensor) -> int:
    """Number of elements in ``t``'s whole storage (not just the part ``t`` reads)."""
    return t.untyped_storage().nbytes() // t.element_size()


def storage_tensor(t: torch.Tensor) -> torch.Tensor:
    """A 1-D tensor over ``t``'s entire storage (same memory, no copy)."""
    return torch.empty(0, dtype=t.dtype).set_(t.untyped_storage(), 0, (storage_elements(t),), (1,))


def memory_positions(t: torch.Tensor) -> torch.Tensor:
    """For every element of ``t``, its index in the storage — computed by torch's own
    ``as_strided`` from ``t``'s size, stride and storage offset."""
    n = storage_elements(t)
    return torch.arange(n).as_strided(t.size(), t.stride(), t.storage_offset())


def tensor_facts(t: torch.Tensor) -> TensorFacts:
    """Shape, strides, offset, addresses, version and values of a (small) CPU tensor."""
    t = t.detach()
    pos = memory_positions(t).reshape(-1)
    store = storage_tensor(t)
    used = torch.zeros(store.numel(), dtype=torch.bool)
    used[pos] = True
    return TensorFacts(
        shape=tuple(t.shape),
        stride=tuple(t.stride()),
        storage_offset=int(t.storage_offset()),
        is_contiguous=bool(t.is_contiguous()),
        data_ptr=int(t.data_ptr()),
        storage_ptr=storage_ptr(t),
        element_size=int(t.element_size()),
        dtype=str(t.dtype).removeprefix("torch."),
        version=int(t._version),
        values=tuple(t.reshape(-1).tolist()),
        positions=tuple(int(p) for p in pos.tolist()),
        storage=StorageFacts(
            ptr=storage_ptr(t),
            values=tuple(store.tolist()),
            used=tuple(bool(u) for u in used.tolist()),
        ),
        text=repr(t),
    )

"""Building models cheaply: parameters and buffers live on the ``meta`` device, so
structure, names, shapes and counts cost ~0.1 s and a few MB even for vit_h_14 (a normal
build takes seconds and gigabytes).

:func:`build_on_meta` first runs the constructor under ``with torch.device("meta")`` (a
torch-function mode: per thread). Every tensor it makes is then meta, including the ones
init code fills with random numbers (ViT's ``torch.empty(...).normal_()`` positional
embedding), so the build never draws from torch's global RNG: a concurrent learner's
seeded grid is untouched without any lock.

Some constructors compute on real tensors (every RegNet calls
``torch.arange(...).tolist()``), which fails on meta. Those run again with each parameter
moved to meta *as it is registered* (the constructor runs unchanged, on CPU), under
:func:`ptexplore.rng.forked`: the process-wide RNG lock with the global state restored
afterwards, so their init draws are invisible to everyone else. The registration patch is
installed once, is inert unless the current thread is inside :func:`params_on_meta`, and so
never affects another learner's thread.

:func:`params_on_meta` can also *keep* chosen parameters real (by registration order), which
materialises one layer of a huge model with the model's own init code and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from ptexplore import compat
from ptexplore.rng import forked

_state = threading.local()
_install_lock = threading.Lock()
_installed = False


@dataclass
class _Session:
    keep: frozenset[int]
    counter: int = 0
    registered: dict[int, int] = field(default_factory=dict)  # id(param) -> order


def _active() -> _Session | None:
    return getattr(_state, "session", None)


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        orig_param: Callable[..., None] = nn.Module.register_parameter
        orig_buffer: Callable[..., None] = nn.Module.register_buffer

        def register_parameter(self: nn.Module, name: str, param: nn.Parameter | None) -> None:
            session = _active()
            if session is not None and param is not None:
                order = session.counter
                session.counter += 1
                if order not in session.keep and param.device.type != "meta":
                    param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
                session.registered[id(param)] = order
            orig_param(self, name, param)

        def register_buffer(
            self: nn.Module, name: str, tensor: torch.Tensor | None, persistent: bool = True
        ) -> None:
            if _active() is not None and tensor is not None and tensor.device.type != "meta":
                tensor = tensor.to("meta")
            orig_buffer(self, name, tensor, persistent=persistent)

        nn.Module.register_parameter = register_parameter  # type: ignore[method-assign]
        nn.Module.register_buffer = register_buffer  # type: ignore[method-assign]
        _installed = True


@contextmanager
def params_on_meta(keep: frozenset[int] = frozenset()) -> Iterator[_Session]:
    """Inside this block, modules built by this thread get meta parameters and buffers.

    ``keep`` holds registration-order indices of parameters to leave real.
    """
    _install()
    if _active() is not None:
        raise RuntimeError("params_on_meta does not nest")
    session = _Session(keep=keep)
    _state.session = session
    try:
        yield session
    finally:
        _state.session = None


def _finish_meta(model: nn.Module, keep_ids: set[int]) -> None:
    """Move anything a constructor stored without registering (rare) to meta too."""
    for module in model.modules():
        for key, p in list(compat.own_parameters(module).items()):
            if p is not None and p.device.type != "meta" and id(p) not in keep_ids:
                compat.own_parameters(module)[key] = nn.Parameter(p.to("meta"), p.requires_grad)
        for key, b in list(compat.own_buffers(module).items()):
            if b is not None and b.device.type != "meta":
                compat.own_buffers(module)[key] = b.to("meta")


@dataclass(frozen=True, slots=True)
class MetaBuild:
    """A model built on meta plus the registration order of each parameter name."""

    model: nn.Module
    order: dict[str, int]


def build_on_meta(factory: Callable[[], nn.Module]) -> MetaBuild:
    """Run ``factory`` with every parameter and buffer on meta, never touching the RNG.

    Pure meta first (no lock, no draw); a constructor that needs real tensors on the way
    falls back to the registration hook under :func:`ptexplore.rng.forked`.
    """
    try:
        with params_on_meta() as session, torch.device("meta"):
            model = factory()
    except Exception:
        with forked(), params_on_meta() as session:
            model = factory()
    _finish_meta(model, set())
    order = {
        name: session.registered[id(p)]
        for name, p in model.named_parameters(remove_duplicate=False)
        if id(p) in session.registered
    }
    return MetaBuild(model=model, order=order)


def build_keeping(factory: Callable[[], nn.Module], keep: frozenset[int]) -> nn.Module:
    """Run ``factory`` again keeping only the parameters at ``keep`` real (on CPU).

    The model's own init code (``reset_parameters`` and any model-level init loop) runs on
    the kept parameters; everything else stays on meta and costs nothing.
    """
    with params_on_meta(keep) as session:
        model = factory()
    kept = {pid for pid, order in session.registered.items() if order in keep}
    _finish_meta(model, kept)
    return model


def has_dropout(model: nn.Module) -> bool:
    """Does ``model`` contain a Dropout layer (any ``nn.Dropout*``)?"""
    return any(isinstance(m, compat.dropout_base()) for m in model.modules())

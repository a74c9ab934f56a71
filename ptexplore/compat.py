"""Private names of the standard library, torch and torchvision that ptexplore relies on,
in one place.

torch and torchvision are imported inside the functions that need them (the supervisor
imports this module through the DataLoader lab's workers and stays torch-free).

Each function here reads or adjusts one private detail, says which, and fails with a
:class:`CompatError` naming it the day a new version changes it (``tests/test_compat.py``
checks every one against the installed versions).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, reduction, resource_tracker, spawn, util
from typing import Any


class CompatError(RuntimeError):
    """A private name ptexplore uses is not what it was (a new Python or torch)."""


def _attr(obj: Any, name: str, where: str) -> Any:
    try:
        return getattr(obj, name)
    except AttributeError:
        raise CompatError(
            f"{where} has no {name!r} any more: ptexplore.compat needs updating"
        ) from None


# ------------------------------------------------------------ multiprocessing.forkserver

_FORKSERVER = "multiprocessing.forkserver._forkserver"


def _server() -> Any:
    return _attr(forkserver, "_forkserver", "multiprocessing.forkserver")


_TRACKER = "multiprocessing.resource_tracker._resource_tracker"


def _tracker() -> Any:
    return _attr(resource_tracker, "_resource_tracker", "multiprocessing.resource_tracker")


def forkserver_pid() -> int | None:
    """The pid of this process's forkserver (``ForkServer._forkserver_pid``), if started."""
    pid = _attr(_server(), "_forkserver_pid", _FORKSERVER)
    return int(pid) if pid else None


def resource_tracker_pid() -> int | None:
    """The pid of the resource tracker this process started (``ResourceTracker._pid``)."""
    pid = _attr(_tracker(), "_pid", _TRACKER)
    return int(pid) if pid else None


def forkserver_fds() -> tuple[int, ...]:
    """The descriptors a process needs to ask an already running forkserver for a child:
    the write end of its "alive" pipe (``ForkServer._forkserver_alive_fd``) and the
    resource tracker's pipe (``ResourceTracker._fd``). Empty before it started."""
    alive = _attr(_server(), "_forkserver_alive_fd", _FORKSERVER)
    tracker = _attr(_tracker(), "_fd", _TRACKER)
    return tuple(int(fd) for fd in (alive, tracker) if fd is not None)


def adopt_forkserver() -> None:
    """In a forked child of the process that started the forkserver: use that forkserver.

    ``ForkServer.ensure_running`` checks the server with ``os.waitpid``, which only its
    parent may call (a child gets ``ChildProcessError``). The child trusts the inherited
    server instead (its socket answers while it lives) and checks only the resource
    tracker, as ``ensure_running`` does first.
    """
    server = _server()
    _attr(server, "ensure_running", _FORKSERVER)
    if forkserver_pid() is None:
        raise CompatError("adopt_forkserver: no forkserver was started before the fork")
    server.ensure_running = resource_tracker.ensure_running


def forkserver_process(main_path: Callable[[], str | None]) -> type[mp_context.ForkServerProcess]:
    """A ``ForkServerProcess`` class whose child imports ``main_path()`` as its main module
    (``__mp_main__``), or no main at all when that is None.

    The standard launcher (``popen_forkserver.Popen._launch``) tells the child to re-run
    the parent's main module (by path or name) before unpickling the process object: for
    a threaded server or a sandbox helper that would import their entry points in every
    worker. This one replaces that one entry of the preparation data
    (``spawn.get_preparation_data``); the other steps are the standard library's own,
    through its private helpers (``forkserver.connect_to_new_process``,
    ``util.close_fds``, ``context.set_spawning_popen``, the process's ``_Popen`` and
    ``_name``).
    """
    for module, name in (
        (forkserver, "connect_to_new_process"),
        (forkserver, "read_signed"),
        (util, "close_fds"),
        (mp_context, "set_spawning_popen"),
        (popen_forkserver.Popen, "_launch"),
        (mp_context.ForkServerProcess, "_Popen"),
    ):
        _attr(module, name, getattr(module, "__name__", str(module)))

    class Popen(popen_forkserver.Popen):
        def _launch(self, process_obj: Any) -> None:
            prep_data = spawn.get_preparation_data(process_obj._name)
            prep_data.pop("init_main_from_path", None)
            prep_data.pop("init_main_from_name", None)
            path = main_path()
            if path is not None:
                prep_data["init_main_from_path"] = path
            buf = io.BytesIO()
            mp_context.set_spawning_popen(self)
            try:
                reduction.dump(prep_data, buf)
                reduction.dump(process_obj, buf)
            finally:
                mp_context.set_spawning_popen(None)
            self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
            parent_w = os.dup(w)
            close = util.close_fds  # type: ignore[attr-defined]
            self.finalizer = util.Finalize(self, close, (parent_w, self.sentinel))
            with open(w, "wb", closefd=True) as f:
                f.write(buf.getbuffer())
            self.pid = forkserver.read_signed(self.sentinel)

    class Process(mp_context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj: Any) -> Any:
            return Popen(process_obj)

    return Process


# ---------------------------------------------------------------------------- torch


def weights_only_unpickler(file: Any) -> Any:
    """torch's weights-only unpickler (``torch._weights_only_unpickler.Unpickler``) over
    ``file``: what ``torch.load(weights_only=True)`` reads a legacy pickle stream with."""
    from torch import _weights_only_unpickler as wou

    return _attr(wou, "Unpickler", "torch._weights_only_unpickler")(file, encoding="utf-8")


def weights_only_allowed_globals() -> frozenset[str]:
    """Every ``module.name`` torch's weights-only unpickler imports: its own allow-list
    (``_get_allowed_globals``) plus ``torch.serialization.add_safe_globals``' additions
    (``_get_user_allowed_globals``)."""
    from torch import _weights_only_unpickler as wou

    where = "torch._weights_only_unpickler"
    own = _attr(wou, "_get_allowed_globals", where)()
    user = _attr(wou, "_get_user_allowed_globals", where)()
    return frozenset(own) | frozenset(user)


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """``torch.utils._pytree.tree_flatten``: the leaves of a nested sample, and its shape
    (torchvision's v2 transforms flatten their inputs with it)."""
    from torch.utils import _pytree

    flat, spec = _attr(_pytree, "tree_flatten", "torch.utils._pytree")(tree)
    return list(flat), spec


def tree_unflatten(leaves: list[Any], spec: Any) -> Any:
    """``torch.utils._pytree.tree_unflatten``: :func:`tree_flatten` undone."""
    from torch.utils import _pytree

    return _attr(_pytree, "tree_unflatten", "torch.utils._pytree")(leaves, spec)


def shut_down_dataloader_iterators(objects: list[Any]) -> int:
    """Shut down, explicitly, every multi-process DataLoader iterator among ``objects``
    (``_MultiProcessingDataLoaderIter._shutdown_workers``); returns how many."""
    from torch.utils.data import dataloader

    kind = _attr(dataloader, "_MultiProcessingDataLoaderIter", "torch.utils.data.dataloader")
    found = {id(o): o for o in objects if isinstance(o, kind)}
    for it in found.values():
        _attr(it, "_shutdown_workers", "_MultiProcessingDataLoaderIter")()
    return len(found)


# ------------------------------------------------------------------- torchvision v2

#: The methods of a v2 transform the augmentation lab's recorder and planner stand in for
#: (wrapped per instance, to read what torchvision drew): their names in torchvision 0.29.
V2_APPLY_OP = "_apply_image_or_video_transform"
V2_SAMPLE_DIRICHLET = "_sample_dirichlet"


def v2_random_apply_transform() -> type[Any]:
    """``torchvision.transforms.v2._transform._RandomApplyTransform``: the base class of
    the ``p=``-gated transforms, whose ``forward`` draws ``torch.rand(1) >= p`` first."""
    from torchvision.transforms.v2 import _transform

    cls: type[Any] = _attr(_transform, "_RandomApplyTransform", "torchvision.transforms.v2")
    return cls


def v2_query_size(flat_inputs: list[Any]) -> tuple[int, int]:
    """``torchvision.transforms.v2._utils.query_size``: (height, width) of the inputs."""
    from torchvision.transforms.v2 import _utils

    size: tuple[int, int] = _attr(_utils, "query_size", "torchvision.transforms.v2._utils")(
        flat_inputs
    )
    return size


class V2Private:
    """The private members of one v2 transform that the seeded previews call (their
    torchvision 0.29 names): each fails with the name the day a release renames it."""

    def __init__(self, transform: Any) -> None:
        self.t = transform
        self._where = f"torchvision.transforms.v2.{type(transform).__name__}"

    def _get(self, name: str) -> Any:
        return _attr(self.t, name, self._where)

    def method(self, name: str) -> Callable[..., Any]:
        """The transform's ``name`` as bound now (:data:`V2_APPLY_OP`, …): what a wrapper
        set on the instance later calls through."""
        found: Callable[..., Any] = self._get(name)
        return found

    def needs_transform_list(self, flat: list[Any]) -> list[bool]:
        needs: list[bool] = self._get("_needs_transform_list")(flat)
        return needs

    def call_kernel(self, kernel: Any, inpt: Any, *args: Any, **kwargs: Any) -> Any:
        return self._get("_call_kernel")(kernel, inpt, *args, **kwargs)

    def extract_image(self, inputs: Any) -> tuple[Any, Any]:
        """``_flatten_and_extract_image_or_video``: (where it was, the image)."""
        where, image = self._get("_flatten_and_extract_image_or_video")(inputs)
        return where, image

    def insert_image(self, where: Any, image: Any) -> Any:
        return self._get("_unflatten_and_insert_image_or_video")(where, image)

    def apply_op(self, image: Any, op: str, magnitude: float, **kwargs: Any) -> Any:
        return self._get(V2_APPLY_OP)(image, op, magnitude, **kwargs)

    def sample_dirichlet(self, params: Any) -> Any:
        return self._get(V2_SAMPLE_DIRICHLET)(params)

    def random_item(self, space: dict[str, Any]) -> tuple[str, Any]:
        key, value = self._get("_get_random_item")(space)
        return key, value

    def augmentation_space(self, all_ops: bool) -> dict[str, Any]:
        """AugMix's op table: all of them, or the partial one (``all_ops=False``)."""
        name = "_AUGMENTATION_SPACE" if all_ops else "_PARTIAL_AUGMENTATION_SPACE"
        space: dict[str, Any] = self._get(name)
        return space

    @property
    def parameter_max(self) -> int:
        return int(self._get("_PARAMETER_MAX"))

    @property
    def fill(self) -> Any:
        return self._get("_fill")


# ----------------------------------------------------------------------- torch.nn


def own_parameters(module: Any) -> dict[str, Any]:
    """``module._parameters``: the live dict of the parameters registered on ``module``
    itself, ``None`` entries included (``bias=False`` registers ``bias`` as ``None``)."""
    own: dict[str, Any] = _attr(module, "_parameters", "torch.nn.Module")
    return own


def own_buffers(module: Any) -> dict[str, Any]:
    """``module._buffers``: the live dict of the buffers registered on ``module`` itself."""
    own: dict[str, Any] = _attr(module, "_buffers", "torch.nn.Module")
    return own


def own_modules(module: Any) -> dict[str, Any]:
    """``module._modules``: every name a child is registered under — the same object under
    two names twice (``named_children()`` yields it once) — ``None`` entries included."""
    own: dict[str, Any] = _attr(module, "_modules", "torch.nn.Module")
    return own


def batchnorm_base() -> type[Any]:
    """``torch.nn.modules.batchnorm._BatchNorm``: BatchNorm1d/2d/3d's base (running
    statistics, ``momentum``, ``track_running_stats``); not SyncBatchNorm's lazy forms."""
    from torch.nn.modules import batchnorm

    cls: type[Any] = _attr(batchnorm, "_BatchNorm", "torch.nn.modules.batchnorm")
    return cls


def dropout_base() -> type[Any]:
    """``torch.nn.modules.dropout._DropoutNd``: every Dropout module's base (they draw their
    masks from torch's global RNG)."""
    from torch.nn.modules import dropout

    cls: type[Any] = _attr(dropout, "_DropoutNd", "torch.nn.modules.dropout")
    return cls


def pytorch_file_reader(target: Any) -> Any:
    """``torch._C.PyTorchFileReader``: torch's own zip-checkpoint reader (records by name,
    no unpickling), over a path or a binary file."""
    import torch

    return _attr(torch._C, "PyTorchFileReader", "torch._C")(target)


def storage_type_names() -> dict[Any, str]:
    """``torch.storage._dtype_to_storage_type_map()``: dtype → the legacy storage class
    name a checkpoint's pickle records (``"FloatStorage"`` …)."""
    import torch

    names: dict[Any, str] = _attr(torch.storage, "_dtype_to_storage_type_map", "torch.storage")()
    return names


# ------------------------------------------------------------------------- warnings


def original_showwarning() -> Any:
    """``warnings._showwarning_orig``: the standard ``showwarning`` (what prints)."""
    import warnings

    return _attr(warnings, "_showwarning_orig", "warnings")


def warning_filters_changed() -> None:
    """``warnings._filters_mutated()``: tell ``warnings`` its filter list was edited in
    place (its "already warned" registries are then reset), as ``filterwarnings`` does."""
    import warnings

    _attr(warnings, "_filters_mutated", "warnings")()

"""Private names of the standard library and of torch that ptexplore relies on, in one place.

torch is imported inside the functions that need it (the supervisor imports this module
through the DataLoader lab's workers and stays torch-free).

Each function here reads or adjusts one private detail, says which, and fails with a
:class:`CompatError` naming it the day a new version changes it (``tests/test_compat.py``
checks every one against the installed versions).
"""

from __future__ import annotations

from multiprocessing import forkserver, resource_tracker
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

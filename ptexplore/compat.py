"""Private names of the standard library and of torch that ptexplore relies on, in one place.

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

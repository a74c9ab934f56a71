"""Every private name in :mod:`ptexplore.compat` is still what it was: these fail, naming
the name, the day a new Python changes one."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from ptexplore import compat
from ptexplore.data import workers


def test_the_forkserver_and_resource_tracker_names_are_there() -> None:
    workers.ensure_forkserver()
    pid = compat.forkserver_pid()
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    tracker = compat.resource_tracker_pid()
    assert tracker is not None and os.path.exists(f"/proc/{tracker}")
    fds = compat.forkserver_fds()
    assert len(fds) == 2
    for fd in fds:
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")  # alive pipe, tracker's


def test_a_forked_child_reuses_its_parents_forkserver() -> None:
    """What the sandbox's children do: adopt the forkserver and start a process from it."""
    workers.ensure_forkserver()
    server = compat.forkserver_pid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no waitpid on the server (not its child), no second server
        code = 1
        try:
            compat.adopt_forkserver()
            p = workers.worker_context().Process(target=os.getpid)
            p.start()
            p.join(30)
            same = compat.forkserver_pid() == server
            code = 0 if p.exitcode == 0 and same else 2
        finally:
            os.write(w, bytes([code]))
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    assert got == b"\x00"


def test_a_changed_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(multiprocessing.forkserver._forkserver, "_forkserver_pid")
    with pytest.raises(compat.CompatError, match="_forkserver_pid"):
        compat.forkserver_pid()

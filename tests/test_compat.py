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


def test_torchs_weights_only_unpickler_names_are_there() -> None:
    import io
    import pickle

    allowed = compat.weights_only_allowed_globals()
    assert "torch._utils._rebuild_tensor_v2" in allowed and "builtins.eval" not in allowed
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand 105"):
        compat.weights_only_unpickler(io.BytesIO(b"i")).load()  # INST: not in its set
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL os\.system"):
        compat.weights_only_unpickler(io.BytesIO(b"cos\nsystem\n")).load()


def test_pytree_flattens_and_restores_a_sample() -> None:
    import torch

    sample = (torch.zeros(2), {"label": 3, "boxes": [torch.ones(1)]})
    leaves, spec = compat.tree_flatten(sample)
    assert len(leaves) == 3
    back = compat.tree_unflatten(leaves, spec)
    assert torch.equal(back[0], sample[0]) and back[1]["label"] == 3


def test_a_dataloader_iterator_is_shut_down_by_name() -> None:
    from torch.utils.data import DataLoader

    loader = DataLoader(
        list(range(4)), num_workers=1, multiprocessing_context=workers.worker_context()
    )
    it = iter(loader)
    next(it)
    pids = [w.pid for w in it._workers]  # (the test reads torch's own field to check)
    assert compat.shut_down_dataloader_iterators([it, loader, 3]) == 1
    assert not any(workers.alive(p) for p in pids)

"""The sandbox (ptexplore.isolate): jobs run in a forked child of one clean helper, with
kernel limits. A job that segfaults, allocates past its memory limit, spins past its CPU
limit or sleeps past its wall-clock limit ends in a lesson within that limit; the helper,
the replica and every other session carry on, and the next job runs."""

from __future__ import annotations

import fcntl
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ptexplore import isolate
from ptexplore.errors import Cancelled, InputError
from ptexplore.images import decode
from ptexplore.isolate import Ending, Job, JobFailed, Limits, SandboxError
from tests import sandbox_jobs as jobs
from tests.conftest import open_page


@pytest.fixture(scope="module", autouse=True)
def helper() -> Iterator[int]:
    assert isolate.job("warming up").call(jobs.echo, 1) == 1  # starts the helper once
    pid = isolate.helper_pid()
    assert pid is not None
    yield pid


def test_values_come_back_exactly_tensors_included() -> None:
    got = isolate.job("sending tensors").call(jobs.tensors, 7)
    want = jobs.tensors(7)
    assert got.keys() == want.keys()
    for k, w in want.items():
        g = got[k]
        if isinstance(w, torch.Tensor):
            assert isinstance(g, torch.Tensor) and g.dtype == w.dtype and g.shape == w.shape, k
            assert torch.equal(g, w), k
        else:
            assert isinstance(g, np.ndarray) and g.dtype == w.dtype and np.array_equal(g, w)


def test_a_job_is_its_own_process_with_no_inherited_files(tmp_path: os.PathLike[str]) -> None:
    with open(os.path.join(tmp_path, "secret.txt"), "w") as held:  # open in the replica
        child = isolate.job("pid").call(jobs.pid)
        assert child not in (os.getpid(), isolate.helper_pid())
        targets = isolate.job("listing fds").call(jobs.fd_targets)
        assert held.name not in targets.values()
    extra = {fd: t for fd, t in targets.items() if fd > 2}
    kept = isolate.job("kept").call(jobs.kept)  # the DataLoader forkserver's two pipes
    assert len(kept) == 2 and all(extra[fd].startswith("pipe:") for fd in kept), targets
    sockets = [t for fd, t in extra.items() if fd not in kept]
    # the job's own socket, and the child's channel to the helper (it says "idle" there)
    assert len(sockets) == 2 and all(t.startswith("socket:") for t in sockets), targets


def test_a_lesson_in_the_job_is_the_same_lesson_here() -> None:
    with pytest.raises(InputError, match=r"“photo\.png” is not an image") as caught:
        isolate.job("decoding").call(jobs.refuse, "photo.png")
    assert caught.value.fix == "Upload a PNG or JPEG."


def test_a_bug_in_the_job_is_an_exception_with_its_traceback() -> None:
    with pytest.raises(JobFailed, match="KeyError: 'a bug in the job'"):
        isolate.job("a buggy job").call(jobs.bug)


@pytest.mark.parametrize(
    ("fn", "args", "limits", "ending", "words", "within"),
    [
        (jobs.segfault, (), Limits(), Ending.CRASHED, "crashed the process it ran in (a segm", 2.0),
        (jobs.allocate, (4096,), Limits(memory_mb=512), Ending.MEMORY, "more than 512 MB", 2.0),
        (jobs.allocate_numpy, (4096,), Limits(memory_mb=512), Ending.MEMORY, "512 MB", 2.0),
        # up to ~2 s of CPU (the limit counts from the process's rounded-up start), which
        # takes longer on the wall when the suite's other workers share the two cores
        (jobs.spin, (30,), Limits(cpu_s=1, wall_s=20), Ending.CPU, "more than 1 s of CPU", 10.0),
        (jobs.sleep, (30,), Limits(wall_s=1), Ending.TIMEOUT, "longer than 1 s", 4.0),
    ],
    ids=["segfault", "torch-memory", "numpy-memory", "cpu", "wall-clock"],
)
def test_a_job_that_breaks_ends_in_a_lesson_and_the_next_job_runs(
    helper: int,
    fn: object,
    args: tuple[object, ...],
    limits: Limits,
    ending: Ending,
    words: str,
    within: float,
) -> None:
    t0 = time.monotonic()
    with pytest.raises(SandboxError) as caught:
        Job("reading this file", limits).call(fn, *args)  # type: ignore[arg-type]
    assert time.monotonic() - t0 < within
    err = caught.value
    assert err.ending is ending and words in err.message, err.message
    assert "Nothing else was affected" in err.message
    assert len(err.incident) == 8 and f"(incident {err.incident})" in err.message
    assert isolate.helper_pid() == helper  # only the job's own process ended
    assert isolate.job("the next job").call(jobs.echo, "next") == "next"


def test_other_sessions_answer_while_a_job_crashes_and_after() -> None:
    failures: list[BaseException] = []

    def crash_twice() -> None:
        for fn, args in ((jobs.segfault, ()), (jobs.sleep, (5,))):
            try:
                Job("a crashing job", Limits(wall_s=1.5)).call(fn, *args)  # type: ignore[operator]
            except SandboxError as err:
                failures.append(err)

    t = threading.Thread(target=crash_twice)
    t.start()
    at = open_page("pages/2_View_Reshape_Lab.py")  # another learner, another page, meanwhile
    assert not at.exception and at.title
    t.join()
    assert [f.ending for f in failures] == [Ending.CRASHED, Ending.TIMEOUT]  # type: ignore[attr-defined]
    at.text_input(key="view.shape").set_value("4, -1").run()
    assert not at.exception


def test_a_cancelled_job_ends_at_once_after_its_clean_up(helper: int, tmp_path: Path) -> None:
    """A learner's newer run cancels the job: SIGTERM lets the job's ``finally`` run (a
    DataLoader run ends its workers there), the call returns once its process has ended."""
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    mark = tmp_path / "mark"
    t0 = time.monotonic()
    with pytest.raises(Cancelled, match="you started a newer one"):
        isolate.job("a long job", cancel=cancel).call(jobs.sleep_then_mark, 30, str(mark))
    assert time.monotonic() - t0 < 3
    assert mark.read_text() == "clean-up ran"
    assert isolate.helper_pid() == helper
    assert isolate.job("the next job").call(jobs.echo, "next") == "next"


def test_reusable_jobs_share_a_warm_child_and_untrusted_ones_never_do(helper: int) -> None:
    """The app's own work (reuse=True) runs in a warm child; a job on an upload's bytes
    always in a child that ran nothing before."""
    warm = isolate.job("a grid", reuse=True)
    first = warm.call(jobs.pid)
    assert warm.call(jobs.pid) == first == warm.call(jobs.pid)
    fresh = isolate.job("decoding this upload")
    untrusted = fresh.call(jobs.pid)
    assert untrusted != first and fresh.call(jobs.pid) != untrusted  # each its own child
    assert warm.call(jobs.pid) == first  # the warm one is still there
    assert isolate.helper_pid() == helper


def test_a_warm_child_gives_what_a_fresh_one_gives_and_keeps_its_limits(helper: int) -> None:
    """Global RNGs as a fresh child has them before every job; memory and CPU limits per
    job; a failure ends the warm child (the next job gets another)."""
    fresh = isolate.job("fresh").call(jobs.unseeded)
    warm = isolate.job("warm", reuse=True)
    first = warm.call(jobs.unseeded)
    # numpy's and torch's global state are the helper's, in every child; Python's own
    # `random` is re-seeded by every fork (CPython's at-fork hook), so only within a child
    assert first[1:] == fresh[1:]
    assert warm.call(jobs.unseeded) == first  # the same child again: the same draws
    pid = warm.call(jobs.pid)
    with pytest.raises(SandboxError) as caught:
        Job("a big one", Limits(memory_mb=512), reuse=True).call(jobs.allocate, 4096)
    assert caught.value.ending is Ending.MEMORY
    assert warm.call(jobs.pid) != pid  # it ended with its failure
    pid = warm.call(jobs.pid)
    with pytest.raises(SandboxError) as caught:
        Job("a spin", Limits(cpu_s=1, wall_s=20), reuse=True).call(jobs.spin, 30)
    assert caught.value.ending is Ending.CPU and "more than 1 s of CPU" in caught.value.message
    assert warm.call(jobs.pid) != pid
    assert isolate.helper_pid() == helper


def test_jobs_run_side_by_side_up_to_the_limit() -> None:
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(isolate.job("s").call(jobs.sleep, 0.6)))
        for _ in range(isolate.SANDBOX_MAX_JOBS)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["slept"] * isolate.SANDBOX_MAX_JOBS
    assert time.monotonic() - t0 < 0.6 * isolate.SANDBOX_MAX_JOBS - 0.3  # not one by one


def test_a_dead_helper_is_replaced_on_the_next_job() -> None:
    old = isolate.helper_pid()
    assert old is not None
    os.kill(old, signal.SIGKILL)
    time.sleep(0.2)
    assert isolate.job("after the helper died").call(jobs.echo, 5) == 5
    assert isolate.helper_pid() not in (None, old)


def test_results_are_read_as_plain_data_only() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"may not hold posix\.system"):
        isolate.loads(pickle.dumps(os.system))
    with pytest.raises(pickle.UnpicklingError, match=r"may not hold ptexplore\.isolate\.job"):
        isolate.loads(pickle.dumps(isolate.job))
    limits = Limits(memory_mb=3)
    assert isolate.loads(pickle.dumps(limits)) == limits  # a ptexplore dataclass is data


def test_only_importable_functions_can_be_sent() -> None:
    with pytest.raises(TypeError, match="module-level"):
        isolate.job("a lambda").call(lambda: 1)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def test_a_decode_that_runs_out_of_memory_costs_the_server_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child needs more than its limit and ends; this process's peak memory (reset
    first) does not move: the decoder's buffers were never here."""
    monkeypatch.setattr(decode, "_DECODE_LIMITS", isolate.Limits(memory_mb=64))
    data = _png(5000, 4000)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset this process's peak RSS (VmHWM) to its current RSS
    before = _status_kb("VmRSS")
    with pytest.raises(isolate.SandboxError, match="needed more than 64 MB of memory"):
        decode.decode_upload(data, name="big.png")
    assert (_status_kb("VmHWM") - before) / 1024 < 20  # a 60 MB decode happened elsewhere


def _png(w: int, h: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (90, 120, 30)).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _odd_tensors() -> dict[str, torch.Tensor]:
    dense = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -3.0]])
    scales = torch.tensor([0.1, 0.2])
    return {
        "coo": dense.to_sparse(),
        "empty_coo": torch.zeros(2, 3).to_sparse(),
        "empty": torch.zeros(2, 0, dtype=torch.int64),
        "meta": torch.empty(4, 5, dtype=torch.bfloat16, device="meta"),
        "uncoalesced": torch.sparse_coo_tensor(
            [[0, 0, 1], [1, 1, 2]], [1.0, 2.0, 3.0], (2, 3), check_invariants=True
        ),
        "csr": dense.to_sparse_csr(),
        "csc": dense.to_sparse_csc(),
        "bsr": torch.ones(4, 4).to_sparse_bsr((2, 2)),
        "qint8": torch.quantize_per_tensor(dense, 0.05, 3, torch.qint8),
        "quint8_channel": torch.quantize_per_channel(
            dense, scales, torch.tensor([0, 4]), 0, torch.quint8
        ),
    }


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_sparse_and_quantized_tensors_come_back_equal() -> None:
    sent = _odd_tensors()
    got = isolate.job("odd tensors", Limits()).call(jobs.echo, sent)
    for name, t in sent.items():
        back = got[name]
        assert back.layout == t.layout and back.dtype == t.dtype and back.shape == t.shape, name
        if t.is_quantized:
            assert torch.equal(back.int_repr(), t.int_repr()), name
            assert back.qscheme() == t.qscheme(), name
        elif t.is_meta:
            assert back.is_meta, name
        else:
            assert torch.equal(back.to_dense(), t.to_dense()), name


def test_a_sparse_result_with_indices_out_of_range_is_a_lesson() -> None:
    with pytest.raises(InputError, match="invariants"):
        isolate.job("a damaged sparse tensor", Limits()).call(jobs.bad_sparse)


# ----------------------------------------------------------- big buffers: sealed memfds


def test_big_arguments_and_results_travel_as_sealed_memory_files(helper: int) -> None:
    """A 12 MB tensor and a 1 MB upload there and back, bit-exact; what comes back is this
    process's own (writable, and a write here is not seen by anyone else)."""
    x = torch.arange(3 * 1000 * 1000, dtype=torch.float32)
    data = bytes(range(256)) * 4096
    y, back = isolate.job("echo").call(jobs.echo, (x, data))
    assert torch.equal(x, y) and back == data and type(back) is bytes
    y.add_(1)  # a private copy-on-write mapping
    assert float(y[0]) == 1.0 and float(x[0]) == 0.0


def test_a_shared_buffer_without_its_seals_or_of_another_size_is_refused() -> None:
    n = isolate._SHARED_MIN
    fd = os.memfd_create("test", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, n)
    with pytest.raises(OSError, match="without its seals"):
        isolate._sealed(fd, n)  # closes fd
    fd = os.memfd_create("test", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, n)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, isolate._SEALS)
    with pytest.raises(OSError, match="not the size announced"):
        isolate._sealed(fd, n + 1)
    with pytest.raises(OSError):  # sealed: no process can write it any more
        fd = os.memfd_create("test", os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, n)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, isolate._SEALS)
        try:
            os.pwrite(fd, b"x", 0)
        finally:
            os.close(fd)

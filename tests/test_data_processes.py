"""No orphaned worker processes, ever: after a run, a DataLoader timeout, the lab's hard
time limit, an exception inside ``__getitem__``, and a run cancelled by a newer one.

Every check looks at the operating system (``/proc``), not only at what the DataLoader
believes: the pids the run started must be gone, and this process must have no live
descendant left besides multiprocessing's long-lived helpers (forkserver, resource
tracker)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ptexplore import isolate
from ptexplore.data import workers
from ptexplore.data.loader import LoaderConfig, run_loader
from ptexplore.data.runs import Processes, run_script
from ptexplore.data.workers import alive, descendants, helpers
from ptexplore.errors import Cancelled, LessonError
from ptexplore.ui.slot import RunSlot

_OTHERS: set[int] = set()


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def sandbox() -> set[int]:
    """The sandbox helper and its own children: its forkserver, its resource tracker, the
    child it forks ahead of the next job (and a finished job's child, exiting). Long-lived,
    not a run's: what a run started are the forkserver's children (:func:`assert_all_gone`)."""
    helper = isolate.helper_pid()
    if helper is None:
        return set()
    return {helper} | {p for p in descendants(helper) if _parent(p) == helper}


def leftovers() -> set[int]:
    """Live descendants of this process (the forkserver's children, the workers, included)
    that are not multiprocessing's long-lived helpers themselves, the sandbox's, nor
    processes other fixtures of the session own (a browser test's Streamlit server and
    Chromium)."""
    left = descendants() - helpers() - _OTHERS
    return {p for p in left - sandbox() if alive(p)}  # (a job's child may just have exited)


def assert_all_gone(p: Processes) -> None:
    assert p.started > 0
    assert p.still_alive == ()
    assert not any(alive(pid) for pid in p.pids)
    assert p.server is not None
    assert descendants(p.server.pid) == set()  # no worker of the sandbox's forkserver left
    assert leftovers() == set()


@pytest.fixture(autouse=True)
def _forkserver_up() -> None:
    workers.ensure_forkserver()
    _OTHERS.clear()
    fs = workers.forkserver_pid()
    ours = descendants(fs) if fs else set()  # workers: must be none here, not excluded
    _OTHERS.update(descendants() - helpers() - sandbox() - ours)
    assert leftovers() == set()


def test_nothing_is_left_after_a_run() -> None:
    run = run_loader(LoaderConfig(n=8, num_workers=4, batch_size=1, ms=5))
    assert run.processes.started == 4
    assert run.processes.left_running == 0  # the DataLoader shut its workers down itself
    assert_all_gone(run.processes)


def test_nothing_is_left_after_persistent_workers() -> None:
    run = run_loader(LoaderConfig(num_workers=2, persistent_workers=True, epochs=2, ms=5))
    assert_all_gone(run.processes)


def test_an_exception_in_getitem_surfaces_with_the_workers_message() -> None:
    config = LoaderConfig(n=8, batch_size=2, num_workers=2, shuffle=False, fail_at=5, ms=5)
    t0 = time.perf_counter()
    run = run_loader(config)
    # the iterator is shut down explicitly: left to the garbage collector, torch's join
    # waited 5 s per worker (10 s for this run) before the page could show the error
    assert time.perf_counter() - t0 < 4.0
    assert run.failure is not None
    # idx 5 is in batch 2 (0-based) → built by worker 0 (round robin)
    assert run.failure.first_line == "Caught ValueError in DataLoader worker process 0."
    assert run.failure.worker_line == "ValueError: item 5 is corrupt (Instrumented(fail_at=5))"
    assert run.failure.worker == 0
    assert [b.indices for b in run.batches] == [(0, 1), (2, 3)]  # yielded before it
    assert "the worker said: ValueError: item 5 is corrupt" in run.snippet.output
    assert_all_gone(run.processes)


def test_an_exception_in_getitem_without_workers() -> None:
    run = run_loader(LoaderConfig(n=8, num_workers=0, shuffle=False, fail_at=3, ms=0))
    assert run.failure is not None and run.failure.worker is None
    assert run.failure.first_line == "item 3 is corrupt (Instrumented(fail_at=3))"
    assert run.processes.started == 0


SLOW = """
import torch
from torch.utils.data import DataLoader
from ptexplore.data.datasets import Instrumented, MyDataset, Sleep

if __name__ == "__main__":  # the workers import this script (forkserver)
    dataset = Instrumented(MyDataset(torch.zeros(8, 1), torch.arange(8)), cost=Sleep(ms={ms}))
    loader = DataLoader(dataset, batch_size=1, num_workers=2, timeout={timeout},
                        multiprocessing_context="forkserver")
    seen = [int(y) for _, y, _ in loader]
"""


def test_a_dataloader_timeout_raises_and_leaves_nothing() -> None:
    t0 = time.monotonic()
    seen, script = run_script(SLOW.format(ms=1500, timeout=0.5), lambda ns: ns.get("seen"))
    assert seen is None  # the loop never finished
    assert script.error is not None
    assert script.error.line == "RuntimeError: DataLoader timed out after 0.5 seconds"
    assert time.monotonic() - t0 < 15
    assert_all_gone(script.processes)


def test_the_hard_time_limit_stops_the_workers() -> None:
    t0 = time.monotonic()
    _, script = run_script(SLOW.format(ms=800, timeout=2), lambda ns: None, limit_s=0.5)
    assert script.processes.stopped_by == "time limit"
    assert script.error is not None and "exited unexpectedly" in script.error.message
    assert time.monotonic() - t0 < 15
    assert_all_gone(script.processes)


def test_the_hard_time_limit_is_a_lesson_error_on_the_page() -> None:
    config = LoaderConfig(n=16, batch_size=1, num_workers=2, ms=200)
    with pytest.raises(LessonError, match=r"hard limit of 0\.4 s"):
        run_loader(config, limit_s=0.4)
    assert leftovers() == set()


def test_a_newer_run_of_the_same_session_cancels_the_one_in_flight() -> None:
    slot = RunSlot()
    slow = LoaderConfig(n=16, batch_size=1, num_workers=2, ms=200)
    errors: list[BaseException] = []

    def first() -> None:
        try:
            slot.run(slow, lambda cancel: run_loader(slow, cancel=cancel))
        except BaseException as err:  # the test inspects it
            errors.append(err)

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 30
    while not slot.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # the first run's workers are up and sleeping
    quick = LoaderConfig(n=4, num_workers=0, ms=0)
    t0 = time.monotonic()
    result = slot.run(quick, lambda cancel: run_loader(quick, cancel=cancel))
    waited = time.monotonic() - t0
    thread.join(30)
    assert result.yielded == result.planned
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)
    assert waited < 12  # it did not wait for the first run's 1.6 s of sleeps per worker…
    assert leftovers() == set()  # … and no process of the cancelled run is left


def test_the_same_config_reuses_the_finished_result() -> None:
    slot = RunSlot()
    calls: list[int] = []

    def job(_cancel: threading.Event) -> int:
        calls.append(1)
        return len(calls)

    assert slot.run("a", job) == 1
    assert slot.run("a", job) == 1  # same key: reused, nothing ran
    assert slot.run("b", job) == 2


def test_only_this_threads_processes_are_counted() -> None:
    """Two runs at once in two threads: each run counts (and ends) only its own workers."""
    results: dict[str, Processes] = {}

    def go(name: str, workers_: int) -> None:
        run = run_loader(LoaderConfig(n=8, num_workers=workers_, batch_size=1, ms=20))
        results[name] = run.processes

    threads = [threading.Thread(target=go, args=(n, w)) for n, w in (("a", 1), ("b", 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["a"].started == 1 and results["b"].started == 3
    assert not set(results["a"].pids) & set(results["b"].pids)
    assert leftovers() == set()


def test_a_new_run_waits_long_enough_for_any_previous_run_to_end() -> None:
    """A previous run may be queued for the semaphore, then run up to the hard limit."""
    from ptexplore import limits

    assert limits.DATA_SESSION_WAIT_S >= limits.HEAVY_WAIT_S + limits.DATA_RUN_LIMIT_S
    assert limits.DATA_MAX_WORKERS == 4


def test_a_run_whose_process_crashes_is_a_lesson_and_its_workers_end(tmp_path: Path) -> None:
    """The run's main process segfaults with two workers running: a lesson, the workers
    end by themselves (each watches the process that started it), the next run works."""
    from ptexplore.data.runs import sandboxed
    from tests import sandbox_jobs as jobs

    out = tmp_path / "pids"
    with pytest.raises(isolate.SandboxError) as caught:
        sandboxed(None).call(jobs.workers_then_crash, str(out))
    assert caught.value.ending is isolate.Ending.CRASHED
    assert caught.value.message.startswith("This DataLoader run crashed the process it ran in")
    pids = [int(p) for p in out.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)
    run = run_loader(LoaderConfig(n=4, num_workers=2, batch_size=1, ms=0))
    assert run.yielded == run.planned
    assert_all_gone(run.processes)

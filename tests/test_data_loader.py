"""The DataLoader run, for real: call order vs sampler order, round-robin workers, the
prefetch rule, persistent workers, drop_last, torch's refusals and the lab's limits."""

from __future__ import annotations

import dataclasses
import os

import plotly.graph_objects as go
import pytest

from ptexplore import isolate
from ptexplore.data.figures import prefetch_counts, prefetch_figure, timeline_figure
from ptexplore.data.loader import LoaderConfig, LoaderRun, Work, check, loader_code, run_loader
from ptexplore.errors import InputError


def _overlap(run: LoaderRun, a: int, b: int) -> bool:
    """Did some call of worker ``a`` run while a call of worker ``b`` was running?"""
    xs = [c for c in run.calls if c.worker == a]
    ys = [c for c in run.calls if c.worker == b]
    return any(x.start < y.end and y.start < x.end for x in xs for y in ys)


def test_without_workers_the_call_order_is_the_sampler_order() -> None:
    run = run_loader(LoaderConfig(n=10, batch_size=3, num_workers=0, ms=5, seed=3))
    assert run.planned == run.yielded == run.called
    assert sorted(run.planned) == list(range(10)) and run.planned != tuple(range(10))
    assert {c.worker for c in run.calls} == {-1}  # get_worker_info() is None
    # every item in the run's one main process: its sandboxed process, not this one
    (main,) = {c.pid for c in run.calls}
    assert main not in (os.getpid(), isolate.helper_pid())
    assert [len(b.indices) for b in run.batches] == [3, 3, 3, 1]
    assert run.processes.started == 0
    assert "called in order: " + str(list(run.called)) in run.snippet.output


@pytest.mark.parametrize("workers", [2, 3])
def test_with_workers_batches_come_out_in_sampler_order_round_robin(workers: int) -> None:
    config = LoaderConfig(n=12, batch_size=2, num_workers=workers, ms=30, seed=1)
    run = run_loader(config)
    assert run.yielded == run.planned  # still the sampler's order …
    assert run.in_sampler_order
    assert [b.worker for b in run.batches] == [k % workers for k in range(6)]  # … round robin
    for b in run.batches:  # every batch is built by one worker, in one process
        assert {c.worker for c in run.calls if c.batch == b.position} == {b.worker}
    pids = {b.worker: b.pid for b in run.batches}
    assert len(set(pids.values())) == workers and os.getpid() not in pids.values()
    assert set(run.processes.pids) == set(pids.values())
    assert _overlap(run, 0, 1)  # worker processes run at the same time: calls interleave
    line = "worker per batch: " + str([k % workers for k in range(6)])
    assert line in run.snippet.output and "yielded in sampler order: True" in run.snippet.output


def test_a_batch_is_dispatched_only_after_the_one_prefetch_slots_before_it() -> None:
    """prefetch_factor × num_workers batches in flight: batch j starts being built only
    after the main process asked for batch j - prefetch_factor × num_workers."""
    config = LoaderConfig(n=16, batch_size=1, num_workers=2, prefetch_factor=2, ms=5, step_ms=40)
    run = run_loader(config)
    ahead = config.prefetch_factor * config.num_workers
    b = run.batches
    for j in range(ahead, len(b)):
        assert b[j].first_start >= b[j - ahead].asked
        # measured dispatch (the sampler's last index drawn): while batch j - ahead was
        # being received, i.e. after it was asked for and before next() returned it
        assert b[j - ahead].asked <= b[j].dispatched <= b[j - ahead].got
    for j in range(len(b)):
        assert b[j].dispatched <= b[j].first_start  # no worker starts before its indices
    assert all(x.dispatched <= run.epochs[0].ready for x in b[:ahead])  # filled by iter()
    _times, flight, ready = prefetch_counts(run)
    # the queue is kept full; measured, the next batch is dispatched just before next()
    # hands back the received one, so for that instant one more counts as not yet yielded
    assert max(flight) == ahead + 1 and flight.count(ahead + 1) <= len(b)
    assert max(ready) >= 2  # a slow training step lets built batches wait in the queue


def test_persistent_workers_keep_their_processes_between_epochs() -> None:
    kept = run_loader(LoaderConfig(epochs=2, persistent_workers=True, ms=5))
    assert kept.processes.started == 2
    by_epoch = [{b.pid for b in kept.batches if b.epoch == e} for e in (0, 1)]
    assert by_epoch[0] == by_epoch[1]
    fresh = run_loader(LoaderConfig(epochs=2, persistent_workers=False, ms=5))
    assert fresh.processes.started == 4  # new workers every epoch
    # each epoch is in its own sampler order (the sampler's generator moved on)
    assert fresh.epochs[0].planned != fresh.epochs[1].planned
    assert fresh.yielded == fresh.planned


def test_drop_last_drops_the_incomplete_batch() -> None:
    run = run_loader(LoaderConfig(n=7, batch_size=2, drop_last=True, num_workers=0, ms=0))
    assert [len(b.indices) for b in run.batches] == [2, 2, 2]
    assert len(run.dropped) == 1 and run.dropped[0] not in run.yielded


def test_photos_are_decoded_and_augmented_in_the_workers() -> None:
    run = run_loader(LoaderConfig(n=4, batch_size=2, work=Work.PHOTO, num_workers=2))
    assert run.yielded == run.planned and run.failure is None
    assert all(c.end > c.start for c in run.calls)
    assert "v2.RandomResizedCrop(size=224)" in run.snippet.code  # the lab's train pipeline


def test_persistent_workers_without_workers_is_torchs_own_refusal() -> None:
    run = run_loader(LoaderConfig(num_workers=0, persistent_workers=True))
    assert run.refusal is not None
    assert run.refusal.line == "ValueError: persistent_workers option needs num_workers > 0"
    assert run.snippet.output.endswith(run.refusal.line + "\n")


def test_the_lab_refuses_work_over_its_budget_before_starting_anything() -> None:
    with pytest.raises(InputError, match=r"plans 25\.6 s of work"):
        check(LoaderConfig(n=64, ms=200, epochs=2))
    with pytest.raises(InputError, match="num_workers = 5"):
        check(LoaderConfig(num_workers=5))
    with pytest.raises(InputError, match="fail_at = 8"):
        check(LoaderConfig(n=8, fail_at=8))


def test_the_script_is_the_same_text_for_the_same_config_and_prints_no_timings() -> None:
    config = LoaderConfig(num_workers=2, epochs=2, step_ms=10)
    code = loader_code(config)
    assert code == loader_code(config)
    assert 'multiprocessing_context="forkserver"' in code and "timeout=" in code
    assert 'if __name__ == "__main__":' in code and "class Instrumented(" in code
    a, b = (
        run_loader(config),
        run_loader(LoaderConfig(num_workers=2, epochs=2, step_ms=10, rerun=1)),
    )
    assert a.snippet.output == b.snippet.output  # orders and worker ids, never times


def test_figures_are_valid_plotly() -> None:
    run = run_loader(LoaderConfig(epochs=2, ms=5, step_ms=5))
    fig = go.Figure(timeline_figure(run))
    names = [t.name for t in fig.data]
    assert "__getitem__(idx) (colour = batch)" in names
    items = next(t for t in fig.data if t.name.startswith("__getitem__"))
    assert len(items.x) == len(run.calls) == 16
    assert set(items.y) == {"worker 0", "worker 1"}
    go.Figure(prefetch_figure(run))


def test_in_order_false_yields_batches_as_workers_finish_them() -> None:
    """torch ≥ 2.6 in_order=False: with uneven items later batches overtake; the same run
    with the default in_order=True is back in the sampler's order. Either way each batch
    holds the sampler's indices, and a batch is dispatched before a worker starts it."""
    config = LoaderConfig(n=8, batch_size=1, num_workers=2, work=Work.VARIABLE, ms=100, seed=0)
    free = run_loader(dataclasses.replace(config, in_order=False))
    assert "in_order=False," in free.snippet.code
    assert not free.in_sampler_order and sorted(free.yielded) == sorted(free.planned)
    assert "yielded in sampler order: False" in free.snippet.output
    assert all(b.dispatched <= b.first_start for b in free.batches)  # matched by indices
    kept = run_loader(config)
    assert kept.in_sampler_order and "in_order" not in kept.snippet.code

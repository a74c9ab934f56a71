"""Many learners, one process: the Autograd lab's library paths run from 8 threads at once
give exactly the single-thread result (values and printed code-panel output). The freezing
path draws Dropout masks from torch's global RNG, under ptexplore.rng.seeded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ptexplore.autograd.detach import CutAt, Fn, GraphConfig, run_graph_lab
from ptexplore.autograd.freeze import FreezeConfig, FreezeMode, run_freeze
from ptexplore.autograd.truths import SavesOutput, Truth, TruthConfig, Write, run_truth

THREADS, RUNS = 8, 6


def fingerprint() -> object:
    out: list[object] = []
    for cut in (CutAt.NONE, CutAt.DETACH_W, CutAt.NEW_LEAF, CutAt.NO_GRAD_Z):
        g = run_graph_lab(GraphConfig(x_grad=True, fn=Fn.SIGMOID, cut=cut))
        out.append((g.dot, tuple((x.name, x.grad) for x in g.leaves), g.snippet.output))
    for truth in Truth:
        t = run_truth(TruthConfig(truth, SavesOutput.TANH, Write.DOUBLE))
        out.append((tuple((c.key, c.holds) for c in t.checks), t.grads, t.snippet.output))
    f = run_freeze(FreezeConfig("example:SmallVGG", 10, FreezeMode.NONE, side=32))
    out.append((tuple((p.name, p.grad_norm) for p in f.params), f.loss, f.snippet.output))
    return out


def test_eight_threads_give_the_single_thread_result() -> None:
    want = fingerprint()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: fingerprint(), range(THREADS * RUNS)))
    assert all(r == want for r in results)

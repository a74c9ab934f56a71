"""Many learners, one process: every page's library path run from 8 threads at once, 50
times, gives exactly the single-thread result — values, notes, warnings and the printed
output of its code panel. (Addresses and ids differ from run to run by nature; they are
left out of each fingerprint.)"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import torch

from ptexplore import live
from ptexplore.augment.export import export_output
from ptexplore.augment.pipeline import train_preset, val_preset
from ptexplore.augment.preview import run_grid
from ptexplore.augment.truths import train_vs_val
from ptexplore.images.decode import decode_image_bytes
from ptexplore.images.samples import sample_bytes
from ptexplore.memory import TensorFacts
from ptexplore.models import catalog, iterators, params, shapes
from ptexplore.tensors import (
    Action,
    Bridge,
    ErrorCase,
    ItemDtype,
    ItemShape,
    LabSpec,
    Layout,
    NpDtype,
    code_for,
    item_lesson,
    new_lab,
    run_error_lesson,
)
from ptexplore.view import LabConfig, Method, PreOp, run_lab

THREADS, RUNS = 8, 50


def _facts(f: TensorFacts | None) -> object:
    if f is None:
        return None
    return (f.shape, f.stride, f.storage_offset, f.is_contiguous, f.values, f.positions, f.text)


def tensors_path() -> object:
    out: list[object] = []
    mutate = ((Action.NP_IADD, 0.0), (Action.T_SET, 7.0), (Action.NP_REBIND, 0.0))
    for spec, actions in (
        (LabSpec((3, 4), NpDtype.FLOAT32, Layout.CONTIGUOUS, Bridge.FROM_NUMPY), mutate),
        (  # a read-only array shared with its tensor: torch's once-per-process warning
            LabSpec((2, 3), NpDtype.UINT8, Layout.READ_ONLY, Bridge.AS_TENSOR),
            ((Action.T_ADD, 0.0), (Action.T_SET, 255.0), (Action.T_ADD, 0.0)),
        ),
        (LabSpec((2, 2), NpDtype.FLOAT64, Layout.TRANSPOSED, Bridge.TENSOR), mutate),
    ):
        lab = new_lab(spec)
        for action, value in actions:
            lab.apply(action, value)
        rep = lab.report()
        out.append(
            (
                lab.a.tolist(),
                lab.t.tolist(),
                tuple(lab.notes),
                [(r.code, r.a_changed, r.t_changed, r.followed, r.wrap_note) for r in lab.history],
                (rep.verdict, rep.shares_memory, rep.same_ptr, rep.explanation),
                live.snippet(code_for(lab)).output,
            )
        )
    for case in ErrorCase:
        lesson = run_error_lesson(case)
        out.append((lesson.outcome, lesson.error_type, lesson.message, lesson.fix_result))
        out.append(lesson.fix_shares)
        out.append(None if lesson.snippet is None else lesson.snippet.output)
    res = item_lesson(ItemShape.TWO_TWO, ItemDtype.FLOAT32, 0.1)
    out.append((res.error_message, res.tolist_repr, res.note, res.snippet))
    return out


def view_path() -> object:
    out: list[object] = []
    for config, writes in (
        (LabConfig((3, 2), target=(2, -1)), [(4, 100)]),
        (LabConfig((2, 3, 4), op=PreOp.TRANSPOSE, method=Method.VIEW, target=(24,)), []),
        (LabConfig((3, 4), op=PreOp.SLICE, start=1, step=2, method=Method.VIEW_FLAT), [(0, 9)]),
    ):
        r = run_lab(config, writes)
        out.append(
            (
                _facts(r.source),
                _facts(r.result),
                r.failure,
                r.inference,
                r.sharing,
                r.verdict,
                r.numpy,
                r.written_positions,
                r.snippet,
            )
        )
    return out


def models_path() -> object:
    out: list[object] = []
    for key in ("example:Model", "example:SharedLayerNet"):
        model = catalog.build_meta(key).model
        table = params.param_table(model)
        report = shapes.trace(key)
        values = params.param_values(key, None, table.rows[0].name, seed=3)
        view = iterators.iterator_view(model, iterators.IteratorKind.NAMED_CHILDREN)
        out.append(
            (
                table,
                [(r.qualname, r.output_shape, r.macs) for r in report.rows],
                (values.mean, values.std, values.hist_counts, values.values[:50]),
                [i.text for i in view.items],
            )
        )
    return out


IMAGE = decode_image_bytes(sample_bytes("astronaut.jpg"), name="astronaut.jpg")


def augment_path() -> object:
    out: list[object] = []
    for pipeline in (train_preset(), val_preset()):
        grid = run_grid(pipeline, IMAGE.pixels, seed=3, n=4, trace_index=1)
        out.append(
            (export_output([s.tensor for s in grid.samples]), [s.caption for s in grid.samples])
        )
        out.append([t.caption for t in grid.trace])
    for p in train_vs_val(IMAGE.pixels, seed=5, k=3):
        out.append((p.distinct, [float(s.tensor.double().sum()) for s in p.grid.samples]))
    return out


#: The mechanism under every page's code: a snippet whose torch warnings repeat on every
#: run (the autograd lab's non-leaf .grad warning among them) and whose prints are captured.
SNIPPET = """\
import torch
t = torch.tensor(torch.ones(2))  # torch warns: use clone().detach()
y = torch.ones(2, requires_grad=True) * 2
print(y.grad, t.sum().item())  # torch warns: .grad of a non-leaf tensor
"""


def live_path() -> object:
    ran = live.run(SNIPPET)
    return (ran.stdout, ran.error, ran.warnings)


PATHS: dict[str, Callable[[], object]] = {
    "live": live_path,
    "tensors": tensors_path,
    "view": view_path,
    "models": models_path,
    "augment": augment_path,
}


def _captured(path: Callable[[], object]) -> tuple[object, tuple[str, ...]]:
    """The path's result and every warning it emitted in this thread."""
    with live.capture_warnings() as caught:
        result = path()
    return result, tuple(sorted({w.line for w in caught}))


@pytest.mark.parametrize("page", list(PATHS))
def test_eight_threads_fifty_times_give_the_single_thread_result(page: str) -> None:
    path = PATHS[page]
    torch.set_num_threads(1)
    _captured(path)  # torch prints some warnings only once per process (TORCH_WARN_ONCE)
    single = _captured(path)  # the steady state every later learner sees
    with warnings.catch_warnings():  # nothing the paths emit may escape the capture either
        warnings.simplefilter("error")
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda _: _captured(path), range(RUNS)))
    different = [i for i, r in enumerate(results) if _eq(r, single) is False]
    assert different == [], f"{len(different)} of {RUNS} concurrent runs differ"


def _eq(a: Any, b: Any) -> bool:
    """Equality that compares tensors by value (frozen results hold some)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)

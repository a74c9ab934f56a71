"""Many learners, one process: the Checkpoint lab's save, inspect and load lessons run from
8 threads at once give exactly the single-thread result — the same files, the same
comparison, the same tensors changed and the same printed code-panel output. Each run
builds its own private models, so one learner's load can never show in another's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ptexplore.checkpoints.lessons import Made, Origin, SavedAs
from ptexplore.checkpoints.recipes import Lesson, LoadConfig, run_load
from ptexplore.checkpoints.save import SaveConfig, run_save
from ptexplore.checkpoints.survey import InspectConfig, run_inspect

THREADS, RUNS = 8, 4
MODEL = "example:SmallVGG"


def fingerprint(lesson: Lesson) -> object:
    r = run_load(LoadConfig(target=MODEL, num_classes=10, source_classes=1000, lesson=lesson))
    p = r.proof
    return (
        r.refusal.message if r.refusal else None,
        r.incompatible,
        (p.changed, p.expected, p.equal_to_checkpoint, p.rest_untouched, p.already),
        r.snippet.output,
    )


def save_and_inspect(seed: int) -> object:
    s = run_save(SaveConfig(MODEL, 10, seed=seed))
    made = Made(MODEL, 1000, SavedAs.FP16, seed=seed)
    i = run_inspect(InspectConfig(origin=Origin.MADE, made=made))
    assert i.inspection is not None and i.snippet is not None
    return (s.pth_name, s.snippet.output, i.snippet.output, i.inspection.tensors)


def test_eight_threads_give_the_single_thread_result() -> None:
    jobs = [("load", lesson) for lesson in Lesson] + [("save", 0), ("save", 7)]

    def run(job: tuple[str, object]) -> object:
        kind, arg = job
        return fingerprint(arg) if kind == "load" else save_and_inspect(arg)  # type: ignore[arg-type]

    want = {job: run(job) for job in jobs}
    # the lessons differ from one another: a leak between learners would show
    assert len({repr(want[("load", lesson)][2]) for lesson in Lesson}) > 2
    many = jobs * RUNS
    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(run, many))
    for job, result in zip(many, got, strict=True):
        assert result == want[job], job

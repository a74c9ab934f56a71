"""The lessons around the run: the Dataset pattern and ``len(self.data.shape[0])``, worker
randomness (the duplicates and the fix), augmentation across epochs, the random_split
transform trap, ConcatDataset's index mapping and the num_workers sweep."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
import torch
from torch.utils.data import ConcatDataset

from ptexplore.data.datasets import BrokenLenDataset, MyDataset, Sleep
from ptexplore.data.figures import seeds_figure, sweep_figure
from ptexplore.data.lessons import (
    ConcatConfig,
    DatasetConfig,
    SplitConfig,
    concat_lesson,
    dataset_lesson,
    split_lesson,
)
from ptexplore.data.parallel import (
    EpochsConfig,
    SeedsConfig,
    SweepConfig,
    epochs_lesson,
    seeds_lesson,
    sweep,
)
from ptexplore.errors import InputError


def test_len_of_shape_0_is_a_type_error_and_len_of_data_is_the_count() -> None:
    data, targets = torch.rand(8, 1, 2, 2), torch.arange(8)
    assert len(MyDataset(data, targets)) == 8
    with pytest.raises(TypeError, match="object of type 'int' has no len"):
        len(BrokenLenDataset(data, targets))
    lesson = dataset_lesson(DatasetConfig(n=8, index=3, seed=0))
    assert lesson.length == 8 and lesson.item_shape == (1, 2, 2) and lesson.target == 3
    assert lesson.refusal.line == "TypeError: object of type 'int' has no len()"
    assert "return len(self.data)" in lesson.source
    assert "len(self.data.shape[0])" in lesson.broken_len
    assert lesson.snippet.output.endswith("TypeError: object of type 'int' has no len()\n")
    expected = torch.rand(8, 1, 2, 2, generator=torch.Generator().manual_seed(0))[3]
    assert lesson.item_values == tuple(round(float(v), 4) for v in expected.flatten())


def test_a_transform_is_applied_per_item_and_a_sleep_cost_is_real() -> None:
    ds = MyDataset(torch.arange(4.0).reshape(1, 1, 2, 2), torch.arange(1), transform=torch.neg)
    assert ds[0][0].flatten().tolist() == [-0.0, -1.0, -2.0, -3.0]
    assert Sleep(20).seconds(5) == 0.02
    spread = [Sleep(20, spread=0.8).seconds(i) for i in range(32)]
    assert 0.0039 <= min(spread) < max(spread) <= 0.036 and len(set(spread)) > 20


def test_numpy_draws_repeat_across_workers_until_seeded_from_torch() -> None:
    lesson = seeds_lesson(SeedsConfig(n=16, num_workers=2, batch_size=2, seed=0))
    none, naive, fix = (
        lesson.result(n) for n in ("None", "seed_numpy_naively", "seed_from_worker_info")
    )
    # the dataset's own Generator is copied into both workers: each value twice
    assert none.count("owned").distinct == 8 and none.count("owned").repeated == 16
    first = {r.worker: r.owned for r in none.rows if r.idx in (0, 2)}
    assert first[0] == first[1]  # worker 0's first draw == worker 1's first draw
    # torch ≥ 1.9 seeds numpy's global RNG per worker, and torch's own RNG is per worker
    assert none.count("np_global").repeated == 0 and none.count("torch").repeated == 0
    # one constant seed in every worker: numpy's global draws repeat too
    assert naive.count("np_global").repeated == 16 and naive.count("owned").repeated == 16
    # the fix: the dataset's copy seeded from get_worker_info().seed, nothing repeats
    assert all(c.repeated == 0 and c.distinct == 16 for c in fix.counts)
    # numpy's global RNG was not touched by the fix: the DataLoader's own seeding
    assert [r.np_global for r in none.rows] == [r.np_global for r in fix.rows]
    # torch's draws do not depend on the worker_init_fn
    assert [r.torch for r in none.rows] == [r.torch for r in fix.rows]
    assert "worker_init_fn=seed_from_worker_info:" in lesson.snippet.output
    # base_seed is drawn each time workers start: every epoch, unless persistent_workers
    off, on = lesson.epochs
    assert (off.persistent, on.persistent) == (False, True)
    assert off.new_each_epoch and not on.new_each_epoch
    assert off.seeds[0][1] == off.seeds[0][0] + 1  # base_seed + worker_id
    assert "persistent_workers=False: new worker seeds in epoch 1: True" in lesson.snippet.output
    assert "persistent_workers=True: new worker seeds in epoch 1: False" in lesson.snippet.output
    # an IterableDataset through 2 workers: every item twice, unless split by worker
    naive, split = lesson.streams
    assert (naive.dataset, split.dataset) == ("CountTo", "CountToSplit")
    assert sorted(naive.items) == sorted(list(range(8)) * 2) and naive.duplicates == 8
    assert sorted(split.items) == list(range(8)) and split.duplicates == 0
    assert "CountTo(8): 16 items, 8 distinct" in lesson.snippet.output
    assert lesson.processes.still_alive == ()
    go.Figure(seeds_figure(lesson))


def test_with_four_workers_four_copies_of_the_stream() -> None:
    lesson = seeds_lesson(SeedsConfig(n=16, num_workers=4, batch_size=2, seed=5))
    assert lesson.result("None").count("owned").distinct == 4


def test_augmentation_does_not_grow_the_dataset_but_changes_every_epoch() -> None:
    lesson = epochs_lesson(EpochsConfig(n=4, epochs=2, seed=0))
    assert lesson.lengths == (4, 4) and lesson.seen == (4, 4)
    for prints in lesson.fingerprints:
        assert len(set(prints)) == 2  # idx k: a new sample in epoch 2
    assert all(img.shape == (224, 224, 3) for row in lesson.images for img in row)
    again = epochs_lesson(EpochsConfig(n=4, epochs=2, seed=0))
    assert again.fingerprints == lesson.fingerprints  # seeded: the same on every run
    assert lesson.snippet.output == again.snippet.output


def test_random_split_shares_one_dataset_so_val_transform_changes_train() -> None:
    lesson = split_lesson(SplitConfig(n=8, val=2, seed=0))
    assert lesson.same_dataset
    assert sorted(lesson.train_indices + lesson.val_indices) == list(range(8))
    first = lesson.train_indices[0]
    plain = [4.0 * first + k for k in range(4)]
    flipped = [plain[1], plain[0], plain[3], plain[2]]
    assert list(lesson.before) == flipped  # augmented (flipped)
    assert list(lesson.after) == plain == list(lesson.plain)  # the trap: not any more
    for train_x, val_x in (lesson.two_datasets, lesson.wrapper):
        assert list(train_x) == flipped  # training still augmented …
        v = lesson.val_indices[0]
        assert list(val_x) == [4.0 * v + k for k in range(4)]  # … validation plain
    with pytest.raises(InputError):
        split_lesson(SplitConfig(n=8, val=8))


def test_concat_maps_a_global_index_to_dataset_and_local_index() -> None:
    lesson = concat_lesson(ConcatConfig(n=6, index=7))
    assert lesson.lengths == (6, 6, 12) and lesson.cumulative_sizes == (6, 12)
    assert lesson.picked is not None
    assert (lesson.picked.dataset, lesson.picked.local, lesson.picked.target) == (1, 1, 1)
    assert [(r.dataset, r.local) for r in lesson.rows] == [(0, i) for i in range(6)] + [
        (1, i) for i in range(6)
    ]
    assert all(r.matches for r in lesson.rows)
    # torch's own mapping agrees: both[g] is datasets[d][local]
    both = ConcatDataset([MyDataset(torch.arange(24.0).reshape(6, 1, 2, 2), torch.arange(6))] * 2)
    assert int(both[7][1]) == 1
    neg = concat_lesson(ConcatConfig(n=6, index=-3)).picked
    assert neg is not None and (neg.dataset, neg.local) == (1, 3)
    past = concat_lesson(ConcatConfig(n=6, index=12))
    assert past.refusal is not None and past.refusal.line == "IndexError: list index out of range"
    before = concat_lesson(ConcatConfig(n=6, index=-13))
    assert before.refusal is not None and before.refusal.kind == "ValueError"
    assert "both[7] -> datasets[1] (original), item 1" in lesson.snippet.output


def test_sweep_runs_every_num_workers_and_keeps_the_order() -> None:
    result = sweep(SweepConfig(n=8, ms=10, batch_size=2, max_workers=2))
    assert [p.workers for p in result.points] == [0, 1, 2]
    assert all(p.in_order and 0 < p.first_s <= p.total_s for p in result.points)
    assert result.points[0].item_s >= 8 * 0.01 * 0.9  # the sleeps really happened
    assert result.processes.started == 3 and result.processes.still_alive == ()
    go.Figure(sweep_figure(result))

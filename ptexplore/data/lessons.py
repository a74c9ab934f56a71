"""The lessons that need no worker process: the Dataset pattern (and ``len()`` done wrong),
the ``random_split`` transform trap, and ``ConcatDataset``'s index mapping.

Each lesson is a script generated from its config and run with
:func:`ptexplore.live.run` in the calling thread; its results are read off the objects it
left behind. Nothing here touches a global RNG: data come from seeded generators or
``torch.arange``, and the stand-in augmentation is a deterministic horizontal flip
(``v2.functional.horizontal_flip``), so a printout is the same on every run.
"""

from __future__ import annotations

import bisect
import inspect
import re
from dataclasses import dataclass

import torch
from torch.utils.data import ConcatDataset

from ptexplore import live
from ptexplore.data import datasets
from ptexplore.errors import InputError, Refusal
from ptexplore.i18n import _
from ptexplore.limits import DATA_MAX_ITEMS
from ptexplore.live import Snippet, source


def _check_n(n: int, *, low: int = 1) -> None:
    if not low <= n <= DATA_MAX_ITEMS:
        raise InputError(
            _("{n} items is outside {low}…{high}.").format(n=n, low=low, high=DATA_MAX_ITEMS),
            fix=_("Pick between {low} and {high} items.").format(low=low, high=DATA_MAX_ITEMS),
        )


def _values(t: torch.Tensor) -> list[float]:
    return [round(float(v), 4) for v in t.flatten().tolist()]


# ------------------------------------------------------------------- the Dataset pattern


@dataclass(frozen=True, slots=True)
class DatasetConfig:
    n: int = 8
    index: int = 3
    seed: int = 0


@dataclass(frozen=True, slots=True)
class DatasetLesson:
    config: DatasetConfig
    source: str  # MyDataset's code, as it is in ptexplore/data/datasets.py
    broken_len: str  # BrokenLenDataset's __len__
    length: int
    item_shape: tuple[int, ...]
    item_values: tuple[float, ...]
    target: int
    refusal: Refusal  # what len(BrokenLenDataset(...)) raised
    snippet: Snippet


_IMPORT = re.compile(r"^from ptexplore\.data\.datasets import (.+)$", re.M)


def _pasted(code: str) -> str:
    """The script with its ``from ptexplore.data.datasets import …`` line replaced by the
    classes themselves (:func:`ptexplore.live.source.definitions`): it runs where only
    torch, torchvision, numpy and PIL are installed."""
    found = _IMPORT.search(code)
    assert found is not None, code
    head, body = code[: found.start()], code[found.end() :].lstrip("\n")
    defined = source.definitions(datasets, [n.strip() for n in found.group(1).split(",")])
    return source.script(head.splitlines(), body, defined=defined)


def dataset_code(c: DatasetConfig) -> str:
    return _pasted(f"""import torch

from ptexplore.data.datasets import BrokenLenDataset, MyDataset

data = torch.rand({c.n}, 1, 2, 2, generator=torch.Generator().manual_seed({c.seed}))
targets = torch.arange({c.n})
dataset = MyDataset(data, targets)  # no transform
print("len(dataset) =", len(dataset))
x, y = dataset[{c.index}]
print("dataset[{c.index}] -> x of shape", tuple(x.shape), "and y =", int(y))
print("x =", [round(v, 4) for v in x.flatten().tolist()])
print("data.shape[0] =", data.shape[0], "is an", type(data.shape[0]).__name__)

broken = BrokenLenDataset(data, targets)
print("len(broken) =", len(broken))
""")


def dataset_lesson(config: DatasetConfig) -> DatasetLesson:
    _check_n(config.n)
    if not 0 <= config.index < config.n:
        raise InputError(
            _("Index {index} is not in the dataset (0…{last}).").format(
                index=config.index, last=config.n - 1
            ),
            fix=_("Pick an index below the number of items."),
        )
    code = dataset_code(config)
    ran = live.run(code)
    x, y = ran.namespace["x"], ran.namespace["y"]
    error = ran.error
    assert error is not None and error.kind == "TypeError", ran.output
    refusal = Refusal(
        error.kind,
        error.message,
        _(
            "`data.shape[0]` is already the number of samples, an `int`; `len()` of an int "
            "is a TypeError. DataLoader calls `len(dataset)` to build its sampler, so this "
            "breaks every loader built on the dataset."
        ),
        _("Return `len(self.data)` (or `self.data.shape[0]`, without `len`)."),
    )
    return DatasetLesson(
        config=config,
        source=inspect.getsource(datasets.MyDataset),
        broken_len=inspect.getsource(datasets.BrokenLenDataset),
        length=int(ran.namespace["dataset"].__len__()),
        item_shape=tuple(x.shape),
        item_values=tuple(_values(x)),
        target=int(y),
        refusal=refusal,
        snippet=Snippet(code, ran.output),
    )


# ----------------------------------------------------------------- the random_split trap


@dataclass(frozen=True, slots=True)
class SplitConfig:
    n: int = 8
    val: int = 2
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SplitLesson:
    config: SplitConfig
    train_indices: tuple[int, ...]
    val_indices: tuple[int, ...]
    same_dataset: bool
    before: tuple[float, ...]  # train[0]'s x with the train transform
    after: tuple[float, ...]  # train[0]'s x after "val.dataset.transform = None"
    plain: tuple[float, ...]  # that sample without any transform
    # the two correct patterns: (train[0] x, val[0] x)
    two_datasets: tuple[tuple[float, ...], tuple[float, ...]]
    wrapper: tuple[tuple[float, ...], tuple[float, ...]]
    snippet: Snippet


def split_code(c: SplitConfig) -> str:
    train = c.n - c.val
    return _pasted(f"""import torch
from torch.utils.data import Subset, random_split
from torchvision.transforms.v2 import functional as F

from ptexplore.data.datasets import MyDataset, WithTransform

data = torch.arange({c.n} * 4.0).reshape({c.n}, 1, 2, 2)  # {c.n} tiny 2×2 "images"
targets = torch.arange({c.n})
train_tf = F.horizontal_flip  # stands in for augmentation (deterministic: easy to see)

# the trap: random_split returns two Subsets of ONE dataset
full = MyDataset(data, targets, transform=train_tf)
split = [{train}, {c.val}]
train, val = random_split(full, split, generator=torch.Generator().manual_seed({c.seed}))
print("train.indices:", train.indices, " val.indices:", val.indices)
print("train.dataset is val.dataset:", train.dataset is val.dataset)
before = train[0][0]
print("train[0] before:", before.flatten().tolist())
val.dataset.transform = None  # meant for val only: no augmentation when validating
after = train[0][0]
print("train[0] after: ", after.flatten().tolist(), "<- train lost its augmentation")
trap = (train, val)

# right, 1: two datasets over the same tensors, one split of the indices
order = torch.randperm({c.n}, generator=torch.Generator().manual_seed({c.seed})).tolist()
train = Subset(MyDataset(data, targets, transform=train_tf), order[:{train}])
val = Subset(MyDataset(data, targets), order[{train}:])
two = (train[0][0], val[0][0])
print("two datasets: train[0]", two[0].flatten().tolist(), " val[0]", two[1].flatten().tolist())

# right, 2: split a dataset without a transform, then wrap each split
base = MyDataset(data, targets)
g = torch.Generator().manual_seed({c.seed})
train_part, val_part = random_split(base, split, generator=g)
train = WithTransform(train_part, train_tf)
val = val_part
wrapped = (train[0][0], val[0][0])  # (train[0]'s x, val[0]'s x)
print("wrapper: train[0]", wrapped[0].flatten().tolist(), " val[0]", wrapped[1].flatten().tolist())
""")


def split_lesson(config: SplitConfig) -> SplitLesson:
    _check_n(config.n, low=2)
    if not 1 <= config.val < config.n:
        raise InputError(
            _("A validation split of {val} of {n} leaves no training items.").format(
                val=config.val, n=config.n
            ),
            fix=_("Pick between 1 and {high} validation items.").format(high=config.n - 1),
        )
    code = split_code(config)
    ran = live.run(code)
    if ran.exception is not None:
        raise ran.exception
    ns = ran.namespace
    train, val = ns["trap"]
    return SplitLesson(
        config=config,
        train_indices=tuple(int(i) for i in train.indices),
        val_indices=tuple(int(i) for i in val.indices),
        same_dataset=train.dataset is val.dataset,
        before=tuple(_values(ns["before"])),
        after=tuple(_values(ns["after"])),
        plain=tuple(_values(ns["data"][train.indices[0]])),
        two_datasets=(tuple(_values(ns["two"][0])), tuple(_values(ns["two"][1]))),
        wrapper=(tuple(_values(ns["wrapped"][0])), tuple(_values(ns["wrapped"][1]))),
        snippet=Snippet(code, ran.output),
    )


# ---------------------------------------------------------------------- ConcatDataset


@dataclass(frozen=True, slots=True)
class ConcatConfig:
    n: int = 6
    index: int = 7


@dataclass(frozen=True, slots=True)
class IndexRow:
    index: int  # global index into the ConcatDataset
    dataset: int  # which dataset answers it
    local: int  # which item of that dataset
    target: int  # the y it returns
    matches: bool  # both[index] equals datasets[dataset][local]


@dataclass(frozen=True, slots=True)
class ConcatLesson:
    config: ConcatConfig
    lengths: tuple[int, int, int]  # augmented, original, both
    cumulative_sizes: tuple[int, ...]
    picked: IndexRow | None
    refusal: Refusal | None  # the picked index is out of range
    rows: tuple[IndexRow, ...]  # every non-negative index
    snippet: Snippet


NAMES = ("augmented", "original")


def concat_code(c: ConcatConfig) -> str:
    head = f"""import bisect

import torch
from torch.utils.data import ConcatDataset
from torchvision.transforms.v2 import functional as F

from ptexplore.data.datasets import MyDataset

data = torch.arange({c.n} * 4.0).reshape({c.n}, 1, 2, 2)
targets = torch.arange({c.n})
augmented = MyDataset(data, targets, transform=F.horizontal_flip)  # a flipped copy
original = MyDataset(data, targets)
both = ConcatDataset([augmented, original])
print("len:", len(augmented), "+", len(original), "=", len(both))
print("cumulative_sizes:", both.cumulative_sizes)

g = {c.index}
"""
    if not -2 * c.n <= c.index < 2 * c.n:
        return _pasted(head + "x, y = both[g]\n")
    return _pasted(
        head
        + """pos = g if g >= 0 else g + len(both)  # a negative index counts from the end
d = bisect.bisect_right(both.cumulative_sizes, pos)  # what ConcatDataset.__getitem__ does
local = pos if d == 0 else pos - both.cumulative_sizes[d - 1]
print(f"both[{g}] -> datasets[{d}] ({['augmented', 'original'][d]}), item {local}")
x, y = both[g]
same = torch.equal(x, both.datasets[d][local][0])
print("same as both.datasets[d][local]:", same, "| y =", int(y))
print("x =", x.flatten().tolist())
"""
    )


def _row(both: ConcatDataset[tuple[torch.Tensor, torch.Tensor]], g: int) -> IndexRow:
    pos = g + len(both) if g < 0 else g
    d = bisect.bisect_right(both.cumulative_sizes, pos)
    local = pos if d == 0 else pos - both.cumulative_sizes[d - 1]
    x, y = both[g]
    mine = both.datasets[d][local][0]
    return IndexRow(g, d, local, int(y), bool(torch.equal(x, mine)))


def concat_lesson(config: ConcatConfig) -> ConcatLesson:
    _check_n(config.n)
    limit = 2 * config.n
    if not -limit - 1 <= config.index <= limit:
        raise InputError(
            _("Pick an index between {low} and {high} (one past each end shows the error).").format(
                low=-limit - 1, high=limit
            ),
            fix=_("Move the index picker back into that range."),
        )
    code = concat_code(config)
    ran = live.run(code)
    both = ran.namespace["both"]
    refusal = None
    picked = None
    if ran.error is not None:
        n = len(both)
        lesson = (
            _(
                "`both` holds {n} items: global indices 0…{last}. Past the last one, `bisect` "
                "points one past the last dataset, so the list `both.datasets` is indexed out "
                "of range."
            ).format(n=n, last=n - 1)
            if ran.error.kind == "IndexError"
            else _(
                "A negative index counts from the end, down to {low}; ConcatDataset checks "
                "that itself before it maps the index."
            ).format(low=-n)
        )
        refusal = Refusal(
            ran.error.kind,
            ran.error.message,
            lesson,
            _("Use an index between {low} and {high}.").format(low=-n, high=n - 1),
        )
    else:
        picked = _row(both, config.index)
    rows = tuple(_row(both, g) for g in range(len(both)))
    return ConcatLesson(
        config=config,
        lengths=(len(both.datasets[0]), len(both.datasets[1]), len(both)),
        cumulative_sizes=tuple(both.cumulative_sizes),
        picked=picked,
        refusal=refusal,
        rows=rows,
        snippet=Snippet(code, ran.output),
    )

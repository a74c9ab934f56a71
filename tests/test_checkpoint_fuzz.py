"""Fuzz: real checkpoints with bytes flipped, cut short, spliced together or grown. Every
case ends in a result or a LessonError, within a time limit — never another exception."""

from __future__ import annotations

import time
from collections import OrderedDict

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as safetensors_bytes

from ptexplore.ckpt import read_checkpoint
from ptexplore.errors import LessonError
from ptexplore.models import catalog, params, weights
from tests.test_checkpoint_formats import saved

KEY = "example:Net"
#: CPU seconds one fuzzed file may take, read, loaded and summarised
LIMIT_S = 2.0


def _corpus() -> list[bytes]:
    real: OrderedDict[str, torch.Tensor] = catalog.build_real(KEY, seed=4).state_dict()
    sparse = dict(real)
    sparse["hidden2.weight"] = real["hidden2.weight"].to_sparse()
    return [
        saved(real),
        saved({"epoch": 2, "state_dict": {f"module.{k}": v for k, v in real.items()},
               "optimizer": {"state": {0: {"step": torch.tensor(3.0)}}, "param_groups": []}}),
        saved(real, _use_new_zipfile_serialization=False),
        saved(sparse),
        safetensors_bytes(dict(real), metadata={"format": "pt"}),
    ]  # fmt: skip


CORPUS = _corpus()


def _exercise(data: bytes, *, sandboxed: bool = False) -> None:
    """Everything the page does with an upload; only LessonErrors may escape. The page reads
    uploads in the sandbox (``sandboxed=True``); the fuzz cases call the same reader here,
    which is what the sandbox runs, without its ~20 ms per job."""
    t0 = time.process_time()
    try:
        if sandboxed:
            state, wrapper, prefix = weights.read_state_dict(data)
        else:
            ck = read_checkpoint(data)
            state, wrapper, prefix = ck.state_dict, ck.wrapper_key, ck.stripped_prefix
        model, _report = weights.load_into_meta(
            KEY, None, state, source=weights.WeightsSource.UPLOAD, origin="fuzz.pth",
            wrapper_key=wrapper, stripped_prefix=prefix,
        )  # fmt: skip
        for name, _ in model.named_parameters():
            t = weights.tensor_from(model, name)
            if t is not None:
                params.summarize(name, t, seed=0, source=params.ValuesSource.LOADED, t0=t0)
    except LessonError as err:
        assert err.message and err.fix  # a lesson: what went wrong, and what to do
    spent = time.process_time() - t0
    assert spent < LIMIT_S, f"{spent:.2f} s"


def test_the_corpus_loads() -> None:
    for data in CORPUS:
        _exercise(data, sandboxed=True)
        assert read_checkpoint(data).state_dict


FUZZ = settings(
    deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow], database=None
)
base = st.sampled_from(range(len(CORPUS)))


@FUZZ
@given(base, st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                      min_size=1, max_size=8))  # fmt: skip
def test_byte_flips(which: int, flips: list[tuple[float, int]]) -> None:
    data = bytearray(CORPUS[which])
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    _exercise(bytes(data))


@FUZZ
@given(base, st.integers(0, 1500), st.integers(1, 255))
def test_flips_in_the_index(which: int, where: int, xor: int) -> None:
    """The first 1.5 KB: zip headers, data.pkl, the legacy pickles, the JSON header."""
    data = bytearray(CORPUS[which])
    data[min(where, len(data) - 1)] ^= xor
    _exercise(bytes(data))


@FUZZ
@given(base, st.floats(0, 1, exclude_max=True))
def test_truncations(which: int, where: float) -> None:
    data = CORPUS[which]
    _exercise(data[: int(where * len(data))])


@FUZZ
@given(base, base, st.floats(0, 1), st.floats(0, 1))
def test_splices_of_valid_files(a: int, b: int, cut_a: float, cut_b: float) -> None:
    x, y = CORPUS[a], CORPUS[b]
    _exercise(x[: int(cut_a * len(x))] + y[int(cut_b * len(y)) :])


@FUZZ
@given(base, st.floats(0, 1), st.binary(min_size=1, max_size=64))
def test_insertions(which: int, where: float, junk: bytes) -> None:
    data = CORPUS[which]
    at = int(where * len(data))
    _exercise(data[:at] + junk + data[at:])


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    _exercise(data)


@pytest.mark.parametrize("which", range(len(CORPUS)))
def test_every_single_byte_cut(which: int) -> None:
    """Cut short at every 97th byte: the index (zip directory, pickle, JSON header) is
    where a cut hurts, and each one is a lesson."""
    data = CORPUS[which]
    for end in range(0, len(data), 97):
        _exercise(data[:end])

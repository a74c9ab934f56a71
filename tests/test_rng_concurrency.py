"""One process, many learners: a grid holds the global-RNG lock only for its draws, gives
the exported script's exact tensors, and no other thread's work can change it."""

from __future__ import annotations

import io
import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from ptexplore.augment import budget
from ptexplore.augment.catalog import CATALOG, Category, spec_for
from ptexplore.augment.export import export_code
from ptexplore.augment.pipeline import Pipeline, Step, train_preset, val_preset
from ptexplore.augment.preview import apply_step, run_grid, seeded_pipeline
from ptexplore.images.decode import decode_image_bytes
from ptexplore.models import catalog
from ptexplore.models.build import build_on_meta
from ptexplore.rng import Stream, seeded
from tests.conftest import is_meta

pytestmark = pytest.mark.usefixtures("one_thread")


def _photo(h: int = 90, w: int = 120, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)


def _compose(pipe: Pipeline, img: torch.Tensor, seed: int, n: int) -> list[torch.Tensor]:
    """The export scheme, in this process: manual_seed, then n calls of v2.Compose."""
    compose = pipe.build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [compose(img) for _ in range(n)]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        type(x) is type(y) and x.dtype == y.dtype and torch.equal(x, y)
        for x, y in zip(a, b, strict=True)
    )


# ------------------------------------------------------------------------- the stream


def test_a_stream_draws_what_manual_seed_draws_and_leaves_the_global_rng_alone() -> None:
    stream = Stream(7)
    torch.manual_seed(123)
    outer = torch.get_rng_state()
    py_outer = random.getstate()
    with stream.active():
        a = torch.rand(3)
    with stream.active():
        b = torch.randn(5)  # the normal sampler's cached second value travels too
        c = torch.randint(0, 100, (4,))
    with stream.active():
        d = torch.empty(2).normal_()
    assert torch.equal(torch.get_rng_state(), outer) and random.getstate() == py_outer
    assert stream.draws == 3
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        want = (
            torch.rand(3),
            torch.randn(5),
            torch.randint(0, 100, (4,)),
            torch.empty(2).normal_(),
        )
    for got, ref in zip((a, b, c, d), want, strict=True):
        assert torch.equal(got, ref)
    # seeded() still works for its other callers
    with seeded(7):
        assert torch.equal(torch.rand(3), a)
    assert torch.equal(torch.get_rng_state(), outer)


# ----------------------------------------------------------- bit-identity, every step


def _every_random_step() -> list[tuple[str, Pipeline]]:
    """Each random catalog transform, at settings that reach its interesting paths."""
    special: dict[str, list[dict[str, object]]] = {
        "RandomCrop": [{"size": 64, "padding": 4}, {"size": (100, 50), "pad_if_needed": True}],
        "RandomRotation": [{"degrees": 40.0, "expand": True}, {"degrees": 90.0}],
        "RandomAffine": [{"degrees": 20.0, "translate": (0.1, 0.2), "shear": 10.0}],
        "ElasticTransform": [{"sigma": 3.0, "alpha": 30.0}],
        "ColorJitter": [{"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1}],
        "AutoAugment": [{"policy": p} for p in ("imagenet", "cifar10", "svhn")],
        "RandAugment": [{"num_ops": 3, "magnitude": 12}],
        "AugMix": [{}, {"chain_depth": 2, "mixture_width": 4}, {"all_ops": False, "severity": 7}],
        "RandomErasing": [{"p": 1.0, "value": (10.0, 20.0, 30.0)}],
        "RandomPosterize": [{"p": 0.7}],
    }
    out = []
    for spec in CATALOG:
        if not spec.random or spec.category is Category.BOXES:  # these need boxes: below
            continue
        for params in special.get(spec.name, [{}]):
            out.append((spec.name, Pipeline((Step.make(spec.name, **params),))))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(("name", "pipe"), _every_random_step(), ids=lambda v: str(v)[:40])
def test_each_random_step_equals_manual_seed_and_compose(name: str, pipe: Pipeline) -> None:
    img = _photo()
    grid = run_grid(pipe, img, seed=11, n=6)
    assert _same([s.tensor for s in grid.samples], _compose(pipe, img, 11, 6)), name
    # as a tv_tensors.Image, and (where the op takes it) on float values
    as_image = Pipeline((Step.make("ToImage"), *pipe.steps))
    grid = run_grid(as_image, img, seed=4, n=4)
    assert _same([s.tensor for s in grid.samples], _compose(as_image, img, 4, 4)), name
    if name not in ("RandomPosterize", "RandomEqualize"):
        steps = pipe.steps
        if name == "RandomSolarize":  # values are 0–1 after ToDtype(scale=True)
            steps = (steps[0].with_param("threshold", 0.5),)
        if name == "RandomErasing":
            steps = (steps[0].with_param("value", "random"),)
        floats = Pipeline((Step.make("ToDtype", scale=True), *steps))
        grid = run_grid(floats, img, seed=9, n=4)
        assert _same([s.tensor for s in grid.samples], _compose(floats, img, 9, 4)), name


@pytest.mark.parametrize("name", [s.name for s in CATALOG if s.category is Category.BOXES])
def test_each_box_step_with_a_target_equals_manual_seed_and_compose(name: str) -> None:
    """The detection steps on (image, target): the lab's draws (with its unclamped copy of
    the boxes and its one-plane masks) are the script's, to the bit."""
    from ptexplore.augment import targets

    img = _photo()
    ids = np.zeros((90, 120), dtype=np.uint8)
    ids[10:50, 5:60], ids[40:85, 70:115] = 1, 2
    ann = targets.Annotations(
        (90, 120), targets.BoxFormat.XYXY, ((5, 10, 60, 50), (70, 40, 115, 85)), (1, 2),
        keypoints=((30.0, 30.0), (118.0, 88.0)), keypoint_names=("a", "b"),
        mask_png=targets.png_of(ids),
    )  # fmt: skip
    pipe = Pipeline((Step.make(name), Step.make("SanitizeBoundingBoxes")))
    grid = run_grid(pipe, img, seed=11, n=6, target=ann)
    compose = pipe.build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        want = [compose(img, targets.target(ann)) for _ in range(6)]
    for s, (w_img, w_target) in zip(grid.samples, want, strict=True):
        assert s.target is not None and list(s.target) == list(w_target), name
        assert torch.equal(s.tensor, w_img), name
        for key, value in w_target.items():
            assert type(s.target[key]) is type(value) and torch.equal(s.target[key], value)


def test_random_erasing_noise_and_a_long_mixed_pipeline_equal_compose() -> None:
    img = _photo(120, 160)
    pipe = Pipeline(
        (
            Step.make("RandomResizedCrop", size=96),
            Step.make("AutoAugment"),
            Step.make("RandomHorizontalFlip"),
            Step.make("ColorJitter", brightness=0.3, hue=0.05),
            Step.make("AugMix"),
            Step.make("ToImage"),
            Step.make("ToDtype", dtype="float32", scale=True),
            Step.make("RandomErasing", p=0.8, value="random"),
            Step.make("GaussianBlur", kernel_size=3),
            Step.make("Normalize"),
        )
    )
    for seed in (0, 1, 2):
        grid = run_grid(pipe, img, seed=seed, n=8, trace_index=3)
        assert _same([s.tensor for s in grid.samples], _compose(pipe, img, seed, 8))
    # the seeded pipeline (a dataset's transform) draws the same stream: call e = the e-th
    # call after manual_seed
    call = seeded_pipeline(pipe, 5)
    assert _same([call(img) for _ in range(6)], _compose(pipe, img, 5, 6))


def _png(path: Path) -> bytes:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@pytest.mark.parametrize(
    "pipe",
    [
        train_preset(),
        val_preset(),
        Pipeline(
            (
                Step.make("AutoAugment", policy="svhn"),
                Step.make("ColorJitter", brightness=0.4, contrast=0.3, saturation=0.2, hue=0.1),
                Step.make("ToImage"),
                Step.make("ToDtype", dtype="float32", scale=True),
                Step.make("RandomErasing", p=0.9, value="random"),
            )
        ),
    ],
    ids=["train", "val", "autoaugment-jitter-erasing"],
)
def test_grids_equal_the_exported_script(pipe: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    img = decode_image_bytes(_png(path), name=path.name).pixels
    grid = run_grid(pipe, img, seed=42, n=6)
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(export_code(pipe, seed=42, n=6, image_path=str(path)), "x.py", "exec"), namespace)
    samples = namespace["samples"]
    assert isinstance(samples, list)
    assert all(torch.equal(a, s.tensor) for a, s in zip(samples, grid.samples, strict=True))


def test_the_recorded_draws_still_describe_each_sample() -> None:
    img = _photo()
    auto = run_grid(Pipeline((Step.make("RandAugment", num_ops=2),)), img, seed=4, n=3)
    assert all("(" in s.caption or "," in s.caption for s in auto.samples)
    mix = run_grid(Pipeline((Step.make("AugMix"),)), img, seed=1, n=3)
    assert all("original weight" in s.caption for s in mix.samples)
    elastic = run_grid(Pipeline((Step.make("ElasticTransform"),)), img, seed=1, n=2)
    assert all("max shift" in s.caption for s in elastic.samples)
    crop = run_grid(Pipeline((Step.make("RandomCrop", size=40),)), img, seed=1, n=2)
    assert all(s.caption.split(" · ")[1].startswith("crop 40×40 at") for s in crop.samples)


def test_only_the_draws_hold_the_lock() -> None:
    """A deterministic step takes no lock; a standard random one exactly one per call."""
    img = _photo()
    stream = Stream(0)
    apply_step(v2.Resize(50), img, stream, random=False)
    assert stream.draws == 0
    apply_step(v2.GaussianBlur(5), img, stream)
    apply_step(v2.RandomHorizontalFlip(), img, stream)
    apply_step(v2.AugMix(), img, stream)
    assert stream.draws == 3
    call = seeded_pipeline(train_preset(), 3)
    assert torch.equal(call(img), _compose(train_preset(), img, 3, 1)[0])


# --------------------------------------------------------------- learners side by side


def _wall(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_a_slow_grid_does_not_make_a_fast_one_wait() -> None:
    """Before: the lock was held for a whole grid — a 5 ms grid took ~1 s next to a 1 s one."""
    small, big = _photo(), _photo(1024, 1024, seed=1)
    slow_pipe = Pipeline(
        (
            Step.make("GaussianBlur", kernel_size=23, sigma=(4.0, 6.0)),
            Step.make("RandomRotation", degrees=20.0),
            Step.make("ColorJitter", brightness=0.4, hue=0.1),
        )
    )
    work = budget.grid_work(slow_pipe, big.shape, big.dtype, n=3)
    assert 0.8 < work.seconds <= 2.0  # a real, accepted slow grid: about a second

    def fast() -> object:
        return run_grid(train_preset(), small, seed=1, n=8)

    fast()
    alone = statistics.median(_wall(fast) for _ in range(9))
    stop = threading.Event()
    slow_runs: list[float] = []

    def slow_loop() -> None:
        while not stop.is_set():
            slow_runs.append(_wall(lambda: run_grid(slow_pipe, big, seed=0, n=3)))

    thread = threading.Thread(target=slow_loop)
    thread.start()
    try:
        time.sleep(0.1)
        beside = []
        for _ in range(9):
            beside.append(_wall(fast))
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()
    delay = statistics.median(beside) - alone
    assert slow_runs and max(slow_runs) > 0.3
    assert delay < 0.1, (alone, beside)


def test_concurrent_model_builds_never_change_a_seeded_grid() -> None:
    img = _photo()
    ref = [s.tensor for s in run_grid(train_preset(), img, seed=5, n=4).samples]
    stop = threading.Event()
    built = {"vit_b_16": 0, "regnet_x_400mf": 0}
    errors: list[BaseException] = []

    def builder(key: str) -> None:
        try:
            while not stop.is_set():
                catalog.build_meta(key)
                built[key] += 1
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=builder, args=(k,)) for k in ("vit_b_16", "vit_b_16")]
    threads.append(threading.Thread(target=builder, args=("regnet_x_400mf",)))
    for t in threads:
        t.start()
    same = 0
    try:
        for _ in range(6):  # before the fix: 20 grids in 20 came out different
            grid = run_grid(train_preset(), img, seed=5, n=4)
            same += _same([s.tensor for s in grid.samples], ref)
            time.sleep(0.005)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert built["vit_b_16"] >= 2 and built["regnet_x_400mf"] >= 1
    assert same == 6


@pytest.mark.parametrize("key", ["vit_b_16", "vit_h_14", "regnet_x_400mf", "swin_t"])
def test_meta_builds_draw_nothing_from_the_global_rng(key: str) -> None:
    torch.manual_seed(0)
    state, py_state = torch.get_rng_state(), random.getstate()
    build = catalog.build_meta(key)
    assert torch.equal(torch.get_rng_state(), state) and random.getstate() == py_state
    assert is_meta(build.model) and build.order
    assert sorted(build.order.values()) == list(range(len(build.order)))


def test_a_constructor_that_needs_real_tensors_falls_back_under_the_lock() -> None:
    class NeedsValues(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            widths = (torch.arange(3) * 8 + 8).tolist()  # fails on meta, like RegNet
            self.layers = torch.nn.ModuleList(torch.nn.Linear(w, w) for w in widths)
            self.noise = torch.nn.Parameter(torch.randn(4))  # draws on CPU: forked, unseen

    torch.manual_seed(0)
    state = torch.get_rng_state()
    build = build_on_meta(NeedsValues)
    assert torch.equal(torch.get_rng_state(), state)
    assert is_meta(build.model) and [m.in_features for m in build.model.layers] == [8, 16, 24]
    assert len(build.order) == 7


def test_every_catalog_transform_is_split_or_planned_never_run_whole_under_the_lock() -> None:
    """The lock-time estimate assumes it: no catalog transform falls to the whole-forward
    path (a torchvision upgrade that changes a forward would fail here first)."""
    from torchvision.transforms.v2._transform import _RandomApplyTransform

    for spec in CATALOG:
        if not spec.random:
            continue
        t = Step.make(spec.name).build()
        forward = type(t).forward
        assert (
            forward is v2.Transform.forward
            or forward is _RandomApplyTransform.forward
            or type(t) in (v2.AutoAugment, v2.RandAugment, v2.TrivialAugmentWide, v2.AugMix)
        ), spec.name
    assert spec_for("Resize").random is False


def test_pure_tensor_and_image_types_survive_the_split() -> None:
    img = tv_tensors.Image(_photo())
    stream = Stream(2)
    for t in (v2.RandomHorizontalFlip(1.0), v2.AutoAugment(), v2.AugMix(), v2.ElasticTransform()):
        assert type(apply_step(t, img, stream)) is tv_tensors.Image
        assert type(apply_step(t, img.as_subclass(torch.Tensor), stream)) is torch.Tensor

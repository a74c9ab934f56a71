"""The augmentation budget: shapes known before running, hostile requests refused fast with
the limit, the numbers and the fix, accepted ones within ~2 s of CPU."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import torch
from torchvision.transforms.v2 import functional as F

from ptexplore.augment import budget, targets
from ptexplore.augment.budget import check, estimate, grid_work, train_val_work
from ptexplore.augment.catalog import CATALOG, Category
from ptexplore.augment.pipeline import Pipeline, Step, train_preset, val_preset
from ptexplore.augment.preview import run_grid
from ptexplore.errors import LessonError
from ptexplore.limits import AUGMENT_MAX_CPU_S, GRID_MAX_BYTES

pytestmark = pytest.mark.usefixtures("one_thread")


def _photo(h: int, w: int, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)


def _shape_dtype(t: torch.Tensor) -> tuple[tuple[int, ...], str]:
    return tuple(int(s) for s in t.shape), str(t.dtype).removeprefix("torch.")


def _refused(fn: Callable[[], object]) -> tuple[LessonError, float]:
    t0 = time.perf_counter()
    with pytest.raises(LessonError) as info:
        fn()
    return info.value, time.perf_counter() - t0


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("hw", [(90, 120), (300, 400), (1000, 700), (224, 224)])
def test_preset_estimates_are_the_real_shapes_and_dtypes(hw: tuple[int, int]) -> None:
    img = _photo(*hw)
    for pipe in (train_preset(), val_preset()):
        est = estimate(pipe, img.shape, img.dtype)
        grid = run_grid(pipe, img, seed=0, n=4, trace_index=1)
        real = [_shape_dtype(t.tensor) for t in grid.trace[1:]]
        assert [(s.output.shape, s.output.dtype) for s in est.steps] == real
        assert all(s.output.exact for s in est.steps)
        assert all(_shape_dtype(s.tensor) == real[-1] for s in grid.samples)
    assert estimate(val_preset(), (3, 300, 400)).steps[0].output.shape == (3, 256, 341)
    assert estimate(train_preset(), (3, 90, 120)).output.text == "3×224×224 float32"


SHAPE_CASES: list[tuple[str, tuple[Step, ...], tuple[int, int]]] = [
    ("resize short side", (Step.make("Resize", size=256),), (90, 120)),
    ("resize portrait", (Step.make("Resize", size=100),), (121, 90)),
    ("resize h,w", (Step.make("Resize", size=(100, 50)),), (90, 120)),
    ("resize max_size", (Step.make("Resize", size=64, max_size=80),), (90, 120)),
    ("resize same size", (Step.make("Resize", size=90),), (90, 120)),
    ("center crop inside", (Step.make("CenterCrop", size=64),), (90, 120)),
    ("center crop beyond", (Step.make("CenterCrop", size=(100, 150)),), (90, 120)),
    ("random crop padded", (Step.make("RandomCrop", size=64, padding=8),), (90, 120)),
    (
        "random crop pad_if_needed",
        (Step.make("RandomCrop", size=(100, 130), pad_if_needed=True),),
        (90, 120),
    ),
    ("random resized crop", (Step.make("RandomResizedCrop", size=(50, 70)),), (90, 120)),
    ("pad constant", (Step.make("Pad", padding=10),), (90, 120)),
    ("pad reflect", (Step.make("Pad", padding=7, padding_mode="reflect"),), (90, 120)),
    ("grayscale 1", (Step.make("Grayscale"),), (90, 120)),
    ("grayscale 3", (Step.make("Grayscale", num_output_channels=3),), (90, 120)),
    ("random grayscale", (Step.make("RandomGrayscale", p=1.0),), (90, 120)),
    ("to float16", (Step.make("ToDtype", dtype="float16", scale=True),), (90, 120)),
    (
        "float64 then uint8",
        (Step.make("ToDtype", dtype="float64", scale=True), Step.make("ToDtype", dtype="uint8")),
        (90, 120),
    ),
    ("to image", (Step.make("ToImage"),), (90, 120)),
    (
        "a chain",
        (
            Step.make("Pad", padding=5),
            Step.make("Resize", size=80),
            Step.make("RandomCrop", size=(60, 70), padding=3),
            Step.make("Grayscale", num_output_channels=3),
            Step.make("ToDtype", dtype="float32", scale=True),
            Step.make("Normalize"),
        ),
        (120, 90),
    ),
]


@pytest.mark.parametrize(("label", "steps", "hw"), SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_each_shape_changing_step_is_estimated_exactly(
    label: str, steps: tuple[Step, ...], hw: tuple[int, int]
) -> None:
    pipe = Pipeline(steps)
    img = _photo(*hw)
    est = estimate(pipe, img.shape, img.dtype)
    for seed in range(3):
        grid = run_grid(pipe, img, seed=seed, n=3, trace_index=seed)
        real = [_shape_dtype(t.tensor) for t in grid.trace[1:]]
        assert [(s.output.shape, s.output.dtype) for s in est.steps] == real, label
        assert est.output.exact


def test_a_step_that_cannot_run_stops_the_estimate_and_the_run_says_why() -> None:
    img = _photo(90, 120)
    for pipe, why in (
        (
            Pipeline((Step.make("RandomCrop", size=100), Step.make("Pad", padding=512))),
            "Required crop size (100, 100) is larger than input image size (90, 120)",
        ),
        (
            Pipeline(
                (
                    Step.make("Resize", size=64, max_size=60),
                    Step.make("GaussianBlur", kernel_size=101),
                )
            ),
            "max_size = 60 must be strictly greater",
        ),
    ):
        est = estimate(pipe, img.shape, img.dtype)
        assert len(est.steps) == 1 and est.fails is est.steps[0]
        assert why in (est.steps[0].fails or "")
        with pytest.raises(LessonError, match=r"Step 1 .* failed on a 3×90×120 uint8 tensor"):
            run_grid(pipe, img, seed=0, n=2)


def test_rotation_with_expand_is_bounded_by_its_widest_angle() -> None:
    for h, w, degrees in ((30, 50, 180.0), (64, 64, 45.0), (40, 90, 20.0), (90, 40, 10.0)):
        img = torch.zeros(3, h, w, dtype=torch.uint8)
        sizes = [
            tuple(F.rotate(img, a / 4, expand=True).shape[-2:])
            for a in range(int(-degrees * 4), int(degrees * 4) + 1)
        ]
        step = Pipeline((Step.make("RandomRotation", degrees=degrees, expand=True),))
        out = estimate(step, img.shape).output
        assert not out.exact and out.text.startswith("up to 3×")
        assert max(s[0] for s in sizes) <= out.h <= max(s[0] for s in sizes) + 2
        assert max(s[1] for s in sizes) <= out.w <= max(s[1] for s in sizes) + 2
        grid = run_grid(step, img, seed=1, n=8)
        assert all(
            s.tensor.shape[-2] <= out.h and s.tensor.shape[-1] <= out.w for s in grid.samples
        )
    fixed = estimate(
        Pipeline((Step.make("RandomRotation", degrees=0.0, expand=True),)), (3, 30, 50)
    )
    assert fixed.output.shape == (3, 30, 50) and fixed.output.exact


def test_every_catalog_transform_has_a_cost_and_an_upper_bound_on_its_output() -> None:
    img = _photo(240, 300).to(torch.float32) / 255
    for spec in CATALOG:
        pipe = Pipeline(
            (Step.make(spec.name, **({"threshold": 0.5} if spec.name == "RandomSolarize" else {})),)
        )  # type: ignore[arg-type]
        src = _photo(240, 300) if spec.name in ("RandomPosterize", "RandomEqualize") else img
        est = estimate(pipe, src.shape, src.dtype)
        assert est.ns > 0 and est.steps[0].hint, spec.name
        boxes = _boxes() if spec.category is Category.BOXES else None
        grid = run_grid(pipe, src, seed=0, n=4, target=boxes)
        for s in grid.samples:
            assert s.tensor.numel() * s.tensor.element_size() <= est.output.nbytes, spec.name


def _boxes(h: int = 240, w: int = 300, n: int = 2) -> targets.Annotations:
    import numpy as np

    ids = np.zeros((h, w), dtype=np.uint8)
    boxes = []
    for i in range(n):
        x, y = (17 * i) % (w - 40), (11 * i) % (h - 40)
        ids[y : y + 30, x : x + 30] = i + 1
        boxes.append((float(x), float(y), float(x + 30), float(y + 30)))
    return targets.Annotations(
        (h, w), targets.BoxFormat.XYXY, tuple(boxes), (1,) * n,
        keypoints=((20.0, 25.0), (w - 5.0, h - 5.0)), keypoint_names=("a", "b"),
        mask_png=targets.png_of(ids),
    )  # fmt: skip


def test_masks_cost_what_the_geometry_costs_them_and_colour_steps_leave_them() -> None:
    img = _photo(240, 300)
    geo = Pipeline((Step.make("RandomRotation", degrees=30.0), Step.make("RandomZoomOut")))
    colour = Pipeline((Step.make("ColorJitter", brightness=0.4),))
    plain, masked = (
        estimate(geo, img.shape, img.dtype),
        estimate(geo, img.shape, img.dtype, masks=5),
    )
    assert masked.ns > plain.ns and masked.trace_bytes > plain.trace_bytes
    assert estimate(colour, img.shape, masks=5).ns == estimate(colour, img.shape).ns
    # the estimate bounds what a grid with 5 masks really keeps: image and masks
    grid = run_grid(geo, img, seed=0, n=4, trace_index=None, target=_boxes(n=5))
    for s in grid.samples:
        assert s.target is not None
        kept = s.tensor.nbytes + s.target["masks"].nbytes
        assert kept <= masked.kept_bytes, (kept, masked.kept_bytes)


def test_views_and_padded_copies_keep_what_they_really_keep() -> None:
    """A crop is a view (it keeps its input's storage alive, nothing new); a crop of a
    padded copy keeps the whole padded copy."""
    img = _photo(90, 120)

    def kept(pipe: Pipeline, n: int = 3, traced: bool = False) -> int:
        grid = run_grid(pipe, img, seed=0, n=n, trace_index=0 if traced else None)
        tensors = [s.tensor for s in grid.samples] + [t.tensor for t in grid.trace[1:]]
        storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}
        storages.pop(img.untyped_storage().data_ptr(), None)
        return sum(storages.values())

    for steps in (
        (Step.make("CenterCrop", size=64),),
        (Step.make("Resize", size=64), Step.make("CenterCrop", size=48)),
        (Step.make("RandomCrop", size=64, padding=8),),
        (Step.make("RandomHorizontalFlip", p=1.0), Step.make("ToImage")),
        (
            Step.make("ToDtype", scale=True),
            Step.make("Normalize"),
            Step.make("RandomVerticalFlip", p=1.0),
        ),
    ):
        pipe = Pipeline(steps)
        est = grid_work(pipe, img.shape, img.dtype, n=3, trace=False)
        assert est.output_bytes == kept(pipe), steps
        traced = grid_work(pipe, img.shape, img.dtype, n=3, trace=True)
        assert traced.output_bytes + traced.trace_bytes == kept(pipe, traced=True), steps


# ------------------------------------------------------------------- hostile requests


def test_pads_and_flips_at_4096_are_refused_before_anything_runs() -> None:
    big = torch.zeros(3, 4096, 4096, dtype=torch.uint8)
    steps = tuple(
        s
        for _ in range(16)
        for s in (Step.make("Pad", padding=512), Step.make("RandomHorizontalFlip"))
    )
    err, took = _refused(lambda: run_grid(Pipeline(steps), big, seed=0, n=4))
    assert took < 0.1
    assert err.message.startswith("One sample of 3×20480×20480 uint8 alone takes 1,200 MB")
    assert "memory" in err.message and "512 MB" in err.message
    assert "Resize" in (err.fix or "") and "Full-resolution" in (err.fix or "")


def test_a_large_blur_on_a_12_mp_photo_is_refused_by_time() -> None:
    photo = torch.zeros(3, 3000, 4000, dtype=torch.uint8)
    blur = Pipeline((Step.make("GaussianBlur", kernel_size=101),))
    err, took = _refused(lambda: run_grid(blur, photo, seed=0, n=1))
    assert took < 0.1
    assert err.message.startswith("Time limit: a grid of 1 sample would take about ")
    seconds = float(err.message.split("about ")[1].split(" s")[0])
    assert seconds > 20  # measured here: ~40 s per call
    assert "step 1 (GaussianBlur) alone" in err.message and "3×3000×4000 uint8" in err.message
    assert "more than the 2 s" in err.message
    assert "smaller kernel_size than 101" in (err.fix or "")
    assert "Full-resolution" in (err.fix or "")
    assert "It would also need 1,998 MB of memory (at most 512 MB)." in err.message
    # and a grid that would be fine with fewer samples says how many
    err, _ = _refused(
        lambda: run_grid(
            blur.set_param(0, "kernel_size", 31).set_param(0, "sigma", (3.0, 5.0)),
            photo[:, :1024, :1024],
            seed=0,
            n=16,
        )
    )
    assert (err.fix or "").startswith("Show at most ")


def test_a_step_trace_of_big_intermediates_is_refused_and_named() -> None:
    img = torch.zeros(3, 2048, 2048, dtype=torch.uint8)
    pipe = Pipeline(
        (
            Step.make("ToDtype", dtype="float64", scale=True),
            Step.make("Normalize"),
            Step.make("RandomHorizontalFlip", p=1.0),
            Step.make("RandomVerticalFlip", p=1.0),
        )
    )
    err, took = _refused(lambda: run_grid(pipe, img, seed=0, n=2, trace_index=0))
    assert took < 0.1
    assert err.message.startswith("Memory limit: this would take 672 MB")
    assert "384 MB for the step-by-step trace" in err.message and "96 MB each" in err.message
    assert "at most 512 MB" in err.message
    # without the trace the same grid fits (and runs)
    assert len(run_grid(pipe, img, seed=0, n=2, trace_index=None).samples) == 2


def test_float16_grid_sampling_is_refused_it_crashes_the_process() -> None:
    for name in ("RandomRotation", "RandomAffine", "ElasticTransform", "AutoAugment", "AugMix"):
        pipe = Pipeline((Step.make("ToDtype", dtype="float16", scale=True), Step.make(name)))
        err, took = _refused(lambda pipe=pipe: run_grid(pipe, _photo(90, 120), seed=0, n=1))  # type: ignore[misc]
        assert took < 0.1
        assert err.message.startswith(f"Safety limit: step 2 ({name}) resamples")
        assert "float16" in (err.fix or "")


def test_a_draw_that_would_hold_the_shared_rng_lock_too_long_is_refused() -> None:
    """RandomErasing's noise is drawn under the lock every learner's draws share."""
    img = torch.zeros(3, 3000, 4000, dtype=torch.uint8)
    noise = Pipeline(
        (
            Step.make("ToDtype", scale=True),
            Step.make("RandomErasing", p=1.0, scale=(0.5, 0.6), value="random"),
        )
    )
    err, took = _refused(lambda: run_grid(noise, img, seed=0, n=1))
    assert took < 0.1
    assert err.message.startswith("Time limit: step 2 (RandomErasing) draws so many random")
    assert "more than the 50 ms one call may hold it" in err.message
    assert "value" in (err.fix or "")
    small = run_grid(noise, img[:, :500, :500], seed=0, n=1)  # ~7 ms under the lock: fine
    assert small.samples[0].tensor.shape == (3, 500, 500)


def test_the_parts_of_one_request_share_one_budget() -> None:
    shape = (3, 2000, 2000)
    train, val = train_val_work(shape, n=4)
    assert train.sample.output.shape == val.sample.output.shape == (3, 224, 224)
    check(train, val)
    photo = Pipeline((Step.make("ToDtype", scale=True),))
    big = grid_work(photo, shape, n=8, trace=False)
    grid = grid_work(photo, shape, n=4, trace=False)
    check(big)
    check(grid)
    with pytest.raises(LessonError) as info:
        check(big, grid)  # together: 12 float copies of a 4 MP photo
    assert info.value.message.startswith(
        "8 samples of 3×2000×2000 float32 would take 366 MB of memory, plus 183 MB for a "
        "grid of 4 samples; one request may use at most 512 MB"
    )
    assert "(about 7 samples of this size)" in info.value.message
    assert big.nbytes + grid.nbytes > GRID_MAX_BYTES


# ------------------------------------------------------------------ accepted requests


NEAR_LIMIT: list[tuple[str, Pipeline, tuple[int, int]]] = [
    ("blur", Pipeline((Step.make("GaussianBlur", kernel_size=45, sigma=(6.0, 9.0)),)), (512, 683)),
    # a small sigma in the same kernel: 232 subnormal taps, ~12× the CPU per sample
    ("blur, subnormal taps", Pipeline((Step.make("GaussianBlur", kernel_size=45),)), (128, 171)),
    (
        "geometry and colour",
        Pipeline(
            (
                Step.make("RandomRotation", degrees=30.0, expand=True),
                Step.make("ColorJitter", brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
                Step.make("RandomHorizontalFlip"),
            )
        ),
        (512, 683),
    ),
    ("train preset, full resolution", train_preset(), (3000, 4000)),
]


@pytest.mark.parametrize(("label", "pipe", "hw"), NEAR_LIMIT, ids=[c[0] for c in NEAR_LIMIT])
def test_accepted_near_limit_grids_finish_within_about_2_s_of_cpu(
    label: str, pipe: Pipeline, hw: tuple[int, int]
) -> None:
    img = _photo(*hw)
    per_sample = estimate(pipe, img.shape, img.dtype).ns / 1e9
    n = min(64, int(AUGMENT_MAX_CPU_S / per_sample))
    work = grid_work(pipe, img.shape, img.dtype, n=n)
    assert 0.6 * AUGMENT_MAX_CPU_S < work.seconds <= AUGMENT_MAX_CPU_S, label
    with pytest.raises(LessonError, match="Time limit"):
        check(grid_work(pipe, img.shape, img.dtype, n=n + max(2, n // 4)))
    t0 = time.thread_time()
    run_grid(pipe, img, seed=0, n=n)
    cpu = time.thread_time() - t0
    assert cpu < 1.25 * AUGMENT_MAX_CPU_S, (label, n, work.seconds, cpu)


def test_refusals_and_estimates_take_microseconds() -> None:
    steps = tuple(Step.make(spec.name) for spec in CATALOG if spec.name != "Normalize")
    pipe = Pipeline(steps[:32])
    t0 = time.perf_counter()
    for _ in range(10):
        budget.grid_work(pipe, (3, 3000, 4000), n=64)
    assert (time.perf_counter() - t0) / 10 < 0.01


# ------------------------------------------------------------------ subnormal blur taps


def test_subnormal_taps_are_counted_as_torchvision_builds_the_kernel() -> None:
    """The kernel, read back from the real transform: a blur of an impulse is its kernel."""
    from torchvision.transforms.v2 import functional as F

    from ptexplore.augment.budget import subnormal_taps

    k, sigma = 45, 1.5
    impulse = torch.zeros(1, 3 * k, 3 * k)
    impulse[0, 3 * k // 2, 3 * k // 2] = 1.0
    out = F.gaussian_blur(impulse, [k, k], [sigma, sigma])[0]
    c, r = 3 * k // 2, k // 2
    kernel = out[c - r : c + r + 1, c - r : c + r + 1]
    tiny = torch.finfo(torch.float32).tiny
    real = int(((kernel > 0) & (kernel < tiny)).sum())
    assert real == subnormal_taps(k, sigma, sigma, "float32") == 232
    assert subnormal_taps(45, 8.0, 8.0, "float32") == 0  # a wide sigma: every tap normal
    # a range: its worst sigma (the count is not monotonic: 1.5 has more than 1.0 or 2.0)
    assert subnormal_taps(45, 0.1, 2.0, "float32") >= 232


def _subnormal_penalty() -> float:
    """How much slower this CPU multiplies subnormal float32s than normal ones (Intel cores
    take a microcode assist: ~10-100×; AMD Zen cores barely notice: ~1.4×)."""
    y = torch.full((1_000_000,), 0.7)
    best = []
    for v in (1e-40, 1.0):
        x = torch.full((1_000_000,), v)
        runs = []
        for _ in range(7):
            t0 = time.perf_counter()
            torch.mul(x, y)
            runs.append(time.perf_counter() - t0)
        best.append(min(runs))
    return best[0] / best[1]


def test_a_blur_with_subnormal_taps_is_estimated_and_measured_slower() -> None:
    """A small sigma in a big kernel: an Intel core takes a microcode assist per subnormal
    tap. The estimate is the worst case (it counts them on every CPU)."""
    img = _photo(128, 128)
    sharp = Pipeline((Step.make("GaussianBlur", kernel_size=45, sigma=(1.5, 1.5)),))
    wide = sharp.set_param(0, "sigma", (8.0, 8.0))
    estimated = estimate(sharp, img.shape, img.dtype).ns / estimate(wide, img.shape, img.dtype).ns
    assert estimated > 5
    penalty = _subnormal_penalty()
    if penalty < 3:
        pytest.skip(
            f"this CPU multiplies subnormals only {penalty:.1f}x slower: nothing to measure"
        )
    times = []
    for pipe in (sharp, wide):
        t0 = time.thread_time()
        run_grid(pipe, img, seed=0, n=1)
        times.append(time.thread_time() - t0)
    assert times[0] > 3 * times[1], times  # measured here: ~12×


def test_a_float16_blur_with_a_big_kernel_is_refused_before_it_runs() -> None:
    img = torch.zeros(3, 32, 32, dtype=torch.uint8)
    pipe = Pipeline(
        (
            Step.make("ToDtype", dtype="float16", scale=True),
            Step.make("GaussianBlur", kernel_size=15),
        )
    )
    err, took = _refused(lambda: run_grid(pipe, img, seed=0, n=1))
    assert took < 0.1
    assert err.message.startswith("Safety limit: step 2 (GaussianBlur) with a kernel_size of 15")
    assert "float32" in (err.fix or "")


def test_every_hint_that_offers_full_resolution_off_says_it_in_the_same_words() -> None:
    """The time-limit lesson adds "turn off Full-resolution preview" unless the step's hint
    already offers it, found as text in the hint (the hints are made translated): every
    translation that offers it must use the words of the one it adds, or the lesson says
    it twice."""
    from ptexplore import i18n
    from ptexplore.augment.budget import _OFF
    from ptexplore.i18n import Lang

    zh = i18n.catalog(Lang.ZH)
    offering = [m for m in zh if _OFF in m]
    assert len(offering) >= 5  # _OFF itself and the hints of Resize, RandomResizedCrop, …
    assert all(zh[_OFF] in zh[m] for m in offering), [m for m in offering if zh[_OFF] not in zh[m]]

"""Calibrate the augmentation budget's cost model: ns of CPU per unit of work, per kind.

Run: .venv/bin/python bench/augment_budget.py            (about 3 minutes on 2 cores)
     .venv/bin/python bench/augment_budget.py --check    (model vs measured only)
     .venv/bin/python bench/augment_budget.py --memory   (working memory, ~1 minute)

Every kind of ``ptexplore.augment.budget.NS_PER_UNIT`` is measured for the four dtypes a
pipeline can carry (uint8, float16, float32, float64) the way the server runs transforms:
torch intra-op threads = 1, CPU time of this thread (``time.thread_time``: other processes'
load does not count), median of 5 calls after a warm-up, the larger of two passes.
Pointwise kinds run on a 1024×1024 RGB image (out of cache, like a real photo), heavy
kinds on 128–512 px. The table printed at the end is pasted into budget.py (rounded up,
the larger of two runs); ``--check`` then compares the model's estimate with the measured
CPU time of whole grids. ``--memory`` measures ``SCRATCH_BYTES`` (working memory per
element: peak RSS of a fresh process per kind and dtype).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptexplore.augment import budget
from ptexplore.augment.pipeline import Pipeline, Step, train_preset, val_preset
from ptexplore.augment.preview import run_grid
from ptexplore.rng import Stream

DTYPES = (torch.uint8, torch.float16, torch.float32, torch.float64)
I = v2.InterpolationMode  # noqa: E741


def cpu_ns(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median CPU ns of this thread for one call of ``fn`` (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.thread_time_ns()
        fn()
        times.append(time.thread_time_ns() - t0)
    return float(statistics.median(times))


def image(side: int, dtype: torch.dtype, c: int = 3, h: int | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (c, h or side, side), dtype=torch.uint8, generator=g)
    return x if dtype == torch.uint8 else (x.to(dtype) / 255).to(dtype)


def per(unit: float, fn: Callable[[], object]) -> float:
    return (cpu_ns(fn) - CALL) / unit


def each_dtype(measure: Callable[[torch.dtype], float]) -> tuple[float, ...]:
    out = []
    for dt in DTYPES:
        try:
            out.append(max(measure(dt), 0.0))
        except (TypeError, RuntimeError, ValueError):
            out.append(math.nan)  # not supported on this dtype: the run fails, cheaply
    ok = [v for v in out if not math.isnan(v)]
    return tuple(max(ok) if math.isnan(v) else v for v in out)


def pointwise(t: v2.Transform, side: int = 1024) -> tuple[float, ...]:
    def m(dt: torch.dtype) -> float:
        x = image(side, dt)
        return per(x.numel(), lambda: t(x))

    return each_dtype(m)


CALL = 0.0


def measure_all() -> dict[str, tuple[float, ...]]:
    global CALL
    torch.set_num_threads(1)
    table: dict[str, tuple[float, ...]] = {}
    tiny = image(8, torch.uint8)
    calls = [
        cpu_ns(lambda t=t: t(tiny), repeat=50)  # type: ignore[misc]
        for t in (
            v2.RandomHorizontalFlip(1.0),
            v2.ColorJitter(0.2),
            v2.RandomResizedCrop(8),
        )
    ]
    CALL = max(calls)
    table["call"] = (CALL,) * 4
    stream = Stream(0)

    def swap() -> None:
        with stream.active():
            pass

    table["draw"] = (cpu_ns(swap, repeat=200),) * 4
    print(f"call {CALL / 1e3:.0f} µs, draw {table['draw'][0] / 1e3:.0f} µs", flush=True)

    flip_h, flip_v = pointwise(v2.RandomHorizontalFlip(1.0)), pointwise(v2.RandomVerticalFlip(1.0))
    table["flip"] = tuple(max(a, b) for a, b in zip(flip_h, flip_v, strict=True))

    def pad(dt: torch.dtype, modes: tuple[str, ...] = ("constant",)) -> float:
        x = image(1024, dt)
        worst = 0.0
        for mode in modes:
            t = v2.Pad(64, padding_mode=mode)
            worst = max(worst, per(3 * 1152 * 1152, lambda t=t: t(x)))  # type: ignore[misc]
        return worst

    table["pad"] = each_dtype(pad)
    table["pad_reflect"] = each_dtype(lambda dt: pad(dt, ("edge", "reflect", "symmetric")))
    for mode in ("nearest", "bilinear", "bicubic"):

        def resize(dt: torch.dtype, mode: str = mode) -> float:
            x = image(1024, dt)
            worst = 0.0
            for size, aa in ((512, True), (2048, True), (700, False)):
                t = v2.Resize(size, interpolation=I(mode), antialias=aa)
                unit = 3 * max(1024 * 1024, size * size)
                worst = max(worst, per(unit, lambda t=t: t(x)))  # type: ignore[misc]
            return worst

        table[f"resize_{mode}"] = each_dtype(resize)
    for mode in ("nearest", "bilinear"):

        def warp(dt: torch.dtype, mode: str = mode) -> float:
            x = image(512, dt)
            worst = 0.0
            for t in (
                v2.RandomRotation((33, 33), interpolation=I(mode)),
                v2.RandomRotation((33, 33), interpolation=I(mode), expand=True),
                v2.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10, interpolation=I(mode)),
                v2.RandomPerspective(0.5, p=1.0, interpolation=I(mode)),
            ):
                out = t(x)
                worst = max(worst, per(out.numel(), lambda t=t: t(x)))  # type: ignore[misc]
            return worst

        table[f"warp_{mode}"] = each_dtype(warp)

    def elastic_warp(dt: torch.dtype) -> float:
        x = image(512, dt)
        disp = (torch.rand(1, 512, 512, 2) - 0.5) * 0.1
        fields = lambda: torch.concat(  # noqa: E731 - the make_params work outside the blur
            [torch.rand(1, 1, 512, 512) * 2 - 1, torch.rand(1, 1, 512, 512) * 2 - 1], 1
        ).permute([0, 2, 3, 1])
        return per(x.numel(), lambda: (fields(), F.elastic(x, disp)))

    table["elastic_warp"] = each_dtype(elastic_warp)
    big = 4096 * 4096
    table["rand"] = (per(big, lambda: torch.rand(1, 1, 4096, 4096)),) * 4

    def blur_fit(x: torch.Tensor, ks: tuple[int, ...] = (21, 41, 101)) -> tuple[float, float]:
        """(ns per element, ns per element per tap) that bound every measured kernel size:
        the fixed part is k=3's whole cost, the per-tap part the largest cost / k² of the
        big kernels (sigma = k/5: no subnormal taps). uint8 and float32 are measured at the
        preview's size (512 px: at 128 px the taps cost half as much)."""
        cost = {
            k: per(x.numel(), lambda k=k: F.gaussian_blur(x, [k, k], [k * 0.2] * 2))  # type: ignore[misc]
            for k in (3, *ks)
        }
        return cost[3], max(cost[k] / k**2 for k in ks)

    # float16 with k ≥ 15 does not finish (limits.F16_BLUR_MAX_KERNEL refuses it): k ≤ 13
    fits = [
        blur_fit(image(512, dt))
        if dt in (torch.uint8, torch.float32)
        else blur_fit(image(128, dt), (9, 13))
        if dt == torch.float16
        else blur_fit(image(128, dt))
        for dt in DTYPES
    ]
    table["blur_px"] = tuple(f[0] for f in fits)
    table["blur_tap"] = tuple(f[1] for f in fits)

    def subnormal_fit(dt: torch.dtype) -> float:
        """ns per element per subnormal tap: GaussianBlur(45) at sigma 1.5 (232 subnormal
        taps in float32) minus the same kernel size at sigma 9 (none)."""
        x = image(256, dt)
        taps = budget.subnormal_taps(45, 1.5, 1.5, "float32" if dt == torch.uint8 else str(dt)[6:])
        slow = per(x.numel(), lambda: F.gaussian_blur(x, [45, 45], [1.5, 1.5]))
        fast = per(x.numel(), lambda: F.gaussian_blur(x, [45, 45], [9.0, 9.0]))
        return (slow - fast) / taps

    # float16 blurs this big are refused; float64 has no subnormal taps at sigma 1.5
    sub = [subnormal_fit(torch.uint8), subnormal_fit(torch.float32)]
    table["blur_subnormal"] = (max(sub),) * 4
    # ElasticTransform blurs two 1-channel float32 fields: conv2d's 1-channel path differs
    field = blur_fit(torch.rand(1, 1, 256, 256))
    table["field_px"], table["field_tap"] = (field[0],) * 4, (field[1],) * 4
    for part, t in (
        ("brightness", v2.ColorJitter(brightness=0.5)),
        ("contrast", v2.ColorJitter(contrast=0.5)),
        ("saturation", v2.ColorJitter(saturation=0.5)),
        ("hue", v2.ColorJitter(hue=0.2)),
    ):
        table[f"jitter_{part}"] = pointwise(t, 512 if part == "hue" else 1024)
    gray1, gray3 = pointwise(v2.Grayscale(1)), pointwise(v2.Grayscale(3))
    table["gray"] = tuple(max(a, b) for a, b in zip(gray1, gray3, strict=True))
    table["invert"] = pointwise(v2.RandomInvert(1.0))
    table["posterize"] = pointwise(v2.RandomPosterize(3, 1.0))
    table["solarize"] = pointwise(v2.RandomSolarize(0.5, 1.0))
    table["sharpness"] = pointwise(v2.RandomAdjustSharpness(3.0, 1.0), 512)
    table["autocontrast"] = pointwise(v2.RandomAutocontrast(1.0))
    table["equalize"] = pointwise(v2.RandomEqualize(1.0), 512)
    table["erase"] = pointwise(v2.RandomErasing(1.0, scale=(0.32, 0.33)))
    table["normal"] = (per(big, lambda: torch.empty(big).normal_()),) * 4
    table["normalize"] = pointwise(v2.Normalize([0.5] * 3, [0.2] * 3))

    def todtype(dt: torch.dtype) -> float:
        x = image(1024, dt)
        return max(
            per(x.numel(), lambda o=o: v2.ToDtype(o, scale=True)(x))  # type: ignore[misc]
            for o in DTYPES
            if o != dt
        )

    table["todtype"] = each_dtype(todtype)
    aug = v2.AugMix()
    ops = {**aug._AUGMENTATION_SPACE, "Invert": None}
    for mode in ("nearest", "bilinear"):

        def auto_op(dt: torch.dtype, mode: str = mode) -> float:
            x = image(512, dt)
            worst = 0.0
            for op in ops:
                mag = {"Posterize": 4.0, "Solarize": 0.5, "TranslateX": 50.0, "TranslateY": 50.0}
                m = mag.get(op, 0.3 if op.startswith("Shear") else 20.0)
                cost = per(
                    x.numel(),
                    lambda op=op, m=m: aug._apply_image_or_video_transform(  # type: ignore[misc]
                        x, op, m, interpolation=I(mode), fill=aug._fill
                    ),
                )
                worst = max(worst, cost)
            return worst

        table[f"auto_op_{mode}"] = each_dtype(auto_op)

    def augmix_mix(dt: torch.dtype) -> float:
        x = image(512, dt)
        t = v2.AugMix(mixture_width=4, chain_depth=1)
        object.__setattr__(t, "_apply_image_or_video_transform", lambda image, *a, **k: image)
        return per(x.numel() * 5, lambda: t(x))

    table["augmix_mix"] = each_dtype(augmix_mix)

    disp = torch.rand(1, 1024, 1024, 2)
    scale = torch.tensor([512.0, 512.0])
    table["describe_elastic"] = (
        cpu_ns(lambda: float((disp * scale).norm(dim=-1).max())) / (1024 * 1024),
    ) * 4
    return table


# ------------------------------------------------------------------- working memory

#: One transform per SCRATCH_BYTES kind (and its input side: im2col kinds on a small image).
PEAK_CASES: dict[str, tuple[str, int]] = {
    "resize": ("v2.Resize(2400)", 1500),
    "pad_reflect": ("v2.Pad(100, padding_mode='reflect')", 1500),
    "warp": ("v2.RandomRotation(30, expand=True)", 1500),
    "elastic": ("v2.ElasticTransform()", 1500),
    "jitter_brightness": ("v2.ColorJitter(brightness=0.5)", 1500),
    "jitter_contrast": ("v2.ColorJitter(contrast=0.5)", 1500),
    "jitter_saturation": ("v2.ColorJitter(saturation=0.5)", 1500),
    "jitter_hue": ("v2.ColorJitter(hue=0.2)", 1500),
    "gray": ("v2.RandomGrayscale(1.0)", 1500),
    "solarize": ("v2.RandomSolarize(0.5, 1.0)", 1500),
    "sharpness": ("v2.RandomAdjustSharpness(2.0, 1.0)", 1500),
    "autocontrast": ("v2.RandomAutocontrast(1.0)", 1500),
    "equalize": ("v2.RandomEqualize(1.0)", 1500),
    "blur": ("v2.GaussianBlur(9)", 256),  # im2col on float16/float64: small images
    "blur41": ("v2.GaussianBlur(41)", 256),
    "augmix": ("v2.AugMix()", 1500),
}

_PEAK = """
import resource, sys, torch
from torchvision.transforms import v2
torch.set_num_threads(1)
t = {expr}
x = torch.randint(0, 256, (3, {side}, {side}), dtype=torch.uint8)
if "{dtype}" != "uint8":
    x = (x.to(torch.{dtype}) / 255).to(torch.{dtype})
try:
    t(x[:, :128, :128].contiguous())
except Exception:
    print("nan"); sys.exit()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = 0
for _ in range(3):
    y = t(x); out = max(out, y.numel() * y.element_size()); del y
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print((peak - base - out) / x.numel())
"""


def measure_memory() -> dict[str, tuple[float, ...]]:
    """Bytes of working memory per input element: peak RSS of a fresh process."""
    import subprocess

    table: dict[str, tuple[float, ...]] = {}
    for kind, (expr, side) in PEAK_CASES.items():
        row = []
        for dt in DTYPES:
            dtype = str(dt).removeprefix("torch.")
            code = _PEAK.format(expr=expr, side=side, dtype=dtype)
            # a crash (float16 grid_sample segfaults) or a run that does not finish (a
            # float16 blur with k ≥ 15): budget.py refuses both; each counts as nan
            try:
                run = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
                )
                words = run.stdout.split() if run.returncode == 0 else ["nan"]
            except subprocess.TimeoutExpired:
                words = ["nan"]
            row.append(max(float(words[-1]), 0.0) if words[-1] != "nan" else math.nan)
        ok = [v for v in row if not math.isnan(v)]
        table[kind] = tuple(max(ok) if math.isnan(v) else v for v in row)
        print(kind, [f"{v:.1f}" for v in row], flush=True)
    # GaussianBlur's two terms: bytes per element (k=9) and per element per tap (k=41)
    b9, b41 = table.pop("blur"), table.pop("blur41")
    table["blur_tap"] = tuple(
        max(0.0, (c - a) / (41**2 - 81)) for a, c in zip(b9, b41, strict=True)
    )
    table["blur"] = tuple(a - 81 * t for a, t in zip(b9, table["blur_tap"], strict=True))
    return table


def _fmt(v: float) -> str:
    if v >= 1000:
        return f"{v:_.0f}.0"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def check_model() -> None:
    """The model's estimate vs the measured CPU time of whole grids (1 thread)."""
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1)
    photo = torch.randint(0, 256, (3, 1536, 2048), dtype=torch.uint8, generator=g)
    preview = torch.randint(0, 256, (3, 512, 683), dtype=torch.uint8, generator=g)
    cases: list[tuple[str, Pipeline, torch.Tensor, int]] = [
        ("train preset, 3 MP, 16", train_preset(), photo, 16),
        ("val preset, 3 MP, 16", val_preset(), photo, 16),
        (
            "blur k=31, preview, 4",
            Pipeline((Step.make("GaussianBlur", kernel_size=31),)),
            preview,
            4,
        ),
        (
            "jitter all + flip, preview, 16",
            Pipeline(
                (
                    Step.make("ColorJitter", brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
                    Step.make("RandomHorizontalFlip"),
                )
            ),
            preview,
            16,
        ),
        (
            "rotate expand + affine, preview, 8",
            Pipeline(
                (
                    Step.make("RandomRotation", degrees=45.0, expand=True),
                    Step.make("RandomAffine", degrees=10.0, interpolation="bilinear"),
                )
            ),
            preview,
            8,
        ),
        ("elastic σ=5, preview, 4", Pipeline((Step.make("ElasticTransform"),)), preview, 4),
        ("AutoAugment, preview, 16", Pipeline((Step.make("AutoAugment"),)), preview, 16),
        ("AugMix, 256², 8", Pipeline((Step.make("AugMix"),)), preview[:, :256, :256], 8),
        (
            "pads + flips, 1024², 2",
            Pipeline(
                (
                    *(Step.make("Pad", padding=64) for _ in range(4)),
                    Step.make("RandomVerticalFlip", p=1.0),
                )
            ),
            photo[:, :1024, :1024],
            2,
        ),
        (
            "float pipeline, preview, 16",
            Pipeline(
                (
                    Step.make("ToDtype", dtype="float32", scale=True),
                    Step.make("GaussianBlur", kernel_size=9),
                    Step.make("RandomErasing", p=1.0, value="random"),
                    Step.make("Normalize"),
                )
            ),
            preview,
            16,
        ),
    ]
    print(f"{'case':38s} {'model':>9s} {'measured':>9s}  ratio")
    for label, pipe, img, n in cases:
        work = budget.grid_work(pipe, img.shape, img.dtype, n=n)
        t0 = time.thread_time()
        run_grid(pipe, img, seed=0, n=n, max_seconds=1e9, max_bytes=2**40)
        real = time.thread_time() - t0
        print(f"{label:38s} {work.seconds:8.3f}s {real:8.3f}s  {work.seconds / real:5.2f}")


def main() -> None:
    if "--memory" in sys.argv:
        print("\nSCRATCH_BYTES = {  # uint8, float16, float32, float64")
        for kind, row in measure_memory().items():
            print(f'    "{kind}": ({", ".join(_fmt(v) for v in row)}),')
        print("}")
        return
    if "--check" not in sys.argv:
        # two passes, the slower of each: a 2-core machine shared with other work is noisy
        first, second = measure_all(), measure_all()
        table = {
            k: tuple(max(a, b) for a, b in zip(first[k], second[k], strict=True)) for k in first
        }
        print("\nNS_PER_UNIT = {  # uint8, float16, float32, float64")
        for kind, row in table.items():
            print(f'    "{kind}": ({", ".join(_fmt(v) for v in row)}),')
        print("}\n")
    check_model()


if __name__ == "__main__":
    main()

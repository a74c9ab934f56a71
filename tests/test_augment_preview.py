"""Seeded grids: determinism, equality with v2.Compose, honest drawn parameters, display."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from plotly.graph_objects import Figure
from torchvision.transforms import v2

from ptexplore.augment.pipeline import (
    Pipeline,
    Step,
    keeps_source_size,
    preview_source_side,
    train_preset,
    val_preset,
)
from ptexplore.augment.preview import channel_stats, histogram_figure, run_grid
from ptexplore.errors import LessonError
from ptexplore.images import to_display


def _coords(h: int = 120, w: int = 160) -> torch.Tensor:
    """Pixel (y, x) stores x//2 in R, y//2 in G: crops reveal where they were taken."""
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack([xx // 2, yy // 2, (xx + yy) % 256]).to(torch.uint8)


def _photo() -> torch.Tensor:
    return torch.randint(
        0, 256, (3, 90, 120), dtype=torch.uint8, generator=torch.Generator().manual_seed(3)
    )


def test_same_seed_same_grid_pixel_equal_and_other_seed_differs() -> None:
    img = _photo()
    a = run_grid(train_preset(), img, seed=7, n=8)
    b = run_grid(train_preset(), img, seed=7, n=8)
    c = run_grid(train_preset(), img, seed=8, n=8)
    assert all(torch.equal(x.tensor, y.tensor) for x, y in zip(a.samples, b.samples, strict=True))
    assert [s.caption for s in a.samples] == [s.caption for s in b.samples]
    assert any(
        not torch.equal(x.tensor, y.tensor) for x, y in zip(a.samples, c.samples, strict=True)
    )
    # the global RNG is restored: drawing a grid does not disturb torch's stream
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    run_grid(train_preset(), img, seed=7, n=2)
    assert torch.equal(torch.rand(1), before)


def test_grid_equals_plain_compose_with_manual_seed() -> None:
    img = _photo()
    pipe = train_preset().add("ColorJitter").set_param(5, "brightness", 0.4).add("RandomErasing")
    grid = run_grid(pipe, img, seed=11, n=6)
    compose = pipe.build()
    with torch.random.fork_rng():
        torch.manual_seed(11)
        ref = [compose(img) for _ in range(6)]
    assert all(torch.equal(r, s.tensor) for r, s in zip(ref, grid.samples, strict=True))


def test_crop_boxes_in_captions_are_the_ones_applied() -> None:
    img = _coords()
    pipe = Pipeline((Step.make("RandomCrop", size=(40, 50)),))
    grid = run_grid(pipe, img, seed=0, n=10)
    for s in grid.samples:
        m = re.search(r"crop 50×40 at x=(\d+), y=(\d+)", s.caption)
        assert m, s.caption
        x, y = int(m.group(1)), int(m.group(2))
        assert int(s.tensor[0, 0, 0]) == x // 2 and int(s.tensor[1, 0, 0]) == y // 2


def test_flip_and_angle_captions_match_the_output() -> None:
    img = _coords()
    flips = run_grid(Pipeline((Step.make("RandomHorizontalFlip"),)), img, seed=1, n=12)
    said = [("no h-flip" not in s.caption) for s in flips.samples]
    did = [torch.equal(s.tensor, img.flip(-1)) for s in flips.samples]
    assert said == did and any(did) and not all(did)
    rot = run_grid(Pipeline((Step.make("RandomRotation", degrees=30.0),)), img, seed=2, n=4)
    for s in rot.samples:
        angle = float(re.search(r"angle ([+-][\d.]+)°", s.caption).group(1))  # type: ignore[union-attr]
        assert -30 <= angle <= 30
        expected = v2.functional.rotate(img, angle)
        assert (s.tensor.int() - expected.int()).abs().float().mean() < 20
    jitter = run_grid(
        Pipeline((Step.make("ColorJitter", brightness=0.5, hue=0.1),)), img, seed=3, n=3
    )
    for s in jitter.samples:
        b = float(re.search(r"bri×([\d.]+)", s.caption).group(1))  # type: ignore[union-attr]
        assert 0.5 <= b <= 1.5 and "hue" in s.caption
    auto = run_grid(Pipeline((Step.make("RandAugment", num_ops=2),)), img, seed=4, n=3)
    assert all(s.caption.count("(") + s.caption.count(",") >= 1 for s in auto.samples)


def test_step_trace_shows_every_step_with_shape_and_dtype() -> None:
    img = _photo()
    grid = run_grid(val_preset(), img, seed=0, n=3, trace_index=2)
    names = [t.name for t in grid.trace]
    assert names == ["input", "Resize", "CenterCrop", "ToImage", "ToDtype", "Normalize"]
    assert grid.trace[1].shape == (3, 256, 341)
    assert grid.trace[2].shape == (3, 224, 224) and grid.trace[2].dtype == "uint8"
    assert grid.trace[4].dtype == "float32" and grid.trace[4].value_range[1] <= 1.0
    assert grid.trace[-1].norm is not None and grid.trace[3].norm is None
    assert "Resize → 3×256×341 uint8" in grid.trace[1].caption
    assert torch.equal(grid.trace[-1].tensor, grid.samples[2].tensor)


def test_denormalised_display_recovers_the_uint8_crop() -> None:
    img = _photo()
    grid = run_grid(val_preset(), img, seed=0, n=1)
    shown = to_display(grid.samples[0].tensor, grid.norm)
    crop = grid.trace[2].tensor.permute(1, 2, 0).numpy()
    assert shown.dtype == np.uint8 and shown.shape == (224, 224, 3)
    assert np.abs(shown.astype(int) - crop.astype(int)).max() <= 1
    gray = to_display(torch.full((1, 8, 8), 0.5))
    assert gray.shape == (8, 8) and int(gray[0, 0]) == 128


def test_channel_stats_and_histogram_are_computed_from_the_tensor() -> None:
    x = torch.stack([torch.zeros(10, 10), torch.ones(10, 10), torch.arange(100.0).view(10, 10)])
    stats = channel_stats(x)
    assert [s.channel for s in stats] == ["R", "G", "B"]
    assert stats[1].mean == 1.0 and stats[0].std == 0.0
    assert stats[2].mean == pytest.approx(49.5) and stats[2].max == 99.0
    fig = Figure(histogram_figure(x, title="t", bins=20))  # validated by plotly here
    assert len(fig.data) == 3 and all(sum(tr.y) == 100 for tr in fig.data)


def test_runtime_failures_become_lesson_errors_with_a_fix() -> None:
    img = _photo()
    bad = Pipeline((Step.make("Normalize"),))
    with pytest.raises(LessonError) as info:
        run_grid(bad, img, seed=0, n=2)
    assert "Step 1 (Normalize) failed on a 3×90×120 uint8 tensor" in info.value.message
    assert "ToDtype" in (info.value.fix or "")
    with pytest.raises(LessonError, match="1 to 64 samples"):
        run_grid(train_preset(), img, seed=0, n=65)


def test_preview_source_side_rules() -> None:
    assert preview_source_side(train_preset()) == 640
    assert preview_source_side(val_preset()) == 512
    assert preview_source_side(Pipeline((Step.make("CenterCrop"),))) is None
    # only scale-free steps: output = source size, previewed on a 512-px copy (and said so)
    jitter = Pipeline((Step.make("ColorJitter"),))
    assert preview_source_side(jitter) == 512 and keeps_source_size(jitter)
    flip_then_crop = Pipeline((Step.make("RandomHorizontalFlip"), Step.make("RandomResizedCrop")))
    assert preview_source_side(flip_then_crop) == 640 and not keeps_source_size(flip_then_crop)
    assert preview_source_side(train_preset().set_enabled(0, False)) == 512
    blur = Pipeline((Step.make("ColorJitter"), Step.make("GaussianBlur")))
    assert preview_source_side(blur) is None and keeps_source_size(blur)


def test_grid_memory_budget_stops_with_a_plain_message() -> None:
    img = torch.zeros(3, 400, 500, dtype=torch.uint8)  # 600 000 bytes per uint8 sample
    pipe = Pipeline((Step.make("RandomHorizontalFlip"),))
    assert len(run_grid(pipe, img, seed=0, n=8, max_bytes=5_000_000).samples) == 8
    with pytest.raises(LessonError) as info:
        run_grid(pipe, img, seed=0, n=9, max_bytes=5_000_000)
    assert info.value.message.startswith("9 samples of 3×400×500 uint8 would take 5 MB")
    assert "about 8 samples of this size" in info.value.message
    assert "Show at most 8 samples" in (info.value.fix or "")
    floats = pipe.add("ToDtype").set_param(1, "scale", True)  # 4 bytes per value
    with pytest.raises(LessonError, match="One sample of 3×400×500 float32 alone takes 2 MB"):
        run_grid(floats, img, seed=0, n=1, max_bytes=1_000_000)
    # sizes that vary per sample are caught by the running total
    grow = Pipeline((Step.make("RandomRotation", degrees=180.0, expand=True),))
    sizes = [s.tensor.numel() for s in run_grid(grow, img, seed=3, n=6).samples]
    budget = sizes[0] * 6 + 1  # passes the first-sample estimate ...
    assert sum(sizes) > budget  # ... but the later, larger rotations overflow it
    with pytest.raises(LessonError, match="would take"):
        run_grid(grow, img, seed=3, n=6, max_bytes=budget)


# ------------------------------------------------------------------ through the sandbox


def test_the_sandboxed_grid_is_the_in_process_grid() -> None:
    """What the pages call (draw_grid: a sandboxed child) gives the same samples, draws and
    step trace as run_grid here, for the same seed."""
    from ptexplore.augment.preview import draw_grid

    img = _photo()
    pipe = train_preset()
    here = run_grid(pipe, img, seed=7, n=6, trace_index=2)
    there = draw_grid(pipe, img, seed=7, n=6, trace_index=2)
    pairs = list(zip(here.samples, there.samples, strict=True))
    assert len(pairs) == 6 and all(torch.equal(a.tensor, b.tensor) for a, b in pairs)
    assert [s.draws for s in here.samples] == [s.draws for s in there.samples]
    steps = list(zip(here.trace, there.trace, strict=True))
    assert [(a.step, a.name, a.draw, a.norm) for a, _ in steps] == [
        (b.step, b.name, b.draw, b.norm) for _, b in steps
    ]
    assert all(torch.equal(a.tensor, b.tensor) for a, b in steps)
    assert (here.seed, here.norm, here.trace_index) == (there.seed, there.norm, there.trace_index)


def test_the_grid_tabs_tiles_made_in_the_sandbox_are_the_in_process_ones() -> None:
    """draw_tiles (grid and tiles in one sandboxed job) = run_grid here, then its tiles:
    the same JPEG bytes, draws, shapes, dtypes and printed fingerprints."""
    from ptexplore.augment.export import export_output, fingerprint
    from ptexplore.augment.tiles import draw_tiles
    from ptexplore.images.display import jpeg, to_display

    img = _photo()
    pipe = train_preset()
    here = run_grid(pipe, img, seed=11, n=5, trace_index=None)
    there = draw_tiles(pipe, img, seed=11, n=5)
    assert there.images == tuple(jpeg(to_display(s.tensor, here.norm)) for s in here.samples)
    assert [t.draws for t in there.samples] == [s.draws for s in here.samples]
    assert [t.caption for t in there.samples] == [s.caption for s in here.samples]
    assert there.output_shapes == here.output_shapes
    assert {t.dtype for t in there.samples} == {"float32"}
    assert [t.fingerprint for t in there.samples] == [fingerprint(s.tensor) for s in here.samples]
    assert there.printed == export_output([s.tensor for s in here.samples])
    assert (there.seed, there.norm) == (here.seed, here.norm)


def test_a_grid_over_budget_is_refused_here_without_a_sandbox_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ptexplore.augment import preview

    class NoJob:
        def call(self, *_a: object, **_k: object) -> None:
            raise AssertionError("a refused grid must not start a job")

    monkeypatch.setattr(preview, "_GRID_JOB", NoJob())
    big = torch.zeros(3, 4000, 3000, dtype=torch.uint8)
    pipe = Pipeline((Step.make("ToDtype", dtype="float32", scale=True),))
    with pytest.raises(LessonError, match="one request may use at most"):
        preview.draw_grid(pipe, big, seed=0, n=16)
    with pytest.raises(LessonError, match="1 to"):
        preview.draw_grid(pipe, big, seed=0, n=0)
    from ptexplore.augment.tiles import draw_tiles

    with pytest.raises(LessonError, match="one request may use at most"):
        draw_tiles(pipe, big, seed=0, n=16)

"""Boxes, masks and keypoints through the Augmentation lab's pipeline: coordinates equal
torchvision's functional kernels on the same drawn parameters, the drawn tiles hold the
boxes, each box's fate is what happened to it, the budget covers the masks, and the
exported script rebuilds the same tensors bit for bit."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from ptexplore.augment import Pipeline, Step
from ptexplore.augment.export import export_code, export_output
from ptexplore.augment.preview import run_grid
from ptexplore.augment.targets import (
    BOX_COLOURS,
    Annotations,
    BoxFormat,
    Fate,
    draw,
    png_of,
    target,
    xyxy_rows,
)
from ptexplore.augment.tiles import run_tiles

H, W = 120, 160
BOXES = ((10.0, 20.0, 70.0, 90.0), (90.0, 5.0, 150.0, 60.0), (0.0, 100.0, 40.0, 120.0))


def _image() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (3, H, W), dtype=torch.uint8, generator=g)


def _ann(fmt: BoxFormat = BoxFormat.XYXY) -> Annotations:
    from ptexplore.augment.targets import from_xyxy

    ids = np.zeros((H, W), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(BOXES):
        ids[int(y1) : int(y2), int(x1) : int(x2)] = i + 1
    return Annotations(
        (H, W),
        fmt,
        tuple(from_xyxy(b, fmt) for b in BOXES),
        (1, 2, 1),
        ((1, "cat"), (2, "cup")),
        ((30.0, 40.0), (120.0, 30.0)),
        ("eye", "rim"),
        png_of(ids),
    )


def _params(t: v2.Transform, seed: int, flat: list[Any]) -> dict[str, Any]:
    """What ``t`` draws first after ``torch.manual_seed(seed)`` (a random-apply transform
    first draws its coin: p=1 here, so it fires)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if isinstance(t, v2.RandomPerspective | v2.RandomHorizontalFlip | v2.RandomZoomOut):
            torch.rand(1)
        return t.make_params(flat)


Kernel = Callable[[tv_tensors.BoundingBoxes, dict[str, Any], v2.Transform], Any]
#: each geometric catalog transform, its settings, and the functional kernel that applies
#: its drawn parameters to boxes
GEOMETRIC: dict[str, tuple[dict[str, Any], Kernel]] = {
    "Resize": ({"size": 64}, lambda b, p, t: F.resize(b, [64, 85])),
    "CenterCrop": ({"size": 80}, lambda b, p, t: F.center_crop(b, [80, 80])),
    "RandomResizedCrop": (
        {"size": 64},
        lambda b, p, t: F.resized_crop(b, p["top"], p["left"], p["height"], p["width"], [64, 64]),
    ),
    "RandomCrop": (
        {"size": 96, "padding": 4},
        lambda b, p, t: F.crop(
            F.pad(b, p["padding"]), p["top"], p["left"], p["height"], p["width"]
        ),
    ),
    "Pad": ({"padding": 7}, lambda b, p, t: F.pad(b, [7, 7, 7, 7])),
    "RandomHorizontalFlip": ({"p": 1.0}, lambda b, p, t: F.horizontal_flip(b)),
    "RandomVerticalFlip": ({"p": 1.0}, lambda b, p, t: F.vertical_flip(b)),
    "RandomRotation": (
        {"degrees": 40.0, "expand": True},
        lambda b, p, t: F.rotate(b, p["angle"], expand=True),
    ),
    "RandomAffine": (
        {"degrees": 20.0, "translate": (0.2, 0.1), "scale": (0.8, 1.2), "shear": 10.0},
        lambda b, p, t: F.affine(
            b, angle=p["angle"], translate=p["translate"], scale=p["scale"], shear=p["shear"]
        ),
    ),
    "RandomPerspective": (
        {"p": 1.0, "distortion_scale": 0.4},
        lambda b, p, t: F.perspective(b, None, None, coefficients=p["coefficients"]),
    ),
    "ElasticTransform": (
        {"alpha": 40.0, "sigma": 5.0},
        lambda b, p, t: F.elastic(b, p["displacement"]),
    ),
    "RandomZoomOut": ({"p": 1.0}, lambda b, p, t: F.pad(b, p["padding"])),
    "RandomIoUCrop": (
        {},
        lambda b, p, t: t.transform(b, p),  # crop, then boxes outside it set to 0
    ),
}


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
def test_box_coordinates_equal_torchvisions_kernels_on_the_same_parameters(name: str) -> None:
    settings, kernel = GEOMETRIC[name]
    pipe = Pipeline((Step.make(name, **settings),))
    ann = _ann()
    img = _image()
    grid = run_grid(pipe, img, seed=7, n=1, trace_index=None, target=ann)
    (sample,) = grid.samples
    assert sample.target is not None
    t = pipe.build_steps()[0]
    boxes = target(ann)["boxes"]
    params = _params(t, 7, [tv_tensors.Image(img), boxes])
    want = kernel(boxes, params, t)
    got = sample.target["boxes"]
    assert got.format is want.format and got.canvas_size == want.canvas_size
    torch.testing.assert_close(got.as_subclass(torch.Tensor), want.as_subclass(torch.Tensor))
    assert tuple(sample.tensor.shape[-2:]) == tuple(want.canvas_size)


def test_boxes_declared_in_another_format_stay_in_it_and_move_the_same() -> None:
    pipe = Pipeline((Step.make("RandomHorizontalFlip", p=1.0),))
    xyxy = run_grid(pipe, _image(), seed=0, n=1, target=_ann()).samples[0]
    cxcywh = run_grid(pipe, _image(), seed=0, n=1, target=_ann(BoxFormat.CXCYWH)).samples[0]
    assert xyxy.target is not None and cxcywh.target is not None
    assert cxcywh.target["boxes"].format is tv_tensors.BoundingBoxFormat.CXCYWH
    assert np.allclose(xyxy_rows(cxcywh.target["boxes"]), xyxy_rows(xyxy.target["boxes"]))
    assert xyxy_rows(xyxy.target["boxes"])[0] == pytest.approx((W - 70, 20, W - 10, 90))
    # masks and keypoints flipped too
    # a keypoint is a pixel (its index flips to W - 1 - x), a box edge a line between them
    assert xyxy.target["keypoints"].tolist()[0] == pytest.approx([W - 1 - 30, 40])
    assert xyxy.target["masks"][0, 50, W - 40] == 1 and xyxy.target["masks"][0, 50, 40] == 0


def test_iou_crop_leaves_degenerate_boxes_that_sanitize_removes() -> None:
    crop = Pipeline((Step.make("RandomIoUCrop"),))
    both = crop.add("SanitizeBoundingBoxes")
    alone = run_grid(crop, _image(), seed=0, n=12, trace_index=None, target=_ann())
    sanitised = run_grid(both, _image(), seed=0, n=12, trace_index=0, target=_ann())
    degenerate = sum(f.fate is Fate.DEGENERATE for s in alone.samples for f in s.fates)
    removed = sum(f.fate is Fate.REMOVED for s in sanitised.samples for f in s.fates)
    assert degenerate > 0 and removed == degenerate  # the same draws: the same boxes
    for s in sanitised.samples:
        assert s.target is not None
        n = len(s.ids)
        assert len(s.target["boxes"]) == len(s.target["labels"]) == len(s.target["masks"]) == n
        rows = xyxy_rows(s.target["boxes"])
        assert all(x2 - x1 >= 1 and y2 - y1 >= 1 for x1, y1, x2, y2 in rows)
    # the trace says which step did it: the crop made it degenerate, Sanitize removed it
    crop_step, sanitise_step = sanitised.trace[1], sanitised.trace[2]
    gone = {f.box for f in sanitise_step.fates if f.fate is Fate.REMOVED}
    assert gone == {f.box for f in crop_step.fates if f.fate is Fate.DEGENERATE}


def test_a_box_cut_at_the_canvas_edge_is_clipped_not_moved() -> None:
    shift = Pipeline((Step.make("RandomAffine", translate=(0.5, 0.0)),))
    grid = run_grid(shift, _image(), seed=3, n=6, trace_index=None, target=_ann())
    fates = {f.fate for s in grid.samples for f in s.fates}
    assert Fate.CLIPPED in fates and Fate.MOVED in fates
    for s in grid.samples:
        assert s.target is not None
        for x1, y1, x2, y2 in xyxy_rows(s.target["boxes"]):
            assert 0 <= x1 <= x2 <= W and 0 <= y1 <= y2 <= H  # clamped to the canvas


def test_the_drawn_tile_holds_the_box_in_its_colour() -> None:
    black = np.zeros((H, W, 3), dtype=np.uint8)
    result = {
        "boxes": tv_tensors.BoundingBoxes([[20, 30, 100, 90]], format="XYXY", canvas_size=(H, W))
    }
    pic = draw(black, result, (0,), ("cat",))
    red = tuple(int(BOX_COLOURS[0][i : i + 2], 16) for i in (1, 3, 5))
    assert tuple(pic[60, 20]) == red and tuple(pic[30, 60]) == red  # left and top edges
    assert tuple(pic[60, 60]) == (0, 0, 0)  # inside: not filled
    tiles = run_tiles(Pipeline(), _image(), seed=0, n=1, target=_ann())
    with_boxes = np.asarray(__import__("PIL.Image").Image.open(io.BytesIO(tiles.images[0])))
    plain = run_tiles(Pipeline(), _image(), seed=0, n=1).images[0]
    without = np.asarray(__import__("PIL.Image").Image.open(io.BytesIO(plain)))
    assert np.abs(with_boxes.astype(int) - without.astype(int))[20:90, 10].mean() > 40
    assert "3 boxes: 3 unchanged" in tiles.samples[0].caption


def test_the_exported_script_rebuilds_the_same_image_boxes_and_masks(tmp_path: Any) -> None:
    from PIL import Image

    ann = _ann(BoxFormat.XYWH)
    img = _image()
    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.fromarray(img.permute(1, 2, 0).numpy()).save(photo)
    mask.write_bytes(ann.mask_png or b"")
    pipe = (
        Pipeline()
        .add("RandomIoUCrop")
        .add("SanitizeBoundingBoxes")
        .add("RandomHorizontalFlip")
        .add("Resize", params={"size": 64})
    )
    grid = run_grid(pipe, img, seed=11, n=5, trace_index=None, target=ann)
    want = export_output([s.tensor for s in grid.samples], [s.target for s in grid.samples])
    code = export_code(pipe, seed=11, n=5, image_path=str(photo), target=ann, mask_path=str(mask))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<exported>", "exec"), {"__name__": "__main__"})
    assert out.getvalue() == want
    assert "tv_tensors.BoundingBoxes(" in code and "format='XYWH'" in code
    assert "pipeline(img, target)" in code and "ptexplore" not in code.split('"""', 2)[2]


def test_a_detection_step_on_a_photo_without_boxes_says_what_to_do() -> None:
    from ptexplore.errors import LessonError

    with pytest.raises(LessonError) as err:
        run_grid(Pipeline().add("RandomIoUCrop"), _image(), seed=0, n=1)
    assert "requires input sample to contain" in str(err.value)  # torchvision's own words
    assert "pick a sample photo" in err.value.fix


def test_keypoints_pushed_off_the_canvas_are_clamped_or_removed() -> None:
    """CenterCrop(60) leaves a keypoint outside the canvas; ClampKeyPoints moves it onto
    the edge, SanitizeKeyPoints drops it — and neither touches the boxes or labels."""
    from ptexplore.errors import LessonError

    crop = Pipeline((Step.make("CenterCrop", size=60),))
    ann = _ann()
    base = run_grid(crop, _image(), seed=0, n=1, trace_index=None, target=ann)
    kept = base.samples[0].target
    assert kept is not None
    xy = kept["keypoints"].as_subclass(torch.Tensor).tolist()
    inside = [0 <= x < 60 and 0 <= y < 60 for x, y in xy]
    assert inside.count(False) >= 1  # the crop put a keypoint off the canvas
    clamped = run_grid(crop.add("ClampKeyPoints"), _image(), seed=0, n=1, target=ann)
    sanitised = run_grid(crop.add("SanitizeKeyPoints"), _image(), seed=0, n=1, target=ann)
    c, z = clamped.samples[0].target, sanitised.samples[0].target
    assert c is not None and z is not None
    clamped_xy = c["keypoints"].as_subclass(torch.Tensor).tolist()
    assert len(clamped_xy) == len(xy) and all(0 <= v <= 59 for p in clamped_xy for v in p)
    assert z["keypoints"].as_subclass(torch.Tensor).tolist() == [
        p for p, ok in zip(xy, inside, strict=True) if ok
    ]
    for t in (c, z):
        assert torch.equal(t["boxes"], kept["boxes"]) and torch.equal(t["labels"], kept["labels"])
    with pytest.raises(LessonError) as err:  # a photo without keypoints
        run_grid(crop.add("SanitizeKeyPoints"), _image(), seed=0, n=1)
    assert "No keypoints were found in the sample" in str(err.value)  # torchvision's words
    assert "they come with keypoints" in err.value.fix


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
def test_one_plane_of_instance_ids_gives_exactly_the_n_masks(name: str) -> None:
    settings, _ = GEOMETRIC[name]
    pipe = Pipeline((Step.make(name, **settings), Step.make("SanitizeBoundingBoxes")))
    args = dict(seed=5, n=3, trace_index=1, target=_ann())
    fast = run_grid(pipe, _image(), **args)  # type: ignore[arg-type]
    planes = run_grid(pipe, _image(), **args, instance_planes=True)  # type: ignore[arg-type]
    pairs = [*zip(fast.samples, planes.samples, strict=True)]
    for a, b in [*pairs, *zip(fast.trace, planes.trace, strict=True)]:
        assert a.target is not None and b.target is not None
        assert list(a.target) == list(b.target) and "ptexplore.instance_ids" not in a.target
        assert torch.equal(a.target["masks"], b.target["masks"]), name
        assert torch.equal(a.tensor, b.tensor) and a.ids == b.ids


def test_boxes_past_the_255th_with_a_mask_have_empty_masks_not_a_crash() -> None:
    """An 8-bit mask numbers at most 255 instances; a photo may have more boxes than that
    (the later ones without mask pixels): their masks are empty, from the id plane as from
    the N planes (the id plane's compare raised an OverflowError for id 256)."""
    ann = _ann()
    many = dataclasses.replace(
        ann,
        boxes=ann.boxes * 100,
        labels=ann.labels * 100,  # 300 boxes, ids 1-3 in the mask
    )
    pipe = Pipeline((Step.make("RandomHorizontalFlip", p=1.0),))
    fast = run_grid(pipe, _image(), seed=0, n=1, trace_index=None, target=many)
    planes = run_grid(
        pipe, _image(), seed=0, n=1, trace_index=None, target=many, instance_planes=True
    )
    a, b = fast.samples[0].target, planes.samples[0].target
    assert a is not None and b is not None
    assert a["masks"].shape == (300, H, W) and torch.equal(a["masks"], b["masks"])
    assert int(a["masks"][:3].sum()) > 0 and int(a["masks"][255:].sum()) == 0
    assert torch.equal(target(many)["masks"][:3], target(ann)["masks"])


def test_a_non_zero_fill_moves_the_n_planes_themselves() -> None:
    pipe = Pipeline((Step.make("RandomZoomOut", p=1.0, fill=9.0),))
    grid = run_grid(pipe, _image(), seed=0, n=1, target=_ann())
    masks = grid.samples[0].target["masks"]  # type: ignore[index]
    assert int(masks.max()) == 9  # torchvision fills every Mask plane with it


def test_a_negative_fill_with_masks_says_torchvision_fills_the_masks_too() -> None:
    from ptexplore.errors import LessonError

    pipe = Pipeline(
        (
            Step.make("ToDtype", scale=True),
            Step.make("Normalize"),  # values now about -2.1 to 2.6: a fill of -2 is one
            Step.make("Pad", padding=4, fill=-2.0),
        )
    )
    with pytest.raises(LessonError) as err:
        run_grid(pipe, _image(), seed=0, n=1, target=_ann())
    assert "fills the masks with this step's fill too" in str(err.value)
    assert '"others": value' in err.value.fix
    padded = run_grid(pipe, _image(), seed=0, n=1).samples[0].tensor  # the image alone
    assert float(padded[0, 0, 0]) == -2.0


@pytest.mark.parametrize("overlap", [False, True])
def test_masks_drawn_by_colour_equal_the_n_planes(overlap: bool) -> None:
    """50 masks drawn one plane per colour give the pixels torchvision draws from the 50
    planes; masks that overlap (torchvision blackens the overlaps) are drawn as the 50 planes."""
    from torchvision.utils import draw_segmentation_masks

    from ptexplore.augment.targets import BOX_COLOURS, draw

    g = torch.Generator().manual_seed(0)
    id_map = torch.randint(0, 51, (64, 80), generator=g, dtype=torch.uint8)
    masks = (id_map.unsqueeze(0) == torch.arange(1, 51, dtype=torch.uint8).view(-1, 1, 1)).to(
        torch.uint8
    )
    if overlap:
        masks[3, :10] = 1
    image = torch.randint(0, 256, (64, 80, 3), generator=g, dtype=torch.uint8).numpy()
    ids = tuple(range(50))
    got = draw(image, {"masks": tv_tensors.Mask(masks)}, ids, ("x",) * 50)
    want = draw_segmentation_masks(
        torch.from_numpy(image).permute(2, 0, 1),
        masks.bool(),
        alpha=0.4,
        colors=[BOX_COLOURS[i % len(BOX_COLOURS)] for i in ids],
    )
    assert np.array_equal(got, want.permute(1, 2, 0).numpy())

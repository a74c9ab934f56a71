"""Truths computed live, the pipeline model, and the export round trip (code + JSON)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ptexplore.augment.export import export_code, from_json, step_code, to_json
from ptexplore.augment.pipeline import Pipeline, Step, preset, train_preset, val_preset
from ptexplore.augment.preview import run_grid
from ptexplore.augment.truths import resize_truth, train_vs_val
from ptexplore.errors import InputError
from ptexplore.images.decode import Conversion, decode_image_bytes


def _file(path: Path, fmt: str, w: int = 160, h: int = 120) -> tuple[Path, bytes]:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, rng.integers(0, 256, (h, w))], -1).astype(
        np.uint8
    )
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    path.write_bytes(buf.getvalue())
    return path, buf.getvalue()


def test_resize_256_keeps_aspect_and_resizes_the_shorter_side() -> None:
    t = resize_truth(400, 300, 256)
    assert t.out_wh == (341, 256) and t.naive_wh == (256, 256) and t.keeps_aspect
    assert resize_truth(300, 400, 256).out_wh == (256, 341)


def test_train_draws_differ_and_val_draws_are_one_picture() -> None:
    img = torch.randint(0, 256, (3, 60, 80), dtype=torch.uint8)
    train, val = train_vs_val(img, seed=0, k=4)
    assert (train.label, val.label) == ("train", "val")
    assert train.distinct == 4 and val.distinct == 1
    assert train.shapes == val.shapes == ((3, 224, 224),)
    assert train.pipeline == train_preset() and val.pipeline == val_preset()


def test_pipeline_model_is_immutable_and_edits_return_new_pipelines() -> None:
    p = train_preset()
    q = p.add("ColorJitter", index=1)
    assert len(p.steps) == 5 and q.steps[1].name == "ColorJitter"
    assert q.move(1, 0).steps[0].name == "ColorJitter"
    assert q.remove(1) == p
    off = p.set_enabled(1, False)
    assert [s.name for _, s in off.active] == [
        "RandomResizedCrop",
        "ToImage",
        "ToDtype",
        "Normalize",
    ]
    assert p.set_param(0, "size", 128).steps[0].get("size") == 128 and p.steps[0].get("size") == 224
    with pytest.raises(InputError, match=r"min 0\.9 is greater than max 0\.5"):
        p.set_param(0, "scale", (0.9, 0.5))
    with pytest.raises(InputError, match="no step 9"):
        p.remove(8)
    assert preset("train") == train_preset() and preset("val") == val_preset()


def test_step_code_writes_required_and_changed_arguments_only() -> None:
    assert step_code(Step.make("RandomHorizontalFlip")) == "v2.RandomHorizontalFlip()"
    assert step_code(Step.make("RandomResizedCrop", scale=(0.5, 1.0))) == (
        "v2.RandomResizedCrop(size=224, scale=(0.5, 1.0))"
    )
    assert (
        step_code(Step.make("ToDtype", scale=True)) == "v2.ToDtype(dtype=torch.float32, scale=True)"
    )
    assert "interpolation=v2.InterpolationMode.BICUBIC" in step_code(
        Step.make("Resize", interpolation="bicubic")
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exported_code_reproduces_the_preview_tensors(tmp_path: Path, fmt: str) -> None:
    path, data = _file(tmp_path / f"photo.{fmt.lower()}", fmt)
    img = decode_image_bytes(data, name=path.name).pixels  # full resolution: exact
    pipe = (
        train_preset()
        .add("ColorJitter", index=2)
        .set_param(2, "brightness", 0.3)
        .set_param(2, "hue", 0.05)
        .add("RandomRotation", index=3)
        .add("TrivialAugmentWide", index=4)
        .add("GaussianBlur", index=1)
        .set_enabled(1, False)
        .add("RandomErasing")
    )
    grid = run_grid(pipe, img, seed=42, n=6)
    code = export_code(pipe, seed=42, n=6, image_path=str(path))
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)
    samples = namespace["samples"]
    assert isinstance(samples, list) and len(samples) == 6
    for got, want in zip(samples, grid.samples, strict=True):
        assert torch.equal(got, want.tensor)
    assert "# v2.GaussianBlur(kernel_size=5),  # 2 (disabled in the lab)" in code


def test_json_round_trip_and_bad_json() -> None:
    p = val_preset().add("RandAugment").set_param(5, "magnitude", 5).set_enabled(1, False)
    text = to_json(p)
    data = json.loads(text)
    assert data["format"] == "ptexplore.augment.pipeline" and data["steps"][1]["enabled"] is False
    assert data["steps"][4]["params"]["mean"] == [0.485, 0.456, 0.406]
    assert from_json(text) == p
    with pytest.raises(InputError, match="not valid JSON"):
        from_json("{steps: [}")
    with pytest.raises(InputError, match="not a transform in the catalog"):
        from_json('{"steps": [{"transform": "MakeItPretty"}]}')
    with pytest.raises(InputError, match=r"min 0\.9 is greater than max 0\.1"):
        from_json(
            '{"steps": [{"transform": "RandomResizedCrop", "params": {"scale": [0.9, 0.1]}}]}'
        )
    with pytest.raises(InputError, match="unknown parameter"):
        from_json('{"steps": [{"transform": "Resize", "params": {"sise": 3}}]}')
    with pytest.raises(InputError, match="empty"):
        from_json("  ")
    assert from_json('{"steps": []}') == Pipeline()


def _rgba_and_16bit(tmp_path: Path) -> list[tuple[Path, bytes]]:
    rng = np.random.default_rng(9)
    rgba = rng.integers(0, 256, (90, 120, 4), dtype=np.uint8)
    rgba[:45, :, 3] = 0  # top half fully transparent: composited on white
    exif = Image.Exif()
    exif[0x0112] = 8  # and rotated, so the export must apply EXIF too
    out = []
    for name, im, kw in (
        ("alpha.png", Image.fromarray(rgba, "RGBA"), {"exif": exif.tobytes()}),
        ("deep.png", Image.fromarray(rng.integers(0, 65536, (80, 100), dtype=np.uint16)), {}),
        ("float.tif", Image.fromarray(rng.normal(0, 5, (70, 90)).astype(np.float32), "F"), {}),
    ):
        buf = io.BytesIO()
        im.save(buf, format=name.rsplit(".", 1)[1].replace("tif", "TIFF").upper(), **kw)
        (tmp_path / name).write_bytes(buf.getvalue())
        out.append((tmp_path / name, buf.getvalue()))
    return out


def test_exported_loading_matches_the_lab_for_alpha_16_bit_and_float(tmp_path: Path) -> None:
    pipe = Pipeline((Step.make("RandomHorizontalFlip"), Step.make("ColorJitter", hue=0.2)))
    for path, data in _rgba_and_16bit(tmp_path):
        decoded = decode_image_bytes(data, name=path.name)
        assert decoded.conversion is not Conversion.RGB, path.name
        grid = run_grid(pipe, decoded.pixels, seed=5, n=3)
        code = export_code(pipe, seed=5, n=3, image_path=str(path), conversion=decoded.conversion)
        namespace: dict[str, object] = {"__name__": "exported"}
        exec(compile(code, "exported.py", "exec"), namespace)
        assert torch.equal(namespace["img"], decoded.pixels), path.name  # type: ignore[arg-type]
        for got, want in zip(namespace["samples"], grid.samples, strict=True):  # type: ignore[call-overload]
            assert torch.equal(got, want.tensor), path.name


def test_hostile_json_gets_a_message_not_a_traceback() -> None:
    huge = '{"steps": [{"transform": "Resize", "params": {"size": 1%s}}]}'
    with pytest.raises(InputError, match="far too large"):
        from_json(huge % ("0" * 400))
    with pytest.raises(InputError, match="thousands of digits"):
        from_json(huge % ("0" * 5000))
    with pytest.raises(InputError, match="nested brackets"):
        from_json("[" * 50_000 + "]" * 50_000)
    with pytest.raises(InputError, match="33 steps; at most 32 are allowed"):
        from_json(json.dumps({"steps": [{"transform": "RandomInvert"}] * 33}))

"""Fill / erase values are checked against the values each step actually receives."""

from __future__ import annotations

import json

import pytest
import torch

from ptexplore.augment.catalog import build_transform
from ptexplore.augment.export import from_json, step_code, to_json
from ptexplore.augment.pipeline import (
    INPUT_DOMAIN,
    Pipeline,
    Step,
    pixel_domains,
    train_preset,
)
from ptexplore.augment.preview import run_grid
from ptexplore.errors import InputError

IMG = torch.full((3, 40, 48), 100, dtype=torch.uint8)


def _tail(*steps: Step) -> Pipeline:
    """ToImage, ToDtype(float32, scale=True), then ``steps``."""
    return Pipeline(
        (Step.make("ToImage"), Step.make("ToDtype", dtype="float32", scale=True), *steps)
    )


def test_domains_follow_todtype_and_normalize() -> None:
    p = train_preset().add("Pad")
    d = pixel_domains(p)
    assert d[0] == INPUT_DOMAIN and (d[0].dtype, d[0].lo, d[0].hi) == ("uint8", 0.0, 255.0)
    assert (d[4].dtype, d[4].lo, d[4].hi) == ("float32", 0.0, 1.0)  # Normalize receives 0–1
    assert d[4].source == "after step 4, ToDtype(scale=True)"
    assert d[5].dtype == "float32" and not d[5].whole
    assert d[5].lo == pytest.approx((0 - 0.485) / 0.229)  # red black: -2.1179
    assert d[5].hi == pytest.approx((1 - 0.406) / 0.225)  # blue white: 2.64
    unscaled = Pipeline((Step.make("ToDtype", dtype="float32"), Step.make("Pad")))
    assert (pixel_domains(unscaled)[1].lo, pixel_domains(unscaled)[1].hi) == (0.0, 255.0)
    assert not pixel_domains(unscaled)[1].whole
    off = _tail(Step.make("Pad")).set_enabled(1, False)  # a disabled ToDtype changes nothing
    assert pixel_domains(off)[-1].dtype == "uint8"


def test_fill_after_todtype_is_a_0_to_1_float() -> None:
    grid = run_grid(_tail(Step.make("Pad", padding=2, fill=0.5)), IMG, seed=0, n=1)
    out = grid.samples[0].tensor
    assert out.dtype == torch.float32 and tuple(out.shape) == (3, 44, 52)
    assert float(out[0, 0, 0]) == 0.5 and float(out[0, 2, 2]) == pytest.approx(100 / 255)
    with pytest.raises(InputError) as info:
        _tail(Step.make("Pad", fill=255)).build_steps()
    assert str(info.value.message) == (
        "Step 3 (Pad) — Pad.fill: 255 is outside the values this step receives: float32 "
        "values 0 to 1 (after step 2, ToDtype(scale=True))."
    )
    assert info.value.fix is not None and "from 0 to 1" in info.value.fix


def test_fill_on_uint8_is_whole_and_at_most_255() -> None:
    rot = Pipeline((Step.make("RandomRotation", degrees=45.0, expand=True, fill=255),))
    out = run_grid(rot, IMG, seed=3, n=1).samples[0].tensor
    assert out.dtype == torch.uint8 and int(out[0, 0, 0]) == 255  # expanded corner = fill
    with pytest.raises(InputError, match=r"127\.5 is not a whole number.*uint8 values 0 to 255"):
        Pipeline((Step.make("Pad", fill=127.5),)).build_steps()
    with pytest.raises(InputError, match="-1 is outside the values this step receives"):
        Pipeline((Step.make("RandomAffine", fill=-1),)).build_steps()
    for name in ("RandomPerspective", "ElasticTransform", "RandomCrop"):
        with pytest.raises(InputError, match=f"{name}.fill: 256 is outside"):
            Pipeline((Step.make(name, fill=256),)).build_steps()


def test_erasing_value_takes_what_torchvision_takes() -> None:
    assert build_transform("RandomErasing", {"value": -1.5}).value == [-1.5]
    assert build_transform("RandomErasing", {"value": (0.1, 0.2, 0.3)}).value == [0.1, 0.2, 0.3]
    assert build_transform("RandomErasing", {"value": [7]}).value == [7.0]
    assert build_transform("RandomErasing", {"value": " Random "}).value is None  # noise
    assert Step.make("RandomErasing", value=[0.25]).get("value") == 0.25
    with pytest.raises(InputError, match="neither a number nor “random”"):
        Step.make("RandomErasing", value="noise")
    with pytest.raises(InputError, match="1 or 3 numbers"):
        Step.make("RandomErasing", value=(1.0, 2.0))
    with pytest.raises(InputError, match="not a finite number"):
        Step.make("RandomErasing", value=float("nan"))


def test_erasing_after_normalize_fills_negative_values() -> None:
    erase = Step.make("RandomErasing", p=1.0, scale=(0.2, 0.2), ratio=(1.0, 1.0), value=-2.0)
    norm = Step.make("Normalize")
    out = run_grid(_tail(norm, erase), IMG, seed=0, n=1).samples[0].tensor
    assert float(out.min()) == -2.0 and int((out == -2.0).sum()) > 0
    rgb = erase.with_param("value", (-2.0, 0.0, 2.0))
    out = run_grid(_tail(norm, rgb), IMG, seed=0, n=1).samples[0].tensor
    assert float(out[0].min()) == -2.0 and float(out[2].max()) == 2.0
    noise = erase.with_param("value", "random")
    out = run_grid(_tail(norm, noise), IMG, seed=0, n=1).samples[0].tensor
    assert len(torch.unique(out)) > 100  # N(0, 1) noise, not one value
    with pytest.raises(InputError, match="“random” fills the box with N"):
        Pipeline((noise,)).build_steps()  # on the uint8 image
    with pytest.raises(InputError, match=r"-2\.2 is outside.*-2\.118 to 2\.64"):
        _tail(norm, erase.with_param("value", -2.2)).build_steps()


def test_fill_values_survive_export_and_json() -> None:
    p = _tail(
        Step.make("Normalize"),
        Step.make("RandomErasing", value=(-1.0, 0.0, 1.5)),
        Step.make("Pad", fill=-0.5),
    ).add("RandomErasing")
    p = p.set_param(5, "value", "random")
    assert step_code(p.steps[3]) == "v2.RandomErasing(value=[-1.0, 0.0, 1.5])"
    assert step_code(p.steps[4]) == "v2.Pad(padding=16, fill=-0.5)"
    assert step_code(p.steps[5]) == "v2.RandomErasing(value='random')"
    assert step_code(Step.make("Pad")) == "v2.Pad(padding=16)"  # default 0 stays implicit
    text = to_json(p)
    assert json.loads(text)["steps"][3]["params"]["value"] == [-1.0, 0.0, 1.5]
    assert from_json(text) == p
    old = '{"steps": [{"transform": "Pad", "params": {"fill": 0}}]}'  # int fill, as before
    assert from_json(old) == Pipeline((Step.make("Pad"),))

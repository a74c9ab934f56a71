"""The transform catalog: every spec builds its real v2 transform, with defaults and edges."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2

from ptexplore.augment import targets
from ptexplore.augment.catalog import CATALOG, NAMES, Category, Kind, build_transform, spec_for
from ptexplore.errors import InputError

REQUIRED = {
    "Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop", "Pad", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomPerspective",
    "ElasticTransform", "ColorJitter", "Grayscale", "RandomGrayscale", "GaussianBlur",
    "RandomInvert", "RandomPosterize", "RandomSolarize", "RandomAdjustSharpness",
    "RandomAutocontrast", "RandomEqualize", "AutoAugment", "RandAugment", "TrivialAugmentWide",
    "AugMix", "RandomErasing", "ToImage", "ToDtype", "Normalize",
}  # fmt: skip


def _img() -> torch.Tensor:
    return torch.randint(
        0, 256, (3, 232, 240), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


def test_catalog_covers_the_issue_list_and_specs_are_consistent() -> None:
    assert set(NAMES) >= REQUIRED
    for spec in CATALOG:
        assert spec.doc and spec.doc[0].isupper(), spec.name
        assert hasattr(v2, spec.name)
        for p in spec.params:
            assert p.doc
            if p.kind is Kind.CHOICE:
                assert p.default in p.choices, (spec.name, p.name)
            if p.lo is not None and p.hi is not None and p.kind in (Kind.INT, Kind.FLOAT):
                assert p.lo <= p.default <= p.hi, (spec.name, p.name)  # type: ignore[operator]
            if p.kind is Kind.RANGE:
                lo, hi = p.default  # type: ignore[misc]
                assert p.lo is not None and p.hi is not None
                assert p.lo <= lo <= hi <= p.hi, (spec.name, p.name)


@pytest.mark.parametrize("name", NAMES)
def test_every_spec_builds_with_defaults_and_runs(name: str) -> None:
    t = build_transform(name, {})
    assert type(t) is getattr(v2, name)
    x = _img()
    if name == "Normalize":
        x = x.float() / 255
    boxes = spec_for(name).category is Category.BOXES  # these need a target beside the image
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out = t((x, targets.target(_boxes()))) if boxes else t(x)
    assert (out[0] if boxes else out).ndim == 3


def _boxes() -> targets.Annotations:
    return targets.Annotations(
        (232, 240), targets.BoxFormat.XYXY, ((10, 20, 110, 120), (100, 50, 230, 200)), (1, 2),
        keypoints=((50.0, 60.0), (235.0, 228.0)), keypoint_names=("a", "b"),
    )  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_every_spec_builds_at_its_edge_values(name: str) -> None:
    spec = spec_for(name)
    for p in spec.params:
        edges: list[object] = []
        if p.kind in (Kind.INT, Kind.FLOAT) and p.lo is not None and p.hi is not None:
            edges = [p.lo, p.hi]
            if p.kind is Kind.INT:
                edges = [int(p.lo), int(p.hi)]
            if p.odd:
                edges = [int(p.lo) | 1, int(p.hi) if int(p.hi) % 2 else int(p.hi) - 1]
        elif p.kind is Kind.RANGE:
            edges = [(p.lo, p.lo), (p.hi, p.hi), (p.lo, p.hi)]
        elif p.kind is Kind.CHOICE:
            edges = list(p.choices)
        elif p.kind is Kind.BOOL:
            edges = [True, False]
        elif p.kind is Kind.SIZE:
            edges = [1, 4096, (1, 4096)]
        elif p.kind is Kind.PAIR:
            edges = [(0.0, 1.0), (1.0, 0.0)]
        for value in edges:
            extra: dict[str, object] = {}
            if name == "RandAugment" and p.name == "magnitude":
                extra = {"num_magnitude_bins": 100}
            if name == "RandAugment" and p.name == "num_magnitude_bins":
                extra = {"magnitude": 0}
            t = build_transform(name, {p.name: value, **extra})  # type: ignore[dict-item]
            assert type(t) is getattr(v2, name), (p.name, value)


def test_values_are_passed_to_torchvision() -> None:
    t = build_transform("RandomResizedCrop", {"size": (160, 128), "scale": (0.5, 0.9)})
    assert tuple(t.size) == (160, 128) and tuple(t.scale) == (0.5, 0.9)
    assert t.interpolation == v2.InterpolationMode.BILINEAR
    jitter = build_transform("ColorJitter", {"brightness": 0.4})
    assert jitter.brightness == (0.6, 1.4) and jitter.contrast is None
    assert build_transform("ToDtype", {"dtype": "float16", "scale": True}).dtype == torch.float16
    out = build_transform("Resize", {"size": 256})(torch.zeros(3, 300, 400, dtype=torch.uint8))
    assert tuple(out.shape) == (3, 256, 341)


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        ("RandomResizedCrop", {"scale": (0.9, 0.5)}, "min 0.9 is greater than max 0.5"),
        ("RandomErasing", {"ratio": (3.0, 1.0)}, "min 3 is greater than max 1"),
        ("GaussianBlur", {"kernel_size": 4}, "4 is even"),
        ("RandAugment", {"magnitude": 40}, "must be smaller than num_magnitude_bins 31"),
        ("Normalize", {"std": (0.2, 0.0, 0.2)}, "below the smallest allowed value"),
        ("RandomHorizontalFlip", {"p": 1.5}, "above the largest allowed value 1"),
        ("Resize", {"size": 0}, "below the smallest allowed value 1"),
        ("Resize", {"size": (1, 2, 3)}, "one or two whole numbers"),
        ("Resize", {"interpolation": "lanczos"}, "is not one of"),
        ("Resize", {"colour": 3}, "has no parameter(s) `colour`"),  # shown inert
        ("NoSuchTransform", {}, "not a transform in the catalog"),
        ("Normalize", {"mean": (0.5, 0.5)}, "expected 3 numbers"),
        ("RandomRotation", {"degrees": float("nan")}, "not a finite number"),
    ],
)
def test_invalid_settings_give_a_clear_message(
    name: str, params: dict[str, object], needle: str
) -> None:
    with pytest.raises(InputError) as info:
        build_transform(name, params)  # type: ignore[arg-type]
    assert needle in str(info.value)
    assert info.value.fix


def test_absurd_numbers_are_refused_in_plain_words() -> None:
    for name, params in (
        ("Resize", {"size": 10**400}),
        ("Pad", {"padding": 10**400}),
        ("RandomRotation", {"degrees": 10**400}),
        ("Normalize", {"mean": (0.5, 10**400, 0.5)}),
    ):
        with pytest.raises(InputError, match="far too large"):
            build_transform(name, params)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="inf is not a finite number"):
        build_transform("RandomErasing", {"scale": (0.1, float("inf"))})

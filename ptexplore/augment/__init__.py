"""Augmentation lab: the v2 transform catalog, pipelines, seeded previews, live truths,
export, and the parameter widgets' text and help (no Streamlit here)."""

from ptexplore.augment.catalog import CATALOG, NAMES, Kind, ParamSpec, TransformSpec, spec_for
from ptexplore.augment.export import compose_code, export_code, from_json, to_json
from ptexplore.augment.pipeline import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Pipeline,
    Preset,
    Step,
    preset,
    preview_source_side,
    train_preset,
    val_preset,
)
from ptexplore.augment.preview import Grid, draw_grid, run_grid
from ptexplore.augment.truths import resize_truth, train_vs_val

__all__ = [
    "CATALOG",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NAMES",
    "Grid",
    "Kind",
    "ParamSpec",
    "Pipeline",
    "Preset",
    "Step",
    "TransformSpec",
    "compose_code",
    "draw_grid",
    "export_code",
    "from_json",
    "preset",
    "preview_source_side",
    "resize_truth",
    "run_grid",
    "spec_for",
    "to_json",
    "train_preset",
    "train_vs_val",
    "val_preset",
]

"""Augmentation lab: safe decoding, the v2 transform catalog, pipelines, seeded previews,
live truths and export (no Streamlit here)."""

from ptexplore.augment.catalog import CATALOG, NAMES, Kind, ParamSpec, TransformSpec, spec_for
from ptexplore.augment.decode import DecodedImage, decode_image_bytes
from ptexplore.augment.export import export_code, from_json, to_json
from ptexplore.augment.pipeline import (
    Pipeline,
    Preset,
    Step,
    preset,
    preview_source_side,
    train_preset,
    val_preset,
)
from ptexplore.augment.preview import Grid, run_grid, to_display
from ptexplore.augment.truths import epochs_strip, resize_truth

__all__ = [
    "CATALOG",
    "NAMES",
    "DecodedImage",
    "Grid",
    "Kind",
    "ParamSpec",
    "Pipeline",
    "Preset",
    "Step",
    "TransformSpec",
    "decode_image_bytes",
    "epochs_strip",
    "export_code",
    "from_json",
    "preset",
    "preview_source_side",
    "resize_truth",
    "run_grid",
    "spec_for",
    "to_display",
    "to_json",
    "train_preset",
    "val_preset",
]

"""view()/reshape lab: strict shape parsing, the real torch verdicts, figures and code."""

from ptexplore.memory import Sharing, TensorFacts
from ptexplore.view.figures import StorageRow, storage_figure, tensor_figure
from ptexplore.view.lab import (
    Fill,
    Inference,
    LabConfig,
    LabResult,
    Method,
    NumpyAnalogy,
    PreOp,
    cells_reading,
    infer_explanation,
    lab_code,
    run_lab,
)
from ptexplore.view.shapes import (
    MAX_DIMS,
    MAX_ELEMENTS,
    parse_permutation,
    parse_source_shape,
    parse_target_shape,
)

__all__ = [
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "Fill",
    "Inference",
    "LabConfig",
    "LabResult",
    "Method",
    "NumpyAnalogy",
    "PreOp",
    "Sharing",
    "StorageRow",
    "TensorFacts",
    "cells_reading",
    "infer_explanation",
    "lab_code",
    "parse_permutation",
    "parse_source_shape",
    "parse_target_shape",
    "run_lab",
    "storage_figure",
    "tensor_figure",
]

"""ptexplore: see PyTorch. Live, honest visual explanations computed by real torch code.

The library is importable without Streamlit; only :mod:`ptexplore.ui` imports it.
``ptexplore.summary(model_or_name, input_size=..., depth=...)`` is the torchinfo-style table
with correct MACs (``python -m ptexplore summary resnet50`` on the command line); it is
imported on first use, so ``import ptexplore`` (and ``ptexplore.serve``) stays torch-free.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ptexplore.errors import LessonError

if TYPE_CHECKING:
    from ptexplore.summary import Summary, summary

__all__ = ["LessonError", "Summary", "__version__", "summary"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``ptexplore.summary`` (a callable module: ``ptexplore.summary("resnet18")``) and
    ``ptexplore.Summary``, imported lazily."""
    if name in ("summary", "Summary"):
        module = importlib.import_module("ptexplore.summary")
        return module if name == "summary" else module.Summary
    raise AttributeError(f"module 'ptexplore' has no attribute {name!r}")

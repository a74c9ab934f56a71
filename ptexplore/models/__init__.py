"""Model explorer: which models open (torchvision, examples, your own, the timm zoo), cheap
meta builds, and what the explorer shows of them — the module tree, the iterators, the
parameters, per-layer shapes and MACs, real weights when the learner has them.

Other packages use the names below (the Autograd and Checkpoint labs build catalog models;
:mod:`ptexplore.summary` traces them); the explorer's own modules are imported by name:

* :mod:`~ptexplore.models.catalog` — the models and how to build them (meta or real);
* :mod:`~ptexplore.models.build` — meta builds that keep names, shapes and the global RNG;
* :mod:`~ptexplore.models.tree`, :mod:`~ptexplore.models.iterators`,
  :mod:`~ptexplore.models.params`, :mod:`~ptexplore.models.shapes` — the explorer's views;
* :mod:`~ptexplore.models.weights` — real weights (read through :mod:`ptexplore.ckpt`);
* :mod:`~ptexplore.models.user`, :mod:`~ptexplore.models.zoo`,
  :mod:`~ptexplore.models.examples` — your own models, timm, the classic examples;
* :mod:`~ptexplore.models.code`, :mod:`~ptexplore.models.plots`,
  :mod:`~ptexplore.models.tables` — the code panel, figures and tables of the page.

The package imports its modules on first use, so ``from ptexplore.models import user``
(``serve`` checking ``--model`` specs) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ptexplore.models import catalog, shapes, user, zoo
    from ptexplore.models.build import build_on_meta, has_dropout
    from ptexplore.models.catalog import InputKind, ModelEntry
    from ptexplore.models.shapes import ShapeReport

__all__ = [
    "InputKind",
    "ModelEntry",
    "ShapeReport",
    "build_on_meta",
    "catalog",
    "has_dropout",
    "shapes",
    "user",
    "zoo",
]

_MODULES = ("catalog", "shapes", "user", "zoo")
_NAMES = {
    "InputKind": "catalog",
    "ModelEntry": "catalog",
    "ShapeReport": "shapes",
    "build_on_meta": "build",
    "has_dropout": "build",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

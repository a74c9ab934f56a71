"""The timm zoo (the optional ``ptexplore[timm]`` extra): every ``timm.list_models()``
architecture, built on meta with ``pretrained=False`` (nothing is downloaded).

timm is imported lazily (about 1-4 s the first time): only when its names are listed or one
of its models is opened, never by ``import ptexplore``. Each architecture's default input
is its pretrained config's ``input_size`` (resnet50 224, eva02_large_patch14_448 448) and
its family is the timm module that defines it (``resnet``, ``vision_transformer``, …), so
the picker lists the zoo family by family.

How many of them open, trace and count on meta was measured once by ``bench/timm_zoo.py``;
its results ship as ``timm_status.json`` next to this file (:func:`status`), with one
sentence per architecture that does not.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ptexplore.errors import ModelError
from ptexplore.i18n import _
from ptexplore.limits import MAX_NUM_CLASSES

#: Catalog keys of timm models start with this (``timm:resnet50``).
PREFIX = "timm:"
#: Where ``bench/timm_zoo.py`` writes what it measured.
STATUS_FILE = Path(__file__).with_name("timm_status.json")


def available() -> bool:
    """True when timm is installed (checked without importing it)."""
    return importlib.util.find_spec("timm") is not None


@functools.cache
def timm() -> ModuleType:
    """The timm package, imported on first use."""
    if not available():
        raise ModelError(
            _("timm is not installed, so its models are not in the catalog."),
            fix=_("pip install 'ptexplore[timm]' (or pip install timm) and start again."),
        )
    return importlib.import_module("timm")


def version() -> str | None:
    return str(timm().__version__) if available() else None


@functools.cache
def _families() -> dict[str, str]:
    """Architecture name → the timm module (family) that registers it."""
    t = timm()
    found: dict[str, str] = {}
    for module in sorted(t.list_modules()):
        for name in t.list_models(module=module):
            found.setdefault(name, module)
    for name in t.list_models():
        found.setdefault(name, "other")
    return found


@functools.cache
def names() -> tuple[str, ...]:
    """Every architecture ``timm.list_models()`` gives, grouped by family (then by name).

    Empty when timm is not installed.
    """
    if not available():
        return ()
    fam = _families()
    return tuple(sorted(timm().list_models(), key=lambda n: (fam.get(n, "other"), n)))


@functools.cache
def _name_set() -> frozenset[str]:
    return frozenset(names())


def has(name: str) -> bool:
    """True when ``name`` (no prefix) is a timm architecture (imports timm when installed)."""
    return available() and name in _name_set()


def family(name: str) -> str:
    return _families().get(name, "other")


@dataclass(frozen=True, slots=True)
class TimmInfo:
    """What the catalog needs to know about one timm architecture (no build)."""

    name: str
    family: str
    #: one sample's shape from the pretrained config, e.g. (3, 224, 224)
    input_size: tuple[int, ...]
    #: the config's class count (0 for feature-only models: they take no num_classes)
    num_classes: int
    #: the config says other input sizes do not work (position embeddings)
    fixed_input_size: bool
    doc: str


def _cfg(name: str) -> Any:
    try:
        return timm().get_pretrained_cfg(name)
    except Exception:  # an architecture without a default config: the defaults below
        return None


@functools.cache
def info(name: str) -> TimmInfo:
    """The pretrained config's input size and classes, and the entrypoint's docstring."""
    if not has(name):
        raise ModelError(
            _("timm has no architecture called {name}.").format(name=repr(name)),
            fix=_("Pick one from the list (timm.list_models() names, without a .tag)."),
        )
    cfg = _cfg(name)
    size = tuple(int(s) for s in getattr(cfg, "input_size", None) or (3, 224, 224))
    classes = int(getattr(cfg, "num_classes", 1000) or 0)
    doc = inspect.getdoc(timm().model_entrypoint(name)) or ""
    return TimmInfo(
        name=name,
        family=family(name),
        input_size=size,
        num_classes=classes if 1 <= classes <= MAX_NUM_CLASSES else 0,
        fixed_input_size=bool(getattr(cfg, "fixed_input_size", False)),
        doc=" ".join(doc.split("\n\n", 1)[0].split()),
    )


def create(name: str, num_classes: int | None = None) -> Any:
    """``timm.create_model(name, pretrained=False[, num_classes=…])`` (never downloads)."""
    kwargs: dict[str, Any] = {"pretrained": False}
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    return timm().create_model(name, **kwargs)


# ------------------------------------------------------------------ measured status


@dataclass(frozen=True, slots=True)
class ZooFailure:
    name: str
    family: str
    #: the first step that failed: "open" (build on meta), "trace" or "count"
    stage: str
    reason: str  # one sentence


@dataclass(frozen=True, slots=True)
class ZooStatus:
    """What ``bench/timm_zoo.py`` measured: how many of ``total`` open, trace and count."""

    timm_version: str
    torch_version: str
    total: int
    opened: int
    traced: int
    counted: int
    failures: tuple[ZooFailure, ...]
    #: params of every architecture that opened (for picking small ones in tests)
    params: dict[str, int]

    def failure(self, name: str) -> ZooFailure | None:
        return next((f for f in self.failures if f.name == name), None)


@functools.cache
def status() -> ZooStatus | None:
    """The shipped measurement, or None when ``timm_status.json`` is missing."""
    if not STATUS_FILE.is_file():
        return None
    data = json.loads(STATUS_FILE.read_text())
    return ZooStatus(
        timm_version=str(data["timm"]),
        torch_version=str(data["torch"]),
        total=int(data["total"]),
        opened=int(data["opened"]),
        traced=int(data["traced"]),
        counted=int(data["counted"]),
        failures=tuple(
            ZooFailure(str(f["name"]), str(f["family"]), str(f["stage"]), str(f["reason"]))
            for f in data["failures"]
        ),
        params={str(k): int(v) for k, v in data.get("params", {}).items()},
    )

"""Which models can be opened, how to build them, and what torchvision publishes about them.

Four sources, listed by :func:`choices` in this order: the operator's own models
(``PTEXPLORE_MODELS``, :mod:`ptexplore.models.user`; keys ``user:pkg.mod:Name…``), the
examples (``example:Model``), every torchvision classifier (``resnet18``) and, when timm is
installed, every timm architecture (``timm:resnet50``, :mod:`ptexplore.models.zoo`). All of
them open through :func:`entry` and build through :func:`build_meta` / :func:`build_real`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from torch import nn
from torchvision import models as tvm

from ptexplore.errors import ModelError
from ptexplore.i18n import N_, _
from ptexplore.limits import MAX_NUM_CLASSES
from ptexplore.live.source import definitions, merge_imports
from ptexplore.models import examples, user, zoo
from ptexplore.models.build import MetaBuild, build_on_meta
from ptexplore.rng import seeded
from ptexplore.text import code_span

EXAMPLE_PREFIX = "example:"
USER_PREFIX = user.PREFIX
TIMM_PREFIX = zoo.PREFIX
#: an example's label in the picker (English in :func:`choices`; shown translated)
EXAMPLE_LABEL = N_("{name} (example)")
#: the examples' family
EXAMPLE_FAMILY = N_("example")
#: where a timm model's input comes from (translated where it is shown)
TIMM_INPUT_SOURCE = N_("from timm's pretrained config")


class Source(StrEnum):
    TORCHVISION = "torchvision"
    EXAMPLE = "example"
    USER = "your model"
    TIMM = "timm"


class InputKind(StrEnum):
    IMAGE = "image"  # (N, C, H, W) with H = W chosen by the learner
    VECTOR = "vector"  # (N, features)
    FIXED = "fixed"  # (N, *default_input): the shape its author gave (non-square, 3-D, …)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    key: str
    label: str
    source: Source
    family: str
    input_kind: InputKind
    #: one sample's shape, e.g. (3, 224, 224) or (2,)
    default_input: tuple[int, ...]
    takes_num_classes: bool
    default_num_classes: int | None
    #: torchvision's published GMACs (``weights.meta["_ops"]``) at ``default_input``
    published_gmacs: float | None
    #: torchvision's published parameter count (for the default number of classes)
    published_params: int | None
    #: the weights those figures belong to, e.g. "ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1"
    published_weights: str | None
    #: False when no published weights have exactly this architecture (googlenet's drop the
    #: auxiliary classifiers that a weights=None build has)
    weights_match: bool
    doc: str
    #: the dtype of the traced input ("int64" for a model that starts with an Embedding)
    input_dtype: str = "float32"
    #: where the input comes from, when not the usual default ("from --input", …)
    input_source: str = ""


@dataclass(frozen=True, slots=True)
class _Example:
    cls: type[nn.Module]
    input_kind: InputKind
    default_input: tuple[int, ...]
    takes_num_classes: bool
    default_num_classes: int | None


_EXAMPLES: dict[str, _Example] = {
    "Model": _Example(examples.Model, InputKind.IMAGE, (3, 32, 32), False, None),
    "Net": _Example(examples.Net, InputKind.VECTOR, (2,), False, None),
    "SmallVGG": _Example(examples.SmallVGG, InputKind.IMAGE, (3, 32, 32), True, 10),
    "SharedLayerNet": _Example(examples.SharedLayerNet, InputKind.VECTOR, (8,), False, None),
}
#: the examples' docs as :func:`_first_paragraph` reads them from their docstrings, marked
#: for the catalog (:func:`shown_doc` translates them; a docstring that no longer reads
#: so is shown as it is)
EXAMPLE_DOCS: dict[str, str] = {
    "Model": N_("The classic teaching model: two convs, a max-pool, and a named features block."),
    "Net": N_("A small multilayer perceptron: Net(n_feature=2, n_hidden=5, n_output=3)."),
    "SmallVGG": N_(
        "A VGG-style net whose convs live in a vgg Sequential (names read vgg.0.weight)."
    ),
    "SharedLayerNet": N_("One Linear registered under two names: modules() yields it only once."),
}

#: Constructor keywords that silence torchvision's "init_weights will change" warnings
#: while keeping today's behaviour.
_EXTRA_KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"init_weights": True},
    "inception_v3": {"init_weights": True},
}


def _first_paragraph(obj: Any) -> str:
    """The first paragraph of a docstring, on one line."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    paragraph = doc.split("\n\n", 1)[0]
    text = " ".join(line.strip() for line in paragraph.splitlines())
    # reStructuredText links `Title <url>`__ → Title
    return re.sub(r"`([^`<]+?)\s*<[^>]+>`_+", r"\1", text).replace("``", "")


@functools.cache
def _torchvision_entry(name: str) -> ModelEntry:
    """Details of a torchvision model, with the published figures of the weights whose
    architecture a ``weights=None`` build reproduces.

    A build without weights uses the constructor's defaults: vit_h_14 then has a 224-pixel
    position embedding, so its 518-pixel SWAG_E2E weights do not describe it but its
    224-pixel SWAG_LINEAR weights do. The matching weights are the first whose published
    parameter count equals the meta build's.
    """
    builder = tvm.get_model_builder(name)
    all_weights = list(tvm.get_model_weights(name))
    total = sum(p.numel() for p in build_meta(name).model.parameters())
    matching = [w for w in all_weights if w.meta.get("num_params") == total]
    weights = matching[0] if matching else tvm.get_model_weights(name).DEFAULT
    crop = int(weights.transforms.keywords.get("crop_size", 224))
    ops = weights.meta.get("_ops")
    return ModelEntry(
        key=name,
        label=name,
        source=Source.TORCHVISION,
        family=builder.__module__.rsplit(".", 1)[-1],
        input_kind=InputKind.IMAGE,
        default_input=(3, crop, crop),
        takes_num_classes=True,
        default_num_classes=1000,
        published_gmacs=float(ops) if ops is not None else None,
        published_params=int(weights.meta["num_params"]),
        published_weights=str(weights),
        weights_match=bool(matching),
        doc=_first_paragraph(builder),
    )


def _example_entry(name: str) -> ModelEntry:
    ex = _EXAMPLES[name]
    return ModelEntry(
        key=EXAMPLE_PREFIX + name,
        label=EXAMPLE_LABEL.format(name=name),
        source=Source.EXAMPLE,
        family=EXAMPLE_FAMILY,
        input_kind=ex.input_kind,
        default_input=ex.default_input,
        takes_num_classes=ex.takes_num_classes,
        default_num_classes=ex.default_num_classes,
        published_gmacs=None,
        published_params=None,
        published_weights=None,
        weights_match=False,
        doc=_first_paragraph(ex.cls),
    )


def input_kind(sample: tuple[int, ...]) -> InputKind:
    """IMAGE for one square (C, H, W) sample, VECTOR for (features,), FIXED otherwise."""
    if len(sample) == 3 and sample[1] == sample[2]:
        return InputKind.IMAGE
    return InputKind.VECTOR if len(sample) == 1 else InputKind.FIXED


def _user_entry(m: user.UserModel) -> ModelEntry:
    sample = m.input.shape[1:] if len(m.input.shape) > 1 else m.input.shape
    kind = input_kind(sample) if len(m.input.shape) > 1 else InputKind.FIXED
    return ModelEntry(
        key=m.key,
        label=m.label,
        source=Source.USER,
        family=m.spec.module,
        input_kind=kind,
        default_input=sample,
        takes_num_classes=m.takes_num_classes,
        default_num_classes=m.default_num_classes,
        published_gmacs=None,
        published_params=None,
        published_weights=None,
        weights_match=False,
        doc=m.doc,
        input_dtype=m.input.dtype,
        input_source=m.input.source,
    )


@functools.cache
def _timm_entry(name: str) -> ModelEntry:
    t = zoo.info(name)
    return ModelEntry(
        key=TIMM_PREFIX + name,
        label=timm_label(name),
        source=Source.TIMM,
        family=t.family,
        input_kind=input_kind(t.input_size),
        default_input=t.input_size,
        takes_num_classes=t.num_classes > 0,
        default_num_classes=t.num_classes or None,
        published_gmacs=None,
        published_params=None,
        published_weights=None,
        weights_match=False,
        doc=t.doc,
        input_source=TIMM_INPUT_SOURCE,
    )


def timm_label(name: str) -> str:
    return f"{name} (timm · {zoo.family(name)})"


def shown_label(key: str, label: str) -> str:
    """A picker label (English, as :func:`choices` gives it) in the rerun's language."""
    if key.startswith(EXAMPLE_PREFIX):
        return _(EXAMPLE_LABEL).format(name=key.removeprefix(EXAMPLE_PREFIX))
    if key.startswith(USER_PREFIX):
        return user.shown_label(label)
    return label


def shown_name(key: str) -> str:
    """The model's label in the rerun's language, for a sentence ("Model (example) has a
    fixed output size")."""
    return shown_label(key, entry(key).label)


def shown_labels(keys: Iterable[str]) -> Callable[[str], str]:
    """A model picker's ``format_func`` for ``keys``: their labels in the rerun's language,
    made in this rerun (a picker may format its options outside it; AppTest does). Only
    the examples' and your models' labels have words to translate, so only they are kept
    (not timm's ~1,400)."""
    names = labels()
    shown = {
        k: shown_label(k, names.get(k, k))
        for k in keys
        if k.startswith((EXAMPLE_PREFIX, USER_PREFIX))
    }
    return lambda k: shown.get(k) or names.get(k, k)


def shown_family(e: ModelEntry) -> str:
    """The entry's family in the rerun's language (only the examples' is a word)."""
    return _(EXAMPLE_FAMILY) if e.source is Source.EXAMPLE else e.family


def shown_doc(e: ModelEntry) -> str:
    """The entry's doc: an example's in the rerun's language; torchvision's and timm's
    docstrings as their libraries wrote them."""
    if e.source is Source.EXAMPLE:
        name = e.key.removeprefix(EXAMPLE_PREFIX)
        if EXAMPLE_DOCS.get(name) == e.doc:
            return _(EXAMPLE_DOCS[name])
    return e.doc


@functools.cache
def torchvision_names() -> tuple[str, ...]:
    """Every torchvision classification model, as ``list_models(module=models)`` gives."""
    return tuple(tvm.list_models(module=tvm))


def user_models() -> tuple[user.UserModel, ...]:
    """The operator's models that loaded (``PTEXPLORE_MODELS``)."""
    return user.registry().models


def user_keys() -> tuple[str, ...]:
    return tuple(m.key for m in user_models())


@functools.cache
def _fixed_choices() -> tuple[tuple[str, str], ...]:
    return (
        tuple((EXAMPLE_PREFIX + n, EXAMPLE_LABEL.format(name=n)) for n in _EXAMPLES)
        + tuple((n, n) for n in torchvision_names())
        + tuple((TIMM_PREFIX + n, timm_label(n)) for n in zoo.names())
    )


@functools.lru_cache(maxsize=8)
def _choices(models_env: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.key, m.label) for m in user.registry().models) + _fixed_choices()


def choices() -> tuple[tuple[str, str], ...]:
    """(key, label) of every model: the operator's own models first, then the examples,
    every torchvision classifier and (when timm is installed) every timm architecture,
    family by family.

    Cheap and cached (per value of ``PTEXPLORE_MODELS``): details (published figures,
    input size) are computed per model by :func:`entry`.
    """
    return _choices(user.configured())


@functools.lru_cache(maxsize=8)
def _labels(models_env: str) -> dict[str, str]:
    return dict(_choices(models_env))


def labels() -> dict[str, str]:
    """key → label of :func:`choices` (cached: read-only)."""
    return _labels(user.configured())


def _user(key: str) -> user.UserModel | None:
    return user.registry().get(key) if key.startswith(USER_PREFIX) else None


def _timm_name(key: str) -> str | None:
    if not key.startswith(TIMM_PREFIX):
        return None
    name = key.removeprefix(TIMM_PREFIX)
    return name if zoo.has(name) else None


def entry(key: str) -> ModelEntry:
    if key.startswith(EXAMPLE_PREFIX):
        name = key.removeprefix(EXAMPLE_PREFIX)
        if name in _EXAMPLES:
            return _example_entry(name)
    elif key.startswith(USER_PREFIX):
        found = _user(key)
        if found is not None:
            return _user_entry(found)
    elif key.startswith(TIMM_PREFIX):
        if not zoo.available():
            zoo.timm()  # raises: timm is not installed
        timm_name = _timm_name(key)
        if timm_name is not None:
            return _timm_entry(timm_name)
    elif key in torchvision_names():
        return _torchvision_entry(key)
    raise ModelError(
        _("There is no model called {key} here.").format(key=repr(key)),
        fix=_(
            "Pick one from the list: the examples, any torchvision classification model, "
            "the timm zoo when timm is installed, or the models the server was started with."
        ),
    )


def _light(key: str) -> tuple[Source, bool, int | None]:
    """(source, takes_num_classes, default_num_classes) without computing published data."""
    if key.startswith(EXAMPLE_PREFIX) and key.removeprefix(EXAMPLE_PREFIX) in _EXAMPLES:
        ex = _EXAMPLES[key.removeprefix(EXAMPLE_PREFIX)]
        return Source.EXAMPLE, ex.takes_num_classes, ex.default_num_classes
    found = _user(key)
    if found is not None:
        return Source.USER, found.takes_num_classes, found.default_num_classes
    if _timm_name(key) is not None:
        e = entry(key)
        return Source.TIMM, e.takes_num_classes, e.default_num_classes
    if key in torchvision_names():
        return Source.TORCHVISION, True, 1000
    entry(key)  # raises the learner-facing error
    raise AssertionError("unreachable")


def _check_num_classes(key: str, num_classes: int | None) -> int | None:
    _x, takes, default = _light(key)
    if num_classes is None or not takes:
        return default
    if not 1 <= num_classes <= MAX_NUM_CLASSES:
        raise ModelError(
            _("num_classes must be between 1 and {most:,}, not {n}.").format(
                most=MAX_NUM_CLASSES, n=num_classes
            ),
            fix=_("Use the number of categories in your dataset, e.g. 10 for CIFAR-10."),
        )
    return num_classes


def factory(key: str, num_classes: int | None = None) -> Callable[[], nn.Module]:
    """A zero-argument constructor for the model, with random (untrained) init."""
    source, takes, _x = _light(key)
    n = _check_num_classes(key, num_classes)
    if source is Source.EXAMPLE:
        cls = _EXAMPLES[key.removeprefix(EXAMPLE_PREFIX)].cls
        if takes:
            return functools.partial(cls, num_classes=n)
        return cls
    if source is Source.USER:
        found = _user(key)
        assert found is not None
        return found.factory(n if takes else None)
    if source is Source.TIMM:
        return functools.partial(zoo.create, key.removeprefix(TIMM_PREFIX), n if takes else None)
    kwargs: dict[str, Any] = {"weights": None, "num_classes": n, **_EXTRA_KWARGS.get(key, {})}
    return functools.partial(tvm.get_model, key, **kwargs)


def build_meta(key: str, num_classes: int | None = None) -> MetaBuild:
    """Structure only: every parameter and buffer on ``meta`` (fast for any size).

    A timm or user model whose constructor fails (a few timm architectures cannot be built
    on meta: see ``zoo.status()``) raises :class:`ModelError` in one sentence.
    """
    make = factory(key, num_classes)
    if not key.startswith((TIMM_PREFIX, USER_PREFIX)):
        return build_on_meta(make)
    try:
        return build_on_meta(make)
    except Exception as err:
        lines = str(err).strip().splitlines()
        said = f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
        raise ModelError(
            _("Building {key} on the meta device failed: {said}").format(
                key=code_span(key), said=code_span(said, limit=300)
            ),
            fix=_("Pick another model (timm: see the list of what does not open on meta)."),
        ) from err


def build_real(key: str, num_classes: int | None = None, *, seed: int = 0) -> nn.Module:
    """A normal CPU build with its real random init, seeded (costly for big models)."""
    with seeded(seed):
        return factory(key, num_classes)()


@dataclass(frozen=True, slots=True)
class Constructor:
    """How a script builds a model in plain PyTorch: its imports, the class definition it
    pastes (the built-in examples: a learner has no ptexplore to import them from) and the
    expression."""

    imports: tuple[str, ...]
    expr: str
    defined: str = ""

    def head(self, *more: str) -> str:
        """The script's start: every import (``more`` too) in one block, then the class."""
        block = merge_imports([*more, *self.imports])
        return block + (f"\n\n{self.defined}\n" if self.defined else "")


def constructor_code(key: str, num_classes: int | None = None) -> Constructor:
    """The imports, pasted definition and expression that build this model in plain
    PyTorch."""
    source, takes, _x = _light(key)
    n = _check_num_classes(key, num_classes)
    if source is Source.EXAMPLE:
        name = key.removeprefix(EXAMPLE_PREFIX)
        arg = f"num_classes={n}" if takes else ""
        pasted = definitions(examples, [name])
        return Constructor(pasted.imports, f"{name}({arg})", pasted.code)
    if source is Source.USER:
        found = _user(key)
        assert found is not None
        kwargs = found.spec.kwargs
        if takes:
            kwargs["num_classes"] = n
        call = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        head = found.spec.attr.split(".", 1)[0]
        expr = f"{found.spec.attr}({call})"
        return Constructor((f"from {found.spec.module} import {head}",), expr)
    if source is Source.TIMM:
        name = key.removeprefix(TIMM_PREFIX)
        classes = f", num_classes={n}" if takes else ""
        return Constructor(
            ("import timm",), f"timm.create_model({name!r}, pretrained=False{classes})"
        )
    extra = "".join(f", {k}={v!r}" for k, v in _EXTRA_KWARGS.get(key, {}).items())
    expr = f"models.{key}(weights=None, num_classes={n}{extra})"
    return Constructor(("from torchvision import models",), expr)

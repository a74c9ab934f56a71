"""The operator's own models, registered by import path when the server starts.

Only the process environment adds models: ``PTEXPLORE_MODELS`` holds one or more *specs*
separated by spaces or newlines (``make run MODELS=…`` and ``python -m ptexplore.serve
--model … --input …`` both set it). Learners never type an import path: importing runs code.

A spec is::

    package.module:Name                         a class (an nn.Module) or a factory function
    package.module:Name{"num_classes": 10}      … called with these JSON keyword arguments
    package.module:Name@1,3,128,128             … traced with this input (batch first)
    package.module:make_net{"depth": 4}@1,16    both (the JSON may contain spaces)

``Name`` may be dotted (``Outer.Inner``). The folders in ``PTEXPLORE_MODELS_PATH``
(``os.pathsep``-separated; by default the current folder) are appended to ``sys.path``, so
they are importable but never shadow an installed package.

The input a model is traced with comes from, in order: the spec's ``@…`` shape; the model's
``example_input()`` method (its tensor's shape and dtype, called on the meta build); a guess
from its first layer with parameters (``Conv2d(3, …)`` → ``[1, 3, 224, 224]``; ``Linear(20,
…)`` → ``[1, 20]``; ``Embedding`` → ``[1, 16]`` int64), always said as a guess. With ``@…``
and ``example_input()`` both, the shape is the spec's and the dtype ``example_input()``'s.

:func:`registry` imports and builds every spec once per process, on meta, and collects
what fails (one sentence each, shown on the landing page); it never raises. This module
imports torch only when a spec is loaded, so ``serve`` can check specs without it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ptexplore import compat, i18n
from ptexplore.errors import InputError, ModelError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    USER_MAX_ENV_CHARS,
    USER_MAX_INPUT_DIMS,
    USER_MAX_INPUT_SIZE,
    USER_MAX_MODELS,
    USER_MAX_SPEC_CHARS,
)
from ptexplore.text import shorten

if TYPE_CHECKING:
    import torch
    from torch import nn

#: The environment variable the app reads its extra models from.
MODELS_ENV = "PTEXPLORE_MODELS"
#: Folders to make importable for those models (default: the current folder).
PATH_ENV = "PTEXPLORE_MODELS_PATH"
#: Catalog keys of user models start with this.
PREFIX = "user:"

_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DIMS = re.compile(r"\d+(?:,\d+)*")
_DECODER = json.JSONDecoder()

#: a user model's label in the picker (English in the registry; shown translated)
LABEL = N_("{spec} (your model)")
#: where the traced input comes from (:attr:`InputSpec.source`, English: the summary
#: command prints it; :func:`source_text` shows it translated)
FROM_INPUT = N_("from --input")
FROM_EXAMPLE = N_("from example_input()")
GUESSED_FROM = N_("guessed from its first layer ({name})")
#: what :func:`check_input` names, and the fixes several errors share
INPUT_SHAPE = N_("The input shape")
FIX_BATCH = N_("Give the batch first, e.g. 1,3,224,224 for one RGB image.")
FIX_MODULE = N_("Name an nn.Module subclass or a function that returns one.")
GUESSED = N_("guessed (an RGB image): give --input or an example_input() method")
_GUESSED_FROM = re.compile(r"guessed from its first layer \((\w*)\)")


# ------------------------------------------------------------------------ parsing


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One parsed spec: where the model is, its keyword arguments and its input shape."""

    module: str
    attr: str
    #: the JSON keyword arguments, canonical (sorted keys), "" when none
    kwargs_json: str = ""
    #: the traced input, batch first, when the spec gives one
    input_shape: tuple[int, ...] | None = None

    @property
    def path(self) -> str:
        return f"{self.module}:{self.attr}"

    @property
    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.kwargs_json) if self.kwargs_json else {}
        return out

    @property
    def text(self) -> str:
        """The canonical spec: parses back to an equal spec."""
        dims = "" if self.input_shape is None else "@" + ",".join(map(str, self.input_shape))
        return f"{self.path}{self.kwargs_json}{dims}"

    @property
    def key(self) -> str:
        return PREFIX + self.text


def _canonical_json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": ")) if value else ""


def check_input(dims: tuple[int, ...], *, what: str = INPUT_SHAPE) -> tuple[int, ...]:
    """A traced input shape: 1 to USER_MAX_INPUT_DIMS sizes, each 1 to USER_MAX_INPUT_SIZE."""
    if not 1 <= len(dims) <= USER_MAX_INPUT_DIMS:
        raise InputError(
            _("{what} has {n} sizes; give 1 to {most}.").format(
                what=_(what), n=len(dims), most=USER_MAX_INPUT_DIMS
            ),
            fix=_(FIX_BATCH),
        )
    bad = [d for d in dims if not 1 <= d <= USER_MAX_INPUT_SIZE]
    if bad:
        raise InputError(
            _("{what} has a size of {size}; each must be 1 to {most:,}.").format(
                what=_(what), size=bad[0], most=USER_MAX_INPUT_SIZE
            ),
            fix=_(FIX_BATCH),
        )
    return dims


def parse_input(text: str) -> tuple[int, ...]:
    """``"1,3,128,128"`` → ``(1, 3, 128, 128)`` (spaces and a leading ``@`` allowed)."""
    body = re.sub(r"\s+", "", text).removeprefix("@").strip("()[]")
    if len(body) > 200 or not _DIMS.fullmatch(body):
        raise InputError(
            _("{text} is not an input shape.").format(text=repr(shorten(text, 60))),
            fix=_("Give sizes separated by commas, batch first: 1,3,224,224."),
        )
    return check_input(tuple(int(d) for d in body.split(",")))


def _parse_one(text: str, i: int) -> tuple[ModelSpec, int]:
    """The spec starting at ``text[i]`` (not whitespace), and where it ends."""
    m = _PATH.match(text, i)
    if m is None or m.end() >= len(text) or text[m.end()] != ":":
        raise InputError(
            _("{text} is not an import path.").format(text=_near(text, i)),
            fix=_("Write package.module:Name (a class or a factory), e.g. mypkg.nets:MyNet."),
        )
    module = m.group(0)
    a = _PATH.match(text, m.end() + 1)
    if a is None:
        raise InputError(
            _("{text} names no class or function after the colon.").format(text=_near(text, i)),
            fix=_("Write package.module:Name, e.g. mypkg.nets:MyNet."),
        )
    attr, j = a.group(0), a.end()
    kwargs: dict[str, Any] = {}
    if j < len(text) and text[j] == "{":
        try:
            value, j = _DECODER.raw_decode(text, j)
        except json.JSONDecodeError as err:
            raise InputError(
                _("The keyword arguments of {path} are not valid JSON ({error}).").format(
                    path=f"{module}:{attr}", error=err.msg
                ),
                fix=_('Write a JSON object right after the name: MyNet{"num_classes": 10}.'),
            ) from err
        if not isinstance(value, dict) or not all(k.isidentifier() for k in value):
            raise InputError(
                _(
                    "The keyword arguments of {path} must be a JSON object whose keys are "
                    "parameter names."
                ).format(path=f"{module}:{attr}"),
                fix=_('e.g. MyNet{"num_classes": 10, "width": 64}.'),
            )
        kwargs = value
    dims: tuple[int, ...] | None = None
    if j < len(text) and text[j] == "@":
        d = _DIMS.match(text, j + 1)
        if d is None:
            raise InputError(
                _("The input after {path}@ is not a shape.").format(path=f"{module}:{attr}"),
                fix=_("Give sizes separated by commas, batch first: MyNet@1,3,128,128."),
            )
        dims = check_input(tuple(int(x) for x in d.group(0).split(",")))
        j = d.end()
    if j < len(text) and not text[j].isspace():
        raise InputError(
            _("Unexpected {char} after {path}.").format(
                char=repr(text[j]), path=f"{module}:{attr}"
            ),
            fix=_(
                "Separate models with spaces or newlines; a spec is pkg.mod:Name, then "
                'optional {"json": "kwargs"}, then optional @1,3,224,224.'
            ),
        )
    if j - i > USER_MAX_SPEC_CHARS:
        raise InputError(
            _("The spec of {path} has {n:,} characters; at most {most:,}.").format(
                path=f"{module}:{attr}", n=j - i, most=USER_MAX_SPEC_CHARS
            ),
            fix=_("Keep keyword arguments short, or give the model a factory with defaults."),
        )
    return ModelSpec(module, attr, _canonical_json(kwargs), dims), j


def _near(text: str, i: int) -> str:
    word = text[i:].split(None, 1)[0] if text[i:].strip() else ""
    return repr(shorten(word, 60))


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _skip_word(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A spec that could not be used: the text as given and why, in one sentence."""

    spec: str
    message: str


def parse_specs_collect(text: str) -> tuple[tuple[ModelSpec, ...], tuple[LoadFailure, ...]]:
    """Every spec in ``text``; a malformed one becomes a failure, the rest are kept.

    Specs are separated by whitespace (spaces, tabs, newlines); a JSON object may contain
    whitespace. Duplicates (the same canonical spec) are kept once.
    """
    failures: list[LoadFailure] = []
    if len(text) > USER_MAX_ENV_CHARS:
        failures.append(
            LoadFailure(
                f"{MODELS_ENV} ({len(text):,} characters)",
                _("Only the first {most:,} characters of {env} are read.").format(
                    most=USER_MAX_ENV_CHARS, env=MODELS_ENV
                ),
            )
        )
        text = text[:USER_MAX_ENV_CHARS]
    specs: dict[str, ModelSpec] = {}
    i = _skip_space(text, 0)
    while i < len(text):
        try:
            spec, j = _parse_one(text, i)
        except InputError as err:
            j = _skip_word(text, i)
            failures.append(LoadFailure(shorten(text[i:j], 120), err.message))
        else:
            if len(specs) >= USER_MAX_MODELS and spec.key not in specs:
                failures.append(
                    LoadFailure(
                        spec.text,
                        _("Only the first {most} models are registered.").format(
                            most=USER_MAX_MODELS
                        ),
                    )
                )
            else:
                specs.setdefault(spec.key, spec)
        i = _skip_space(text, j)
    return tuple(specs.values()), tuple(failures)


def parse_specs(text: str) -> tuple[ModelSpec, ...]:
    """Every spec in ``text``; raises :class:`InputError` on the first malformed one."""
    specs, failures = parse_specs_collect(text)
    if failures:
        f = failures[0]
        raise InputError(
            f.message,
            fix=_(
                'A spec is pkg.mod:Name, then optional {"json": "kwargs"}, then optional '
                "@1,3,224,224; separate specs with spaces or newlines."
            ),
        )
    return specs


def parse_spec(text: str) -> ModelSpec:
    """Exactly one spec."""
    specs = parse_specs(text)
    if len(specs) != 1:
        raise InputError(
            _("Expected one import path, found {n}.").format(n=len(specs)),
            fix=_("Give one model, e.g. mypkg.nets:MyNet."),
        )
    return specs[0]


def looks_like_spec(text: str) -> bool:
    """True when ``text`` starts like ``pkg.module:Name`` (cheap; no import)."""
    m = _PATH.match(text.strip())
    rest = text.strip()[m.end() :] if m else ""
    return bool(m) and rest.startswith(":") and _PATH.match(rest, 1) is not None


# ------------------------------------------------------------------------ loading


@dataclass(frozen=True, slots=True)
class InputSpec:
    """The input a model is traced with: its shape (batch first), dtype, and where from."""

    shape: tuple[int, ...]
    dtype: str  # "float32", "int64", … (a torch dtype's name)
    source: str  # one sentence fragment: "from --input", "from example_input()", "guessed …"


@dataclass(frozen=True, slots=True)
class UserModel:
    """A spec that imported and built on meta."""

    spec: ModelSpec
    #: the class or factory function the spec names
    target: Callable[..., Any] = field(repr=False)
    class_name: str
    doc: str
    input: InputSpec
    #: the target accepts ``num_classes=`` (then the page offers it)
    takes_num_classes: bool
    default_num_classes: int | None

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def label(self) -> str:
        return LABEL.format(spec=self.spec.text)

    def factory(self, num_classes: int | None = None) -> Callable[[], nn.Module]:
        kwargs = self.spec.kwargs
        if self.takes_num_classes and num_classes is not None:
            kwargs["num_classes"] = num_classes
        return functools.partial(_call_checked, self.target, self.spec.path, kwargs)


def _call_checked(target: Callable[..., Any], path: str, kwargs: dict[str, Any]) -> nn.Module:
    from torch import nn

    out = target(**kwargs)
    if not isinstance(out, nn.Module):
        raise TypeError(f"{path} returned an object of type {type(out).__name__}, not an nn.Module")
    return out


def _sentence(err: BaseException) -> str:
    """An exception as ``Type: first line`` (one line, shortened)."""
    lines = str(err).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return shorten(f"{type(err).__name__}: {first}" if first else type(err).__name__, 240)


def _search_path() -> list[str]:
    raw = os.environ.get(PATH_ENV)
    folders = [p for p in raw.split(os.pathsep) if p] if raw else [os.getcwd()]
    return [os.path.abspath(p) for p in folders]


def _importable() -> None:
    """Append the model folders to ``sys.path`` (never in front: no shadowing)."""
    present = {os.path.abspath(p or os.curdir) for p in sys.path}
    for folder in _search_path():
        if folder not in present:
            sys.path.append(folder)
            present.add(folder)


def resolve(spec: ModelSpec) -> Callable[..., Any]:
    """Import the spec's module and return the class or function it names."""
    _importable()
    try:
        obj: Any = importlib.import_module(spec.module)
    except (Exception, SystemExit) as err:
        raise ModelError(
            _("Importing {module} failed: {error}.").format(
                module=spec.module, error=_sentence(err)
            ),
            fix=_(
                "Check that {module} imports in a Python shell started in the same folder "
                "(the folders searched: {folders})."
            ).format(module=spec.module, folders=", ".join(_search_path())),
        ) from err
    for part in spec.attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise ModelError(
                _("{module} has no attribute {attr}.").format(module=spec.module, attr=spec.attr),
                fix=_("Check the name after the colon (a class or a function in that module)."),
            ) from err
        except Exception as err:  # a module-level __getattr__ of the user's code
            raise ModelError(
                _("Reading {path} failed: {error}.").format(path=spec.path, error=_sentence(err)),
                fix=_("Check the name."),
            ) from err
    if not callable(obj):
        raise ModelError(
            _("{path} is an object of type {type}, not a class or a function.").format(
                path=spec.path, type=type(obj).__name__
            ),
            fix=_(FIX_MODULE),
        )
    if inspect.isclass(obj):
        from torch import nn

        if not issubclass(obj, nn.Module):
            raise ModelError(
                _("{path} is a class but not an nn.Module.").format(path=spec.path),
                fix=_(FIX_MODULE),
            )
    return obj  # type: ignore[no-any-return]


def _num_classes(target: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[bool, int | None]:
    """Whether the target takes ``num_classes=``, and its value by default."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False, None
    p = params.get("num_classes")
    if p is None or p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL, p.VAR_KEYWORD):
        return False, None
    value = kwargs.get("num_classes", p.default)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return True, value
    return False, None


def _first_layer(model: nn.Module) -> nn.Module | None:
    for m in model.modules():
        if not compat.own_modules(m) and any(
            p is not None for p in compat.own_parameters(m).values()
        ):
            return m
    return None


def guess_input(model: nn.Module) -> InputSpec:
    """A plausible input from the model's first layer with parameters (said as a guess)."""
    from torch import nn

    layer = _first_layer(model)
    name = type(layer).__name__ if layer is not None else ""
    how = GUESSED_FROM.format(name=name) if layer is not None else ""
    if isinstance(layer, nn.Conv2d):
        return InputSpec((1, layer.in_channels, 224, 224), "float32", how)
    if isinstance(layer, nn.Conv1d):
        return InputSpec((1, layer.in_channels, 224), "float32", how)
    if isinstance(layer, nn.Conv3d):
        return InputSpec((1, layer.in_channels, 16, 112, 112), "float32", how)
    if isinstance(layer, nn.Linear):
        return InputSpec((1, layer.in_features), "float32", how)
    if isinstance(layer, nn.Embedding | nn.EmbeddingBag):
        return InputSpec((1, 16), "int64", how)
    if isinstance(layer, nn.RNNBase):
        batch_first = bool(layer.batch_first)
        shape = (1, 16, layer.input_size) if batch_first else (16, 1, layer.input_size)
        return InputSpec(shape, "float32", how)
    return InputSpec((1, 3, 224, 224), "float32", GUESSED)


def example_input(model: nn.Module, path: str) -> torch.Tensor | None:
    """What ``model.example_input()`` returns (None without that method).

    Called under ``torch.device("meta")`` first (``torch.randn`` then draws nothing); a
    method that needs real tensors runs again on CPU with the global RNG restored after.
    """
    import torch

    from ptexplore.rng import forked

    method = getattr(model, "example_input", None)
    if method is None or not callable(method):
        return None
    try:
        with torch.device("meta"):
            value = method()
    except Exception:
        try:
            with forked():
                value = method()
        except Exception as err:
            raise ModelError(
                _("{path}.example_input() failed: {error}.").format(
                    path=path, error=_sentence(err)
                ),
                fix=_("Make example_input() return one tensor of the input's shape and dtype."),
            ) from err
    if not isinstance(value, torch.Tensor):
        raise ModelError(
            _("{path}.example_input() returned an object of type {type}, not a tensor.").format(
                path=path, type=type(value).__name__
            ),
            fix=_("Return one tensor (batch first); for several inputs, wrap the model."),
        )
    return value


def model_input(model: nn.Module, spec: ModelSpec | None, path: str) -> InputSpec:
    """The spec's ``@…`` shape, else ``example_input()``, else a guess (see the module doc)."""
    example = example_input(model, path)
    dtype = str(example.dtype).removeprefix("torch.") if example is not None else "float32"
    if spec is not None and spec.input_shape is not None:
        return InputSpec(spec.input_shape, dtype, FROM_INPUT)
    if example is not None:
        shape = check_input(tuple(example.shape), what=f"{path}.example_input()")
        return InputSpec(shape, dtype, FROM_EXAMPLE)
    return guess_input(model)


def source_text(source: str) -> str:
    """An input's source (:attr:`InputSpec.source`, English) in the rerun's language."""
    guessed = _GUESSED_FROM.fullmatch(source)
    if guessed is not None:
        return _(GUESSED_FROM).format(name=guessed.group(1))
    return _(source)


def shown_label(label: str) -> str:
    """A user model's picker label (:attr:`UserModel.label`) in the rerun's language."""
    suffix = LABEL.format(spec="")
    if not label.endswith(suffix):
        return label
    return _(LABEL).format(spec=label.removesuffix(suffix))


def load(spec: ModelSpec) -> tuple[UserModel, nn.Module]:
    """Import, build on meta and find the input of one spec: (its details, the meta build).

    Raises :class:`ModelError` with one sentence when any step fails.
    """
    from ptexplore.models.build import build_on_meta

    target = resolve(spec)
    kwargs = spec.kwargs
    takes, default = _num_classes(target, kwargs)
    try:
        model = build_on_meta(functools.partial(_call_checked, target, spec.path, kwargs)).model
    except Exception as err:
        raise ModelError(
            _("Building {path} on the meta device failed: {error}.").format(
                path=spec.path, error=_sentence(err)
            ),
            fix=_(
                "Check its keyword arguments; a constructor that reads real weight values "
                "(not just shapes) cannot be built on meta."
            ),
        ) from err
    doc = inspect.getdoc(target) or ""
    first = " ".join(doc.split("\n\n", 1)[0].split())
    user = UserModel(
        spec=spec,
        target=target,
        class_name=type(model).__name__,
        doc=shorten(first, 300),
        input=model_input(model, spec, spec.path),
        takes_num_classes=takes,
        default_num_classes=default,
    )
    return user, model


@dataclass(frozen=True, slots=True)
class Registry:
    """What ``PTEXPLORE_MODELS`` gave: the models that load, and why the others do not."""

    models: tuple[UserModel, ...] = ()
    failures: tuple[LoadFailure, ...] = ()

    def get(self, key: str) -> UserModel | None:
        return next((m for m in self.models if m.key == key), None)


def load_all(text: str) -> Registry:
    """Parse and load every spec of ``text``; failures are collected, never raised."""
    specs, failures = parse_specs_collect(text)
    models: list[UserModel] = []
    failed = list(failures)
    for spec in specs:
        try:
            models.append(load(spec)[0])
        except ModelError as err:
            failed.append(LoadFailure(spec.text, err.message))
        except Exception as err:  # pragma: no cover - load() wraps every step
            failed.append(LoadFailure(spec.text, f"{_sentence(err)}."))
    return Registry(tuple(models), tuple(failed))


def configured() -> str:
    """The ``PTEXPLORE_MODELS`` text ("" when unset)."""
    return os.environ.get(MODELS_ENV, "").strip()


_lock = threading.Lock()
_cache: dict[str, Registry] = {}


def registry() -> Registry:
    """The models of ``PTEXPLORE_MODELS``, loaded once per process (per value of it); what
    fails is said in the server's language (``serve --lang``), whichever session asked first."""
    text = configured()
    if not text:
        return Registry()
    with _lock:
        if text not in _cache:
            with i18n.language(i18n.default()):
                _cache[text] = load_all(text)
        return _cache[text]


def clear() -> None:
    """Forget loaded registries (tests; a changed environment is read again)."""
    with _lock:
        _cache.clear()

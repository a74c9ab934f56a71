"""The Load lessons: what each ``load_state_dict`` recipe really does, run live and proven
by comparing tensors before and after.

Every lesson is one script (:class:`ptexplore.live.script.Script`): get the checkpoint
(made here, an upload, or a torch hub cache file — :mod:`ptexplore.checkpoints.lessons`),
build a private target model, compare the keys, run the recipe, then compare every tensor
of the model with its value before (``torch.equal``). What torch does, as measured:

* ``strict=True`` raises one ``RuntimeError`` listing missing keys, unexpected keys and
  size mismatches — **after** copying every entry that fits: a failed strict load still
  changed the model;
* ``strict=False`` forgives missing and unexpected keys (it returns them as
  ``IncompatibleKeys``) but a shape mismatch raises exactly as with ``strict=True``;
* the partial-load recipe (keep what exists in the model with the same shape,
  ``model_dict.update(filtered)``, ``load_state_dict(model_dict)``) changes exactly the
  filtered keys;
* the broken recipe ``net1_dict.update(net1_dict)`` loads without an error or a warning
  and changes nothing;
* ``param.copy_(ckpt[name])`` under ``no_grad`` changes that tensor only (and its other
  names, when tied);
* a float16/bfloat16 tensor copied into a float32 parameter is cast silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ptexplore.checkpoints.compare import (
    Comparison,
    ErrorRow,
    PrefixFinding,
    Status,
    compare,
    find_prefix,
    parse_load_error,
)
from ptexplore.checkpoints.inspector import hub_file
from ptexplore.checkpoints.lessons import (
    DEFAULT_MODEL,
    Made,
    Origin,
    SavedAs,
    Upload,
    build_step,
    built_here,
    check_model,
    hub_path_code,
    imports,
    made_imports,
    made_steps,
    on_upload,
    script_name,
    temporary_copy,
)
from ptexplore.ckpt.formats import CheckpointFormat
from ptexplore.ckpt.read import (
    Checkpoint,
    check_upload_size,
    read_checkpoint,
    read_upload,
    who_added,
)
from ptexplore.errors import InputError, ModelError, Refusal
from ptexplore.i18n import N_, _
from ptexplore.limits import CKPT_LAB_KEYS_PRINTED
from ptexplore.live import Snippet
from ptexplore.live.script import Script
from ptexplore.models import catalog
from ptexplore.text import code_span


class Lesson(StrEnum):
    STRICT = "strict=True"
    NOT_STRICT = "strict=False"
    PARTIAL = "partial load"
    BROKEN = "broken recipe"
    LAYER = "one layer"

    @property
    def label(self) -> str:
        """English, marked for the catalog: shown translated, ``_(lesson.label)``."""
        return {
            Lesson.STRICT: "model.load_state_dict(ckpt)  — strict=True",  # code: the same
            Lesson.NOT_STRICT: "model.load_state_dict(ckpt, strict=False)",  # in Chinese
            Lesson.PARTIAL: N_("partial load: filter by key and shape, then update"),
            Lesson.BROKEN: N_("the broken recipe: net1_dict.update(net1_dict)"),
            Lesson.LAYER: N_("one layer: param.copy_(ckpt[name])"),
        }[self]


@dataclass(frozen=True, slots=True)
class LoadConfig:
    target: str = DEFAULT_MODEL
    num_classes: int | None = 10
    origin: Origin = Origin.MADE
    #: a made-here checkpoint: the target's architecture with this head, saved so
    source_classes: int | None = 1000
    saved_as: SavedAs = SavedAs.STATE_DICT
    upload: Upload | None = None
    #: a file name in the torch hub cache folder
    hub: str | None = None
    #: strip the wrapper prefix found on every key
    strip: bool = False
    lesson: Lesson = Lesson.PARTIAL
    #: the parameter of the one-layer lesson ("" = the model's first)
    layer: str = ""
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Proof:
    """Every tensor of the model compared with its value before the lesson."""

    changed: tuple[str, ...]
    #: what the lesson should change (the filtered keys, the one layer, nothing…)
    expected: tuple[str, ...]
    #: every expected key now equals the checkpoint's tensor (cast to the model's dtype)
    equal_to_checkpoint: bool
    #: every other key still equals its value before
    rest_untouched: bool
    total: int
    #: expected keys that already held the checkpoint's values (so they cannot change)
    already: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return set(self.changed) == set(self.expected) - set(self.already)


@dataclass(frozen=True, slots=True)
class LoadResult:
    config: LoadConfig
    origin: str  # the checkpoint, in words
    wrapper: str | None  # the state_dict was under this key
    prefix: PrefixFinding | None
    stripped: bool
    comparison: Comparison
    #: torch's RuntimeError from load_state_dict (or copy_), verbatim
    refusal: Refusal | None
    error_rows: tuple[ErrorRow, ...]
    #: (missing_keys, unexpected_keys) of the IncompatibleKeys load_state_dict returned
    incompatible: tuple[tuple[str, ...], tuple[str, ...]] | None
    proof: Proof
    layer: str | None
    notes: tuple[str, ...]
    #: wall time of the recipe's load_state_dict / copy_ on this server
    seconds: float
    snippet: Snippet


# ---------------------------------------------------------------------- the scripts


def _keys(expr: str) -> str:
    n = CKPT_LAB_KEYS_PRINTED
    return f"{expr}[:{n}]"


_COMPARE = f"""params = {{name for name, _ in model.named_parameters(remove_duplicate=False)}}
matched = [k for k in model_dict if k in ckpt and ckpt[k].shape == model_dict[k].shape]
mismatched = [k for k in model_dict if k in ckpt and ckpt[k].shape != model_dict[k].shape]
missing = [k for k in model_dict if k not in ckpt]
unexpected = [k for k in ckpt if k not in model_dict]
n_params = sum(k in params for k in matched)
print(f"matched {{len(matched)}}: {{n_params}} parameters, {{len(matched) - n_params}} buffers")
print(f"shape-mismatched {{len(mismatched)}}: {{{_keys("mismatched")}}}")
print(f"missing {{len(missing)}}: {{{_keys("missing")}}}")
print(f"unexpected {{len(unexpected)}}: {{{_keys("unexpected")}}}")
"""

_EXCEPT = """except RuntimeError as err:
    error = err
    print(f"{type(err).__name__}: {err}")
"""


def _try(*lines: str) -> str:
    return "try:\n" + "".join(f"    {line}\n" for line in lines) + _EXCEPT


_INCOMPATIBLE = f"""print("missing_keys:", len(result.missing_keys), {_keys("result.missing_keys")})
print("unexpected_keys:", len(result.unexpected_keys), {_keys("result.unexpected_keys")})
"""

_CHANGED = f"""after = model.state_dict()
changed = [k for k in after if not torch.equal(after[k], before[k])]
print(f"{{len(changed)}} of {{len(after)}} tensors changed: {{{_keys("changed")}}}")
"""


def attr_path(model: nn.Module, name: str) -> str:
    """``model.layer1[0].conv1.weight`` for ``layer1.0.conv1.weight`` when that expression
    reaches the parameter, else ``model.get_parameter("…")``."""
    parts = name.split(".")
    expr = "model"
    for p in parts:
        if p.isdigit():
            expr += f"[{p}]"
        elif p.isidentifier():
            expr += f".{p}"
        else:
            return f"model.get_parameter({name!r})"
    try:
        ok = eval(expr, {"__builtins__": {}}, {"model": model}) is model.get_parameter(name)
    except Exception:  # a ModuleDict with digit keys, a name that is not a parameter…
        ok = False
    return expr if ok else f"model.get_parameter({name!r})"


def lesson_code(lesson: Lesson, cmp: Comparison, layer: str, target: str) -> str:
    """The recipe's code (it leaves ``result``, maybe ``error``)."""
    mismatched = cmp.count(Status.SHAPE) > 0
    if lesson is Lesson.STRICT:
        call = "result = model.load_state_dict(ckpt)  # strict=True is the default"
        if _strict_fails(cmp):
            return _try(call, "print(result)")
        return f"{call}\nprint(result)\n"
    if lesson is Lesson.NOT_STRICT:
        call = "result = model.load_state_dict(ckpt, strict=False)"
        if not mismatched:
            return call + "\n" + _INCOMPATIBLE
        return (
            _try(call)
            + "# strict=False forgives missing and unexpected keys, never a shape mismatch:\n"
            "# leave out the mismatched keys, then it loads\n"
            "fits = {k: v for k, v in ckpt.items() if k not in model_dict "
            "or v.shape == model_dict[k].shape}\n"
            "result = model.load_state_dict(fits, strict=False)\n" + _INCOMPATIBLE
        )
    if lesson is Lesson.PARTIAL:
        return (
            "# keep what the model has, with the same shape\n"
            "filtered = {k: v for k, v in ckpt.items() "
            "if k in model_dict and v.shape == model_dict[k].shape}\n"
            'print(f"kept {len(filtered)} of {len(ckpt)} entries")\n'
            "model_dict.update(filtered)\n"
            "result = model.load_state_dict(model_dict)\n"
            "print(result)\n"
        )
    if lesson is Lesson.BROKEN:
        return (
            "net1_dict = model.state_dict()\n"
            "pretrained_dict = {k: v for k, v in ckpt.items() "
            "if k in net1_dict and v.shape == net1_dict[k].shape}\n"
            'print(f"{len(pretrained_dict)} entries ready to load")\n'
            "net1_dict.update(net1_dict)  # the bug: should be .update(pretrained_dict)\n"
            "result = model.load_state_dict(net1_dict)\n"
            "print(result)  # no error, no warning\n"
        )
    row = next(r for r in cmp.rows if r.key == layer)
    if row.status is Status.MISSING:
        return f"print({layer!r} in ckpt)  # the checkpoint has no {layer}: nothing to copy\n"
    call = f"{target}.copy_(ckpt[{layer!r}])"
    if row.status is Status.SHAPE:
        return _try("with torch.no_grad():", f"    {call}")
    return f"with torch.no_grad():  # copy_ into a parameter that requires grad\n    {call}\n"


def _strict_fails(cmp: Comparison) -> bool:
    return any(cmp.count(s) for s in (Status.SHAPE, Status.MISSING, Status.UNEXPECTED))


def _exactly(keys: str, head: str) -> str:
    """Print whether exactly ``keys`` changed (those that did not already hold the
    checkpoint's values: an untrained BatchNorm is weight 1, bias 0 in both)."""
    return (
        f"already = [k for k in {keys} if torch.equal(before[k], ckpt[k].to(before[k].dtype))]\n"
        f"exact = set(changed) == set({keys}) - set(already)\n"
        f'print("{head}:", exact, f"({{len(already)}} already held the checkpoint\'s values)")\n'
    )


def proof_code(lesson: Lesson, cmp: Comparison, layer: str) -> str:
    code = _CHANGED
    if lesson is Lesson.PARTIAL:
        code += _exactly("filtered", "changed exactly the filtered keys") + (
            "loaded = all(torch.equal(after[k], v.to(after[k].dtype))\n"
            "             for k, v in filtered.items())\n"
            'print("each now equals the checkpoint\'s tensor:", loaded)\n'
        )
    elif lesson is Lesson.BROKEN:
        code += (
            'print(f"{len(changed)} changed, though {len(pretrained_dict)} were ready to load")\n'
        )
    elif lesson in (Lesson.STRICT, Lesson.NOT_STRICT):
        raised = (lesson is Lesson.STRICT and _strict_fails(cmp)) or cmp.count(Status.SHAPE)
        head = (
            "it raised, yet changed exactly the matched keys"
            if raised
            else ("changed exactly the matched keys")
        )
        code += _exactly("matched", head)
    cast = next((c for c in cmp.casts if _loads(lesson, c[0], layer)), None)
    if cast is not None:
        code += (
            f"k = {cast[0]!r}\n"
            'print(f"{k}: {ckpt[k].dtype} in the checkpoint, {after[k].dtype} in the model '
            '(copy_ cast it, without a word)")\n'
        )
    return code


def _loads(lesson: Lesson, key: str, layer: str) -> bool:
    if lesson is Lesson.BROKEN:
        return False
    return key == layer if lesson is Lesson.LAYER else True


# ------------------------------------------------------------------------ running


def _source(config: LoadConfig) -> Made:
    return Made(
        key=config.target,
        num_classes=config.source_classes
        if catalog.entry(config.target).takes_num_classes
        else None,
        saved_as=config.saved_as,
        seed=config.seed,
    )


def _read_guarded(config: LoadConfig) -> tuple[Checkpoint, str, str, Path | None]:
    """The guard's reading of an upload or hub file: (checkpoint, the file's name in the
    script, the code naming it, the hub path). Raises the reader's InputError when
    refused."""
    if config.origin is Origin.UPLOAD:
        up = config.upload
        if up is None:
            raise InputError(
                _("No file uploaded yet."),
                fix=_("Upload a .pt, .pth, .ckpt, .bin or .safetensors file, or pick 'made here'."),
            )
        ck = read_upload(up.data)
        name = script_name(up.name, ck.format)
        shown = f"path = {name!r}  # your uploaded file (the page ran this on its own copy)\n"
        return ck, name, shown, None
    if config.hub is None:
        raise InputError(
            _("No cached weights picked."),
            fix=_("Pick 'made here', or put weights in the hub cache."),
        )
    path = hub_file(config.hub)
    return read_checkpoint(path), config.hub, hub_path_code(config.hub), path


def _unwrap_code(wrapper: str | None, tensors_only: bool) -> str:
    code = (
        f'ckpt = checkpoint["{wrapper}"]  # the weights are under "{wrapper}"\n'
        if wrapper
        else "ckpt = checkpoint  # the file is the state_dict itself\n"
    )
    if tensors_only:
        code += (
            "ckpt = {k: v for k, v in ckpt.items() "
            "if isinstance(k, str) and isinstance(v, torch.Tensor)}  # named tensors only\n"
        )
    return code


def _target_step(script: Script, config: LoadConfig) -> nn.Module:
    seed = (config.seed + 1) % 2**31
    model = build_step(script, "model", config.target, config.num_classes, seed)
    script.run(
        "model_dict = model.state_dict()  # your private model: nothing is shared\n"
        "before = {k: v.clone() for k, v in model_dict.items()}\n"
    )
    return model


def _strip_code(prefix: str, who: str) -> str:
    return f"ckpt = {{k.removeprefix({prefix!r}): v for k, v in ckpt.items()}}  # added by {who}\n"


def _default_layer(model: nn.Module) -> str:
    return next(n for n, _p in model.named_parameters(remove_duplicate=False))


def _check(config: LoadConfig) -> None:
    check_model(config.target)


def run_load(config: LoadConfig) -> LoadResult:
    """Run the chosen lesson (see the module docstring) on a private target model, all of it
    in the sandbox (:func:`ptexplore.checkpoints.lessons.on_upload` for an upload,
    :func:`~ptexplore.checkpoints.lessons.built_here` otherwise: real builds)."""
    _check(config)
    if config.origin is Origin.UPLOAD and config.upload is not None:
        check_upload_size(len(config.upload.data))
        return on_upload(_("loading this checkpoint"), _run_load, config)
    made = config.origin is Origin.MADE  # (a hub file is read from disk: a fresh child)
    return built_here(_("loading this checkpoint"), _run_load, config, reuse=made)


def _run_load(config: LoadConfig) -> LoadResult:
    script = Script()
    wrapper: str | None
    if config.origin is Origin.MADE:
        made = _source(config)
        std, third = made_imports(made)
        st = made.saved_as is SavedAs.SAFETENSORS
        third = ("from safetensors.torch import load, save",) if st else third
        script.run(imports(config.target, std=std, third=third))
        made_steps(script, made)
        if st:
            script.run("ckpt = load(buffer.getvalue())  # safetensors: names → tensors\n")
        else:
            script.run(
                'checkpoint = torch.load(buffer, weights_only=True, map_location="cpu")\n'
                + _unwrap_code(made.saved_as.wrapper, False)
            )
        wrapper = made.saved_as.wrapper
        label, how = catalog.shown_name(made.key), _(made.saved_as.label)
        origin = (
            _("{model} ({n} classes) saved {how}").format(model=label, n=made.num_classes, how=how)
            if made.num_classes
            else _("{model} saved {how}").format(model=label, how=how)
        )
        return _lesson(script, config, origin, wrapper)
    ck, name, shown, hub = _read_guarded(config)
    st = ck.format is CheckpointFormat.SAFETENSORS
    std = ("import os",) if hub is not None else ()
    third = ("from safetensors.torch import load_file",) if st else ()
    script.run(imports(config.target, std=std, third=third))
    origin = config.upload.name if config.upload is not None else str(config.hub)

    def rest(path: Path) -> LoadResult:
        if hub is not None:
            script.run(shown)
        else:
            script.provide(shown, path=str(path))
        if st:
            script.run("ckpt = load_file(path)  # safetensors: names → tensors\n")
        else:
            mmap = ", mmap=True" if hub is not None else ""
            script.run(
                f'checkpoint = torch.load(path, weights_only=True, map_location="cpu"{mmap})\n'
                + _unwrap_code(ck.wrapper_key, bool(ck.skipped))
            )
        return _lesson(script, config, origin, ck.wrapper_key)

    if hub is not None:
        return rest(hub)
    assert config.upload is not None
    with temporary_copy(name, config.upload.data) as path:
        return rest(path)


def _lesson(script: Script, config: LoadConfig, origin: str, wrapper: str | None) -> LoadResult:
    model = _target_step(script, config)
    ckpt: dict[str, Any] = script["ckpt"]
    own_keys = set(script["model_dict"])
    prefix = find_prefix([str(k) for k in ckpt], own_keys)
    notes: list[str] = []
    stripped = False
    if prefix is not None and config.strip:
        script.run(_strip_code(prefix.prefix, prefix.who))
        stripped = True
    elif config.strip:
        notes.append(_("no wrapper prefix to strip: the keys are used as they are"))
    script.run(_COMPARE)
    ckpt = script["ckpt"]
    cmp = compare(model, ckpt)
    layer = config.layer or _default_layer(model)
    if config.lesson is Lesson.LAYER and layer not in {r.key for r in cmp.rows}:
        raise ModelError(
            _("{layer} is not a parameter of {model}.").format(
                layer=code_span(layer), model=config.target
            ),
            fix=_("Pick a name from the list."),
        )
    started = time.perf_counter()
    target = attr_path(model, layer) if config.lesson is Lesson.LAYER else ""
    script.run(lesson_code(config.lesson, cmp, layer, target))
    seconds = time.perf_counter() - started
    script.run(proof_code(config.lesson, cmp, layer))
    return _result(script, config, origin, wrapper, prefix, stripped, cmp, layer, notes, seconds)


def _expected(
    config: LoadConfig, cmp: Comparison, layer: str, ns: dict[str, Any]
) -> tuple[str, ...]:
    lesson = config.lesson
    if lesson is Lesson.BROKEN:
        return ()
    if lesson is Lesson.PARTIAL:
        return tuple(ns["filtered"])
    if lesson is Lesson.LAYER:
        row = next(r for r in cmp.rows if r.key == layer)
        if row.status is not Status.MATCHED:
            return ()
        tied = {layer} | {g for grp in cmp.model_tied if layer in grp for g in grp}
        return tuple(k for k in ns["after"] if k in tied)
    return tuple(ns["matched"])


def _result(
    script: Script,
    config: LoadConfig,
    origin: str,
    wrapper: str | None,
    prefix: PrefixFinding | None,
    stripped: bool,
    cmp: Comparison,
    layer: str,
    notes: list[str],
    seconds: float,
) -> LoadResult:
    ns = script.namespace
    after: dict[str, torch.Tensor] = ns["after"]
    before: dict[str, torch.Tensor] = ns["before"]
    ckpt: dict[str, Any] = ns["ckpt"]
    expected = _expected(config, cmp, layer, ns)
    equal = all(
        isinstance(ckpt.get(k), torch.Tensor) and torch.equal(after[k], ckpt[k].to(after[k].dtype))
        for k in expected
        if k in ckpt
    )
    untouched = all(torch.equal(after[k], before[k]) for k in after if k not in set(expected))
    already = tuple(
        k
        for k in expected
        if isinstance(ckpt.get(k), torch.Tensor)
        and torch.equal(before[k], ckpt[k].to(before[k].dtype))
    )
    proof = Proof(
        changed=tuple(ns["changed"]),
        expected=expected,
        equal_to_checkpoint=equal,
        rest_untouched=untouched,
        total=len(after),
        already=already,
    )
    err = ns.get("error")
    refusal = None
    rows: tuple[ErrorRow, ...] = ()
    if isinstance(err, RuntimeError):
        refusal = Refusal(type(err).__name__, str(err), *_why(config.lesson, cmp))
        rows = parse_load_error(str(err))
    result = ns.get("result")
    incompatible = None
    if result is not None and hasattr(result, "missing_keys"):
        incompatible = (tuple(result.missing_keys), tuple(result.unexpected_keys))
    if not cmp.count(Status.MATCHED):
        notes.insert(
            0,
            _(
                "0 keys match: every checkpoint key starts with {prefix} "
                "(added by {who}); strip it and {n} match"
            ).format(
                prefix=code_span(prefix.prefix),
                who=who_added(prefix.prefix),
                n=prefix.matches_stripped,
            )
            if prefix is not None and not stripped
            else _("0 keys match: this checkpoint belongs to another model"),
        )
    return LoadResult(
        config=config,
        origin=origin,
        wrapper=wrapper,
        prefix=prefix,
        stripped=stripped,
        comparison=cmp,
        refusal=refusal,
        error_rows=rows,
        incompatible=incompatible,
        proof=proof,
        layer=layer if config.lesson is Lesson.LAYER else None,
        notes=tuple(notes),
        seconds=seconds,
        snippet=script.snippet(),
    )


def _why(lesson: Lesson, cmp: Comparison) -> tuple[str, str]:
    """(lesson, fix) for torch's error."""
    if lesson is Lesson.LAYER:
        return (
            _(
                "copy_ needs the same number of elements in every dimension (or a shape it can "
                "broadcast): the checkpoint's tensor has another shape."
            ),
            _("Load a layer whose shape matches, or change the model (num_classes) to fit."),
        )
    if lesson is Lesson.NOT_STRICT:
        return (
            _(
                "strict=False forgives missing and unexpected keys only: a size mismatch still "
                "raises, as with strict=True. (It is a popular belief that strict=False skips "
                "mismatched shapes; it does not.)"
            ),
            _("Filter by key and shape first (the partial-load recipe), then load."),
        )
    why = (
        _(
            "strict=True wants exactly the model's keys with the model's shapes. And note: "
            "torch copied every entry that fits BEFORE it raised. Size mismatches raise even "
            "with strict=False."
        )
        if cmp.count(Status.SHAPE)
        else _(
            "strict=True wants exactly the model's keys with the model's shapes. And note: "
            "torch copied every entry that fits BEFORE it raised. strict=False would accept "
            "it and return the missing/unexpected keys."
        )
    )
    return (
        why,
        _(
            "Filter by key and shape (the partial-load recipe), or pick the matching model "
            "and num_classes."
        ),
    )


__all__ = [
    "Lesson",
    "LoadConfig",
    "LoadResult",
    "Proof",
    "attr_path",
    "lesson_code",
    "proof_code",
    "run_load",
]

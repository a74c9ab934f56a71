"""The Inspect lesson: what a checkpoint holds, read without materialising its data.

:func:`run_inspect` checks the file with the guard, then runs a script that loads it the
way :mod:`ptexplore.checkpoints.inspector` measured to read no tensor bytes — torch files
with ``torch.load(..., weights_only=True, map_location="meta")`` inside
``torch.serialization.skip_data()``, safetensors files by their JSON header alone — and
reads the structure, every tensor and the counts off the object the script left behind.
A file torch's weights-only unpickler refuses gets the fixed refusal, the globals it
wanted and a script that shows the same refusal (never torch's advice to load it with
``weights_only=False``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ptexplore.checkpoints.inspector import (
    Checked,
    Inspection,
    UnsafeCheckpoint,
    check,
    describe,
    describe_safetensors,
    hub_file,
    load_meta,
)
from ptexplore.checkpoints.lessons import (
    Made,
    Origin,
    SavedAs,
    Upload,
    built_here,
    hub_path_code,
    imports,
    made_imports,
    made_steps,
    on_upload,
    script_name,
    temporary_copy,
)
from ptexplore.ckpt.formats import CheckpointFormat, detect
from ptexplore.ckpt.guard import Source
from ptexplore.ckpt.read import check_upload_size
from ptexplore.errors import InputError
from ptexplore.i18n import _
from ptexplore.limits import CKPT_LAB_KEYS_PRINTED, CKPT_MAX_FILE_BYTES
from ptexplore.live import Snippet
from ptexplore.live.script import Script
from ptexplore.models import catalog


@dataclass(frozen=True, slots=True)
class InspectConfig:
    origin: Origin = Origin.MADE
    made: Made = field(default_factory=lambda: Made(saved_as=SavedAs.CHECKPOINT))
    upload: Upload | None = None
    hub: str | None = None  # a file name in the torch hub cache folder


@dataclass(frozen=True, slots=True)
class Refused:
    """The file was refused: the message and fix; for a pickle torch's weights-only
    unpickler stopped, the globals it wanted and torch's reason (without its advice)."""

    message: str
    fix: str
    unsafe: bool = False
    wanted: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class InspectResult:
    config: InspectConfig
    #: what was inspected, in words (a made-here file, an upload's name, a hub file)
    origin: str
    inspection: Inspection | None
    refused: Refused | None
    #: wall time of the meta load (or header read) on this server
    seconds: float
    snippet: Snippet | None


# ------------------------------------------------------------------------- scripts

_WALK = '''def tensors_in(obj, where=""):
    """(path, tensor) of every tensor in obj: in dicts, lists and tuples, at any depth."""
    if isinstance(obj, torch.Tensor):
        yield where, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors_in(v, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors_in(v, f"{where}.{i}" if where else str(i))


found = list(tensors_in(checkpoint))
devices = sorted({t.device.type for _, t in found})
print(f"a {type(checkpoint).__name__} holding {len(found):,} tensors, on {devices}")
'''


def _plain_values() -> str:
    return (
        "for k, v in checkpoint.items():\n"
        "    if not isinstance(v, (dict, list, tuple, torch.Tensor)):\n"
        '        print(f"{k} = {repr(v)[:80]}")  # epoch, loss, …\n'
    )


def _weights(at: str | None) -> str:
    if at is None:
        return 'print("no state_dict inside: no dict of names to tensors")\n'
    head = (
        "state_dict = checkpoint  # the file is the state_dict itself\n"
        if at == ""
        else f'state_dict = checkpoint["{at}"]  # where the weights are\n'
    )
    n = CKPT_LAB_KEYS_PRINTED
    return head + (
        "weights = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}\n"
        "per_dtype = {}\n"
        "for t in weights.values():\n"
        "    count, size = per_dtype.get(t.dtype, (0, 0))\n"
        "    per_dtype[t.dtype] = (count + t.numel(), size + t.numel() * t.element_size())\n"
        f"for name, t in list(weights.items())[:{n}]:\n"
        '    print(f"  {name}: {tuple(t.shape)} {t.dtype}")\n'
        f"if len(weights) > {n}:\n"
        f'    print(f"  … and {{len(weights) - {n}}} more")\n'
        "for dtype, (count, size) in per_dtype.items():\n"
        '    print(f"{dtype}: {count:,} values, {size:,} bytes")\n'
    )


def _header(source: str) -> str:
    n = CKPT_LAB_KEYS_PRINTED
    if source == "buffer":
        read = (
            "data = buffer.getvalue()\n"
            'n = struct.unpack("<Q", data[:8])[0]  # the header length: 8 bytes, little-endian\n'
            "header = json.loads(data[8 : 8 + n])  # the tensor bytes are never parsed\n"
        )
    else:
        read = (
            'with open(path, "rb") as f:\n'
            '    n = struct.unpack("<Q", f.read(8))[0]  # 8 bytes, little-endian: N\n'
            "    header = json.loads(f.read(n))  # the tensor bytes are never read\n"
        )
    return read + (
        'metadata = header.pop("__metadata__", {})\n'
        'print(f"JSON header: {n:,} bytes, {len(header):,} tensors")\n'
        'print("metadata:", sorted(metadata.items()))  # stored in no fixed order\n'
        "per_dtype = {}\n"
        "for info in header.values():\n"
        '    begin, end = info["data_offsets"]\n'
        '    count, size = per_dtype.get(info["dtype"], (0, 0))\n'
        '    per_dtype[info["dtype"]] = (count + math.prod(info["shape"]), size + end - begin)\n'
        f"for name, info in list(header.items())[:{n}]:\n"
        "    print(f\"  {name}: {info['dtype']} {info['shape']} at {info['data_offsets']}\")\n"
        f"if len(header) > {n}:\n"
        f'    print(f"  … and {{len(header) - {n}}} more")\n'
        "for dtype, (count, size) in per_dtype.items():\n"
        '    print(f"{dtype}: {count:,} values, {size:,} bytes")\n'
    )


def _meta_load(source: str) -> str:
    if source == "buffer":
        return (
            "with torch.serialization.skip_data():  # read no tensor bytes\n"
            '    checkpoint = torch.load(buffer, weights_only=True, map_location="meta")\n'
        )
    return (
        'with open(path, "rb") as f, torch.serialization.skip_data():  # no tensor bytes\n'
        '    checkpoint = torch.load(f, weights_only=True, map_location="meta")\n'
    )


def _refusal_code(fmt: CheckpointFormat) -> str:
    code = (
        "try:\n"
        '    torch.load(path, weights_only=True, map_location="meta")\n'
        "except pickle.UnpicklingError:\n"
        '    print("torch.load(weights_only=True) refused it: not plain weights")\n'
    )
    if fmt is CheckpointFormat.ZIP:
        code += (
            "wanted = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))\n"
            'print("its pickle wants to import:", wanted)\n'
        )
    return code


# -------------------------------------------------------------------------- running


def _refused(err: InputError) -> Refused:
    if isinstance(err, UnsafeCheckpoint):
        return Refused(err.message, err.fix, unsafe=True, wanted=err.wanted, reason=err.reason)
    return Refused(err.message, err.fix)


def _survey(script: Script, checked: Checked, source: str) -> tuple[Inspection, float]:
    """Run the inspecting steps on ``source`` (``"buffer"`` or ``"path"``)."""
    if checked.format is CheckpointFormat.SAFETENSORS:
        started = time.perf_counter()
        script.run(_header(source))
        return describe_safetensors(checked), time.perf_counter() - started
    started = time.perf_counter()
    script.run(_meta_load(source))
    seconds = time.perf_counter() - started
    inspection = describe(checked, script["checkpoint"])
    code = _WALK
    if isinstance(script["checkpoint"], dict):
        code += _plain_values()
    script.run(code + _weights(inspection.state_dict_at))
    return inspection, seconds


def _imports(fmt: CheckpointFormat, *, made: Made | None = None, hub: bool = False) -> str:
    std: tuple[str, ...] = ()
    third: tuple[str, ...] = ()
    if made is not None:
        std, third = made_imports(made)
    if fmt is CheckpointFormat.SAFETENSORS:
        std += ("import json", "import math", "import struct")
    if hub:
        std += ("import os",)
    return imports(*([made.key] if made is not None else []), std=std, third=third)


def _made(config: InspectConfig) -> InspectResult:
    made = config.made
    st = made.saved_as is SavedAs.SAFETENSORS
    script = Script()
    script.run(_imports(CheckpointFormat.SAFETENSORS if st else CheckpointFormat.ZIP, made=made))
    made_steps(script, made)
    data = script["buffer"].getvalue()
    with Source(data) as src:  # the script's own bytes: bounded by the file cap
        checked = check(src, declared_cap=CKPT_MAX_FILE_BYTES)
    inspection, seconds = _survey(script, checked, "buffer")
    return InspectResult(config, made_label(made), inspection, None, seconds, script.snippet())


def _file(
    config: InspectConfig, path: Path, shown: str, label: str, data: bytes | None
) -> InspectResult:
    """Inspect a file (an upload's temporary copy, or a hub cache file) that the script
    names with the code ``shown``: for an upload the script shows the upload's name and
    runs on the copy; a hub file's code is run as it is."""
    hub = data is None

    def name_it(script: Script) -> None:
        if hub:
            script.run(shown)
        else:
            script.provide(shown, path=str(path))

    with Source(data if data is not None else path) as src:
        try:
            checked = check(src)
            if checked.format is not CheckpointFormat.SAFETENSORS:
                load_meta(src, checked)  # refused here, before the script loads it
        except UnsafeCheckpoint as err:
            script = Script()
            script.run(("import os\n" if hub else "") + "import pickle\n\nimport torch\n")
            name_it(script)
            script.run(_refusal_code(checked.format))
            return InspectResult(config, label, None, _refused(err), 0.0, script.snippet())
        except InputError as err:
            return InspectResult(config, label, None, _refused(err), 0.0, None)
    script = Script()
    script.run(_imports(checked.format, hub=hub))
    name_it(script)
    inspection, seconds = _survey(script, checked, "path")
    return InspectResult(config, label, inspection, None, seconds, script.snippet())


def _upload(config: InspectConfig) -> InspectResult:
    """Inspect the upload (in the sandbox: :func:`ptexplore.checkpoints.lessons.on_upload`)."""
    up = config.upload
    assert up is not None
    name = script_name(up.name, sniff(up.data))
    shown = f"path = {name!r}  # your uploaded file (the page ran this on its own copy)\n"
    with temporary_copy(name, up.data) as path:
        return _file(config, path, shown, up.name, up.data)


def run_inspect(config: InspectConfig) -> InspectResult:
    """Check and inspect the chosen file (see the module docstring), in the sandbox."""
    if config.origin is Origin.MADE:
        return built_here(_("making and inspecting this checkpoint"), _made, config)
    if config.origin is Origin.UPLOAD:
        up = config.upload
        if up is None:
            raise InputError(
                _("No file uploaded yet."),
                fix=_("Upload a .pt, .pth, .ckpt, .bin or .safetensors file."),
            )
        check_upload_size(len(up.data))
        return on_upload(_("inspecting this checkpoint"), _upload, config)
    if config.hub is None:
        raise InputError(
            _("No file picked from the torch hub cache."), fix=_("Pick a file from the list.")
        )
    hub_file(config.hub)  # (a file that is not there is said here, without a job)
    return built_here(_("inspecting this checkpoint"), _hub, config, reuse=False)


def _hub(config: InspectConfig) -> InspectResult:
    assert config.hub is not None
    return _file(config, hub_file(config.hub), hub_path_code(config.hub), config.hub, None)


def sniff(data: bytes) -> CheckpointFormat:
    """The format the bytes say (zip when they say none: the guard refuses it anyway)."""
    try:
        return detect(data[:64], len(data))
    except InputError:
        return CheckpointFormat.ZIP


def made_label(made: Made) -> str:
    return _("{model} saved {how}").format(
        model=catalog.shown_name(made.key), how=_(made.saved_as.label)
    )


__all__ = ["InspectConfig", "InspectResult", "Refused", "made_label", "run_inspect", "sniff"]

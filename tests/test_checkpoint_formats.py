"""Checkpoints as real tools write them: every format told by its bytes, every wrapper and
prefix found and named, and everything else a lesson (InputError), never a traceback."""

from __future__ import annotations

import io
import os
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as safetensors_bytes
from safetensors.torch import save_file as safetensors_file

from ptexplore.ckpt import CheckpointFormat, read_checkpoint
from ptexplore.errors import InputError, LessonError, ModelError
from ptexplore.models import catalog, weights
from ptexplore.models.weights import WeightsSource

KEY = "example:SmallVGG"


def saved(obj: object, **kwargs: object) -> bytes:
    """What ``torch.save(obj, f, **kwargs)`` writes."""
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue()


def with_pickle(pkl: bytes, *, base: object | None = None, extra: dict[str, bytes] | None = None,
                compress: int = zipfile.ZIP_STORED) -> bytes:  # fmt: skip
    """A torch.save archive of ``base`` whose data.pkl is replaced by ``pkl``."""
    src = zipfile.ZipFile(io.BytesIO(saved({} if base is None else base)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for info in src.infolist():
            z.writestr(
                info.filename, pkl if info.filename.endswith("/data.pkl") else src.read(info)
            )
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def real() -> OrderedDict[str, torch.Tensor]:
    return catalog.build_real(KEY, seed=3).state_dict()


def _load(sd: dict[str, torch.Tensor], prefix: str | None = None) -> weights.LoadReport:
    _, report = weights.load_into_meta(
        KEY, None, sd, source=WeightsSource.UPLOAD, origin="x.pth", stripped_prefix=prefix
    )
    return report


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------- what loads


def test_plain_state_dict(real: OrderedDict[str, torch.Tensor]) -> None:
    c = read_checkpoint(saved(real))
    assert c.format is CheckpointFormat.ZIP
    assert (c.wrapper_key, c.stripped_prefix, c.extras, c.notes) == (None, None, (), ())
    assert _same(c.state_dict, real)
    assert len(_load(c.state_dict).loaded) == len(real)


def test_checkpoint_dict_with_epoch_loss_and_optimizer(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    model = catalog.build_real(KEY, seed=3)
    opt = torch.optim.Adam(model.parameters())
    model(torch.zeros(1, 3, 32, 32)).sum().backward()
    opt.step()
    data = saved({"epoch": 7, "loss": 0.25, "model_state_dict": real,
                  "optimizer_state_dict": opt.state_dict()})  # fmt: skip
    state, wrapper, prefix = weights.read_state_dict(data)
    assert (wrapper, prefix) == ("model_state_dict", None)
    assert _same(state, real)
    c = read_checkpoint(data)
    assert c.extras == ("epoch", "loss", "optimizer_state_dict")
    assert any("`optimizer_state_dict`" in n and "not loaded" in n for n in c.notes)
    assert any("`epoch`" in n for n in _load(state).notes)  # the report carries the notes


@pytest.mark.parametrize(
    ("prefix", "who"),
    [
        ("module.", "DataParallel"),
        ("model.", "Lightning"),
        ("_orig_mod.", "torch.compile"),
        ("module._orig_mod.", "DataParallel / DistributedDataParallel then torch.compile"),
        ("_orig_mod.module.", "torch.compile then nn.DataParallel"),
    ],
)
def test_wrapper_prefixes_are_found_named_and_stripped(
    real: OrderedDict[str, torch.Tensor], prefix: str, who: str
) -> None:
    data = saved({f"{prefix}{k}": v for k, v in real.items()})
    state, wrapper, stripped = weights.read_state_dict(data)
    assert (wrapper, stripped) == (None, prefix)
    assert _same(state, real)
    report = _load(state, stripped)
    assert report.stripped_prefix == prefix and len(report.loaded) == len(real)
    assert any(f"`{prefix}`" in n and who in n for n in report.notes)


def test_lightning_checkpoint(real: OrderedDict[str, torch.Tensor]) -> None:
    data = saved({
        "epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.4.0",
        "state_dict": OrderedDict((f"model.{k}", v) for k, v in real.items()),
        "optimizer_states": [{}], "lr_schedulers": [], "hyper_parameters": {"lr": 0.01},
    })  # fmt: skip
    c = read_checkpoint(data)
    assert (c.wrapper_key, c.stripped_prefix) == ("state_dict", "model.")
    assert any("PyTorch Lightning checkpoint" in n for n in c.notes)
    assert _same(c.state_dict, real)


def test_a_prefix_the_model_itself_has_is_put_back(real: OrderedDict[str, torch.Tensor]) -> None:
    """A model whose own top child is called ``model`` saves keys that all start with
    "model.": read_state_dict strips it (Lightning's prefix), and loading puts it back."""
    wrapper = torch.nn.Module()
    wrapper.model = catalog.build_meta(KEY, None).model
    expected = wrapper.state_dict()
    state, _, stripped = weights.read_state_dict(saved({f"model.{k}": v for k, v in real.items()}))
    assert stripped == "model." and not any(k in expected for k in state)
    sd, still, note = weights._prefix_fix("the wrapper", dict(state), expected, stripped)
    assert set(sd) == set(expected) and still is None
    assert note is not None and "kept `model.` on every key" in note


def test_a_prefix_that_blocks_every_match_is_named_and_the_strip_offered(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = {f"model.{k}": v for k, v in real.items()}
    sd["loss_fn.pos_weight"] = torch.ones(1)  # not every key has it: read_state_dict keeps it
    state, _, stripped = weights.read_state_dict(saved(sd))
    assert stripped is None
    with pytest.raises(ModelError) as info:
        _load(state)
    msg = info.value.message
    assert "12 of its keys start with `model.`" in msg and "12 of them would match" in msg
    assert "removeprefix('model.')" in info.value.fix


def test_fp16_checkpoint_keeps_its_values(real: OrderedDict[str, torch.Tensor]) -> None:
    half = {k: v.half() for k, v in real.items()}
    state, _, _ = weights.read_state_dict(saved(half))
    model, report = weights.load_into_meta(
        KEY, None, state, source=WeightsSource.UPLOAD, origin="half.pth"
    )
    t = weights.tensor_from(model, "vgg.0.weight")
    assert t is not None and t.dtype == torch.float16 and torch.equal(t, half["vgg.0.weight"])
    assert any("kept as saved in float16" in n and "float32" in n for n in report.notes)


def test_legacy_format(real: OrderedDict[str, torch.Tensor], tmp_path: Path) -> None:
    data = saved({"state_dict": real, "epoch": 1}, _use_new_zipfile_serialization=False)
    c = read_checkpoint(data)
    assert c.format is CheckpointFormat.LEGACY and c.wrapper_key == "state_dict"
    assert _same(c.state_dict, real)
    path = tmp_path / "legacy.pth"
    path.write_bytes(data)
    assert _same(read_checkpoint(path).state_dict, real)  # from disk: no mmap for legacy


def test_safetensors_with_metadata(real: OrderedDict[str, torch.Tensor], tmp_path: Path) -> None:
    meta = {"format": "pt", "trained_on": "[CIFAR](https://example.com) **10**"}
    data = safetensors_bytes(dict(real), metadata=meta)
    c = read_checkpoint(data)
    assert c.format is CheckpointFormat.SAFETENSORS and c.metadata == meta
    assert _same(c.state_dict, real)
    # untrusted metadata reaches a note only as code spans
    note = next(n for n in c.notes if "metadata" in n)
    assert "`[CIFAR]\u2060(https://example.com) **10**`" in note
    path = tmp_path / "weights.bin"  # the name does not matter, the bytes do
    safetensors_file(dict(real), str(path), metadata=meta)
    on_disk = read_checkpoint(path)
    assert on_disk.format is CheckpointFormat.SAFETENSORS and _same(on_disk.state_dict, real)
    assert len(_load(on_disk.state_dict).loaded) == len(real)


def test_the_name_never_decides_the_format(
    real: OrderedDict[str, torch.Tensor], tmp_path: Path
) -> None:
    """torch.load would hand a path ending in .safetensors to safetensors by its name."""
    path = tmp_path / "really_a_zip.safetensors"
    path.write_bytes(saved(real))
    c = read_checkpoint(path)
    assert c.format is CheckpointFormat.ZIP and _same(c.state_dict, real)
    path = tmp_path / "really_safetensors.pth"
    path.write_bytes(safetensors_bytes(dict(real)))
    assert read_checkpoint(path).format is CheckpointFormat.SAFETENSORS


def test_zip_on_disk_is_memory_mapped(real: OrderedDict[str, torch.Tensor], tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    path.write_bytes(saved(real))
    t = read_checkpoint(path).state_dict["classifier.1.weight"]
    assert torch.equal(t, real["classifier.1.weight"])
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc/self/maps to see the mapping")
    ranges = [
        tuple(int(x, 16) for x in line.split()[0].split("-"))
        for line in maps.read_text().splitlines()
        if line.endswith(str(path))
    ]
    # mmap=True: the tensor's bytes are the file's pages, not a copy
    assert any(lo <= t.data_ptr() < hi for lo, hi in ranges), ranges


def test_non_tensor_values_are_skipped_and_named(real: OrderedDict[str, torch.Tensor]) -> None:
    sd: dict[str, object] = dict(real)
    sd["vgg.0.weight"] = "not a tensor"
    sd["notes"] = [1, 2]
    state, _, _ = weights.read_state_dict(saved(sd))
    assert "vgg.0.weight" not in state and "notes" not in state
    report = _load(state)
    assert "vgg.0.weight" in report.missing  # it keeps its random init
    assert any("`vgg.0.weight` holds a str, not a tensor" in n for n in report.notes)


# -------------------------------------------------------------- what is not a checkpoint

NOT_CHECKPOINTS = {
    "text": b"epoch 3, loss 0.25\n",
    "png": b"\x89PNG\r\n\x1a\n" + bytes(200),
    "random": os.urandom(4096),
    "plain pickle": __import__("pickle").dumps({"w": [1.0, 2.0]}),
    "json": b'{"weights": [1, 2, 3]}',
}


@pytest.mark.parametrize("name", NOT_CHECKPOINTS)
def test_not_a_checkpoint(name: str) -> None:
    with pytest.raises(InputError, match="not a PyTorch checkpoint, or it is damaged") as info:
        read_checkpoint(NOT_CHECKPOINTS[name])
    assert info.value.fix


def test_empty_file() -> None:
    with pytest.raises(InputError, match="empty"):
        read_checkpoint(b"")


def test_a_zip_of_something_else() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("photos/cat.jpg", b"\xff\xd8\xff" + bytes(100))
    with pytest.raises(InputError, match=r"no `photos/data\.pkl`"):
        read_checkpoint(buf.getvalue())


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit is deprecated
def test_a_torchscript_archive() -> None:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), buf)
    with pytest.raises(InputError, match="TorchScript archive") as info:
        read_checkpoint(buf.getvalue())
    assert "torch.jit.load" in info.value.fix


@pytest.mark.parametrize("cut", [10, 100, 1000, -200, -22, -1])
@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_files(real: OrderedDict[str, torch.Tensor], cut: int, legacy: bool) -> None:
    data = saved(real, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(InputError, match="not a PyTorch checkpoint, or it is damaged"):
        read_checkpoint(data[:cut])


def test_a_flipped_storage_byte_still_loads_but_a_flipped_index_byte_is_a_lesson(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    data = bytearray(saved(real))
    data[len(data) // 2] ^= 0xFF  # inside a storage: different numbers, still a checkpoint
    read_checkpoint(bytes(data))
    broken = bytearray(saved(real))
    at = broken.index(b"_rebuild_tensor_v2")
    broken[at : at + 5] = b"XXXXX"  # the pickle now names a global torch does not allow
    with pytest.raises(LessonError):
        read_checkpoint(bytes(broken))


def test_no_state_dict_inside() -> None:
    with pytest.raises(InputError, match="holds no state_dict"):
        read_checkpoint(saved({"epoch": 3, "optimizer": {"lr": 0.1}}))
    with pytest.raises(InputError, match="holds no state_dict"):
        read_checkpoint(saved(torch.zeros(3)))


def test_a_whole_pickled_model_is_refused_with_the_state_dict_advice() -> None:
    with pytest.raises(InputError) as info:
        read_checkpoint(saved(torch.nn.Linear(2, 2)))
    assert "`torch.nn.modules.linear.Linear`" in info.value.message
    assert "model.state_dict()" in info.value.fix and "safetensors" in info.value.fix

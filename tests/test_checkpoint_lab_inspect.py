"""Inspecting checkpoints without materialising them: every kind of file the tests make is
told by its bytes, its state_dict found, every tensor named with its real shape, dtype
and bytes (read back at the offset the inspection gives); a 1.6 GB file costs a few MB;
hostile files are refused before anything runs."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as safetensors_bytes

from ptexplore.checkpoints.inspector import (
    UNSAFE_MESSAGE,
    Inspection,
    UnsafeCheckpoint,
    hub_file,
    hub_files,
    inspect_checkpoint,
)
from ptexplore.checkpoints.lessons import Made, Origin, SavedAs, Upload
from ptexplore.checkpoints.survey import InspectConfig, run_inspect
from ptexplore.ckpt.formats import CheckpointFormat
from ptexplore.ckpt.layout import SafetensorsLayout, ZipLayout
from ptexplore.errors import InputError
from ptexplore.models import catalog
from tests.conftest import ROOT
from tests.test_checkpoint_formats import saved
from tests.test_checkpoint_hostile import RunsCode, _bomb

KEY = "example:SmallVGG"
MB = 2**20


@pytest.fixture(scope="module")
def real() -> OrderedDict[str, torch.Tensor]:
    return catalog.build_real(KEY, seed=3).state_dict()


def _upload(name: str, data: bytes) -> InspectConfig:
    return InspectConfig(origin=Origin.UPLOAD, upload=Upload(name, str(hash(data)), data))


def _same_tensors(i: Inspection, sd: dict[str, torch.Tensor]) -> None:
    got = {t.name: (t.shape, t.dtype, t.nbytes) for t in i.weights}
    want = {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch."), v.numel() * v.element_size())
        for k, v in sd.items()
    }
    assert got == want


# ----------------------------------------------------------------- files the test makes


def test_a_plain_state_dict(real: OrderedDict[str, torch.Tensor]) -> None:
    data = saved(real)
    i = inspect_checkpoint(data)
    assert i.format is CheckpointFormat.ZIP and i.state_dict_at == "" and i.prefix is None
    _same_tensors(i, real)
    assert i.numel == sum(v.numel() for v in real.values())
    assert i.nbytes == sum(v.numel() * 4 for v in real.values())
    # the offset is where the tensor's bytes really are in the file
    for t in i.weights:
        assert t.offset is not None
        raw = data[t.offset : t.offset + t.nbytes]
        assert raw == real[t.name].numpy().tobytes(), t.name
    layout = i.layout
    assert isinstance(layout, ZipLayout) and layout.stored_uncompressed
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        assert [f"{layout.top}/{e.name}" for e in layout.entries] == [x.filename for x in infos]
        assert [e.length for e in layout.entries] == [x.file_size for x in infos]
        for e in layout.entries:
            assert data[e.offset : e.offset + e.length] == z.read(f"{layout.top}/{e.name}")


def test_a_checkpoint_dict_with_extras_and_optimizer_state(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    model = catalog.build_real(KEY, seed=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 32, 32)).square().mean().backward()
    opt.step()
    data = saved(
        {"state_dict": model.state_dict(), "epoch": 7, "loss": 0.5, "stage": "best",
         "optimizer": opt.state_dict()}
    )  # fmt: skip
    i = inspect_checkpoint(data)
    assert i.state_dict_at == "state_dict"
    values = {e.path: e.summary for e in i.entries}
    assert values["epoch"] == "7" and values["loss"] == "0.5" and values["stage"] == "'best'"
    assert values["state_dict"] == "12 tensors"
    momentum = [t for t in i.tensors if t.where.startswith("optimizer.state")]
    assert len(momentum) == 12  # one momentum buffer per parameter
    assert sum(t.nbytes for t in momentum) == i.nbytes  # as big as the weights
    assert i.all_bytes == 2 * i.nbytes


@pytest.mark.parametrize(
    ("prefix", "wrap"),
    [
        ("module.", None),
        ("_orig_mod.", None),
        ("model.", "state_dict"),
        ("module._orig_mod.", None),
    ],
)
def test_wrapper_prefixes_are_found(
    real: OrderedDict[str, torch.Tensor], prefix: str, wrap: str | None
) -> None:
    sd = {prefix + k: v for k, v in real.items()}
    obj: object = sd if wrap is None else {wrap: sd, "epoch": 1, "pytorch-lightning_version": "2"}
    i = inspect_checkpoint(saved(obj))
    assert i.prefix == prefix
    assert i.state_dict_at == ("" if wrap is None else wrap)
    assert i.lightning == (wrap is not None)


def test_fp16_and_bf16_are_counted_per_dtype(real: OrderedDict[str, torch.Tensor]) -> None:
    sd = {k: v.half() for k, v in real.items()}
    sd["extra"] = torch.zeros(3, dtype=torch.bfloat16)
    i = inspect_checkpoint(saved(sd))
    counts = {c.dtype: (c.tensors, c.numel, c.nbytes) for c in i.by_dtype}
    n = sum(v.numel() for v in real.values())
    assert counts == {"float16": (12, n, 2 * n), "bfloat16": (1, 3, 6)}


def test_safetensors_reads_only_the_header(real: OrderedDict[str, torch.Tensor]) -> None:
    data = safetensors_bytes(dict(real), metadata={"epoch": "3", "note": "[x](http://e.x)"})
    i = inspect_checkpoint(data)
    assert i.format is CheckpointFormat.SAFETENSORS
    _same_tensors(i, real)
    assert dict(i.metadata) == {"epoch": "3", "note": "[x](http://e.x)"}
    layout = i.layout
    assert isinstance(layout, SafetensorsLayout)
    n = struct.unpack("<Q", data[:8])[0]
    assert layout.header_length == n and layout.data_start == 8 + n
    assert json.loads(layout.header_text) == json.loads(data[8 : 8 + n])
    for t in i.weights:
        assert t.offset is not None
        assert data[t.offset : t.offset + t.nbytes] == real[t.name].numpy().tobytes()


def test_legacy_format(real: OrderedDict[str, torch.Tensor]) -> None:
    i = inspect_checkpoint(saved(real, _use_new_zipfile_serialization=False))
    assert i.format is CheckpointFormat.LEGACY
    _same_tensors(i, real)
    assert all(t.offset is None for t in i.tensors) and i.notes


def test_tied_weights_are_saved_once_and_flagged() -> None:
    sd = catalog.build_real("example:SharedLayerNet").state_dict()
    i = inspect_checkpoint(saved(sd))
    same = {t.name: t.same_as for t in i.tensors if t.same_as}
    assert same == {"tied.weight": "embed.weight", "tied.bias": "embed.bias"}
    assert i.all_bytes == i.nbytes - sum(t.nbytes for t in i.tensors if t.name.startswith("tied."))


def fresh_many(codes: list[str], cwd: Path) -> list[str]:
    """What each script prints, each run in its own namespace of ONE new interpreter (one
    torch import for all of them; every script seeds what it draws)."""
    runner = (
        "import sys\n"
        f"codes = {codes!r}\n"
        "for code in codes:\n"
        '    exec(compile(code, "<panel>", "exec"), {"__name__": "__main__"})\n'
        '    print("\\x00", end="")\n'
    )
    out = subprocess.run(
        [sys.executable, "-c", runner], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split("\x00")[:-1]


def test_every_made_here_file_is_inspected_and_its_code_panel_runs(tmp_path: Path) -> None:
    results = {}
    for saved_as in SavedAs:
        r = run_inspect(InspectConfig(made=Made("example:SharedLayerNet", None, saved_as, 0)))
        assert r.refused is None and r.inspection is not None and r.snippet is not None
        i = r.inspection
        fmt = {
            SavedAs.SAFETENSORS: CheckpointFormat.SAFETENSORS,
            SavedAs.LEGACY: CheckpointFormat.LEGACY,
        }
        assert i.format is fmt.get(saved_as, CheckpointFormat.ZIP), saved_as
        assert i.prefix == saved_as.prefix, saved_as
        assert i.state_dict_at == (saved_as.wrapper or ""), saved_as
        assert {c.dtype for c in i.by_dtype} == {
            SavedAs.FP16: {"float16"},
            SavedAs.BF16: {"bfloat16"},
        }.get(saved_as, {"float32"}), saved_as
        assert len(i.weights) == 8
        if fmt.get(saved_as) is None:  # torch files: printed by the meta load, not guessed
            assert "tensors, on ['meta']" in r.snippet.output
        results[saved_as] = r.snippet
    outputs = fresh_many([s.code for s in results.values()], tmp_path)
    for (saved_as, snippet), out in zip(results.items(), outputs, strict=True):
        assert out == snippet.output, saved_as


# ------------------------------------------------------------------ big and hostile


def _measure(code: str, tmp_path: Path) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter that prints one JSON line of measurements."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TORCH_HOME": str(tmp_path / "torch")},
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


_RSS = """
    import gc, io, json, re, time
    from pathlib import Path
    from ptexplore import isolate
    isolate.warm()  # the helper imports torch while this interpreter does
    import torch

    def status(field):
        text = Path("/proc/self/status").read_text()
        return int(re.search(field + r":\\s+(\\d+)", text).group(1)) / 1024

    def measure(fn):
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")
        before = status("VmRSS")
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, status("VmHWM") - before
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_gigabyte_checkpoint_on_disk_costs_a_few_mb_and_milliseconds(tmp_path: Path) -> None:
    """A 1.6 GB torch.save file (sparse zeros: written under skip_data, 8 KB on disk) and
    a 2 GB one in the torch hub cache folder: inspected, never read."""
    code = (
        _RSS
        + f"""
    from ptexplore.checkpoints.inspector import inspect_checkpoint, hub_files
    from ptexplore.checkpoints.lessons import Origin
    from ptexplore.checkpoints.survey import InspectConfig, run_inspect

    big = Path({str(tmp_path / "big.pth")!r})
    with torch.serialization.skip_data():  # the bytes are left as a hole in the file
        torch.save({{"w": torch.empty(3 * 2**29, dtype=torch.uint8),
                     "b": torch.empty(10)}}, big)
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    hub.mkdir(parents=True)
    with torch.serialization.skip_data():
        torch.save({{"state_dict": {{"fc.weight": torch.empty(2**29)}}, "epoch": 90}},
                   hub / "resnet18-f37072fd.pth")
    warm = io.BytesIO()
    torch.save({{"w": torch.zeros(2)}}, warm)
    inspect_checkpoint(warm.getvalue())  # imports and first calls before measuring
    seconds, grew = measure(lambda: inspect_checkpoint(big))
    i = inspect_checkpoint(big)
    assert i.tensors[0].numel == 3 * 2**29 and i.size > 1.5 * 2**30, i
    config = InspectConfig(origin=Origin.HUB, hub="resnet18-f37072fd.pth")
    r = run_inspect(config)  # (in the sandbox: this first one starts its helper)
    hub_s, hub_grew = measure(lambda: run_inspect(config))
    assert r.inspection.nbytes == 2**31 and "os.path.join(torch.hub.get_dir()" in r.snippet.code
    assert hub_files() == ("resnet18-f37072fd.pth",)
    print(json.dumps({{"s": seconds, "mb": grew, "hub_s": hub_s, "hub_mb": hub_grew,
                       "blocks": big.stat().st_blocks * 512}}))
    """
    )
    m = _measure(code, tmp_path)
    assert m["blocks"] < 1 * MB  # the test's file really is sparse
    assert m["mb"] < 50, m  # the bound; measured ≈ 0 MB
    assert m["s"] < 1.0, m
    assert m["hub_mb"] < 50 and m["hub_s"] < 1.0, m  # the 2 GB hub file, through the lab


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_deflated_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    (tmp_path / "bomb.pth").write_bytes(_bomb(2**30))
    code = (
        _RSS
        + f"""
    from ptexplore.checkpoints.lessons import Origin, Upload
    from ptexplore.checkpoints.survey import InspectConfig, run_inspect

    data = Path({str(tmp_path / "bomb.pth")!r}).read_bytes()
    warm = io.BytesIO()
    torch.save({{"w": torch.zeros(2)}}, warm)  # starts the sandbox before measuring
    run_inspect(InspectConfig(origin=Origin.UPLOAD, upload=Upload("w.pth", "w", warm.getvalue())))
    config = InspectConfig(origin=Origin.UPLOAD, upload=Upload("bomb.pth", "x", data))
    out = []
    seconds, grew = measure(lambda: out.append(run_inspect(config)))
    assert out[0].inspection is None and "compressed" in out[0].refused.message
    print(json.dumps({{"s": seconds, "mb": grew}}))
    """
    )
    m = _measure(code, tmp_path)
    assert m["mb"] < 50 and m["s"] < 1.0, m


@pytest.mark.parametrize("legacy", [False, True])
def test_a_pickle_that_runs_os_system_is_refused_without_running(
    tmp_path: Path, legacy: bool
) -> None:
    marker = tmp_path / "pwned"
    data = saved({"w": torch.zeros(2), "x": RunsCode(marker)},
                 _use_new_zipfile_serialization=not legacy)  # fmt: skip
    with pytest.raises(UnsafeCheckpoint) as info:
        inspect_checkpoint(data)
    assert f"{os.system.__module__}.system" in info.value.wanted
    r = run_inspect(_upload("evil.pth", data))
    assert not marker.exists()
    assert r.inspection is None and r.refused is not None and r.refused.unsafe
    assert r.refused.message == UNSAFE_MESSAGE
    assert f"{os.system.__module__}.system" in r.refused.wanted
    assert "state_dict()" in r.refused.fix and "safetensors" in r.refused.fix
    assert r.snippet is not None  # the refusal, as a script
    assert "weights_only=False" not in r.snippet.code + r.snippet.output
    assert "refused it: not plain weights" in r.snippet.output
    if not legacy:
        assert f"'{os.system.__module__}.system'" in r.snippet.output
    (tmp_path / "evil.pth").write_bytes(data)
    from tests.fresh import fresh

    assert fresh(r.snippet.code, tmp_path) == r.snippet.output
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("empty.pth", b"", "The file is empty"),
        ("random.pth", bytes(range(256)) * 40, "not a PyTorch checkpoint, or it is damaged"),
        ("notes.pth", b"epoch 3, loss 0.25\n" * 20, "look like text"),
        ("photo.pth", b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
        ("other.pth", None, "not one torch.save wrote"),
        ("cut.pth", "cut", "not a PyTorch checkpoint, or it is damaged"),
    ],
)
def test_files_that_are_not_checkpoints_get_one_plain_verdict(
    name: str, data: bytes | str | None, said: str, real: OrderedDict[str, torch.Tensor]
) -> None:
    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", "hello")
        data = buf.getvalue()
    elif data == "cut":
        data = saved(real)[:5000]
    assert isinstance(data, bytes)
    r = run_inspect(_upload(name, data))
    assert r.inspection is None and r.refused is not None and not r.refused.unsafe
    assert said in r.refused.message, r.refused.message
    assert r.snippet is None


def test_the_hub_cache_lists_plain_checkpoint_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert hub_files() == ()
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "a.pth").write_bytes(saved({"w": torch.zeros(2)}))
    (folder / "notes.txt").write_text("x")
    (folder / "sub.pth").mkdir()
    (folder / "link.pth").symlink_to(folder / "a.pth")
    assert hub_files() == ("a.pth",)
    assert hub_file("a.pth") == folder / "a.pth"
    for bad in ("../a.pth", "link.pth", "notes.txt"):
        with pytest.raises(InputError):
            hub_file(bad)

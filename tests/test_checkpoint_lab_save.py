"""The Save lesson: the files it makes load back to the model's exact tensors, and the
layout it shows is the bytes' real layout (zipfile's and safetensors' own view agree)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import load_model

from ptexplore.checkpoints.save import SaveConfig, SaveWhat, run_save, save_files
from ptexplore.errors import InputError, ModelError
from ptexplore.models import catalog
from tests.fresh import fresh

KEY = "example:SmallVGG"


def test_a_checkpoint_dict_with_the_learners_fields(tmp_path: Path) -> None:
    config = SaveConfig(key=KEY, num_classes=10, epoch=12, loss=0.125, f1=0.5, lr=0.003,
                        stage="best", seed=4)  # fmt: skip
    r = run_save(config)
    pth, sft = save_files(config)
    ckpt = torch.load(io.BytesIO(pth), weights_only=True, map_location="cpu")
    assert {k: ckpt[k] for k in ("epoch", "loss", "f1", "lr", "stage")} == {
        "epoch": 12, "loss": 0.125, "f1": 0.5, "lr": 0.003, "stage": "best"
    }  # fmt: skip
    model = catalog.build_real(KEY, 10, seed=4).state_dict()  # the same seed, the same tensors
    assert ckpt["state_dict"].keys() == model.keys()
    assert all(torch.equal(ckpt["state_dict"][k], v) for k, v in model.items())
    st = safetensors_load(sft)
    assert all(torch.equal(st[k], v) for k, v in model.items())
    n = struct.unpack("<Q", sft[:8])[0]
    header = json.loads(sft[8 : 8 + n])
    assert header["__metadata__"] == {
        "epoch": "12", "loss": "0.125", "f1": "0.5", "lr": "0.003", "stage": "best"
    }  # fmt: skip
    # the layout shown is the file's: zipfile agrees on every entry, name, size and place
    assert r.pth.size == len(pth) and r.safetensors.size == len(sft)
    with zipfile.ZipFile(io.BytesIO(pth)) as z:
        infos = z.infolist()
        assert [f"{r.pth.top}/{e.name}" for e in r.pth.entries] == [i.filename for i in infos]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        for e, i in zip(r.pth.entries, infos, strict=True):
            assert pth[e.offset : e.offset + e.length] == z.read(i)
    assert r.safetensors.header_length == n
    for t in r.safetensors.tensors:
        assert (
            sft[t.file_offset : t.file_offset + (t.end - t.begin)] == st[t.name].numpy().tobytes()
        )
    assert r.tensors == 12 and r.numel == sum(v.numel() for v in model.values())
    assert r.refusal is None and r.left_out
    assert fresh(r.snippet.code, tmp_path) == r.snippet.output


def test_the_optimizer_state_after_one_real_step_doubles_the_file() -> None:
    plain = run_save(SaveConfig(key=KEY, num_classes=10))
    with_opt = run_save(SaveConfig(key=KEY, num_classes=10, optimizer=True))
    pth, _ = save_files(SaveConfig(key=KEY, num_classes=10, optimizer=True))
    ckpt = torch.load(io.BytesIO(pth), weights_only=True)
    state = ckpt["optimizer"]["state"]
    assert len(state) == 12 and all("momentum_buffer" in s for s in state.values())
    assert with_opt.pth.size > 1.9 * plain.pth.size
    assert with_opt.safetensors.size == plain.safetensors.size  # safetensors cannot hold it
    assert any("optimizer" in line for line in with_opt.left_out)
    assert "optimizer.step()" in with_opt.snippet.code


def test_a_plain_state_dict() -> None:
    config = SaveConfig(key="example:Net", num_classes=None, what=SaveWhat.STATE_DICT)
    r = run_save(config)
    pth, _ = save_files(config)
    sd = torch.load(io.BytesIO(pth), weights_only=True)
    assert list(sd) == list(catalog.build_real("example:Net").state_dict())
    assert "metadata = None" in r.snippet.code and r.left_out == ()


def test_tied_weights_safetensors_refuses_and_save_model_keeps_one_name(tmp_path: Path) -> None:
    config = SaveConfig(key="example:SharedLayerNet", num_classes=None)
    r = run_save(config)
    assert r.refusal is not None and r.refusal.message.startswith("Some tensors share memory")
    assert ("embed.weight", "tied.weight") in r.tied
    names = {t.name for t in r.safetensors.tensors}
    assert len(names & {"embed.weight", "tied.weight"}) == 1  # stored once
    _, sft = save_files(config)
    (tmp_path / "m.safetensors").write_bytes(sft)
    model = catalog.build_real("example:SharedLayerNet", seed=9)
    load_model(model, str(tmp_path / "m.safetensors"))  # ties them again
    want = catalog.build_real("example:SharedLayerNet", seed=0).state_dict()
    assert all(torch.equal(v, want[k]) for k, v in model.state_dict().items())
    assert model.embed.weight is model.tied.weight
    assert "safetensors refused: Some tensors share memory" in r.snippet.output


@pytest.mark.parametrize(
    ("field", "value"), [("epoch", -1), ("epoch", 10**9), ("stage", ""), ("stage", "x" * 41)]
)
def test_bad_fields_are_refused(field: str, value: object) -> None:
    with pytest.raises(InputError):
        run_save(SaveConfig(key=KEY, **{field: value}))  # type: ignore[arg-type]


def test_only_the_labs_small_models() -> None:
    with pytest.raises(ModelError, match="does not build"):
        run_save(SaveConfig(key="vit_h_14"))


@pytest.mark.parametrize(
    "stage",
    [
        '"+open("pwned","w").name+"',  # closes a double-quoted literal
        "'+open('pwned','w').name+'",  # closes a single-quoted one
        'a\\" \n\u2028 #',
    ],
)
def test_typed_text_stays_text_in_the_generated_code(
    stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = SaveConfig(key="example:Net", num_classes=None, stage=stage)
    r = run_save(config)
    assert not (tmp_path / "pwned").exists()
    pth, sft = save_files(config)
    assert torch.load(io.BytesIO(pth), weights_only=True)["stage"] == stage
    n = struct.unpack("<Q", sft[:8])[0]
    assert json.loads(sft[8 : 8 + n])["__metadata__"]["stage"] == stage
    assert fresh(r.snippet.code, tmp_path) == r.snippet.output
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("field", ["loss", "f1", "lr"])
def test_numbers_must_be_finite(field: str) -> None:
    with pytest.raises(InputError, match="finite"):
        run_save(SaveConfig(key="example:Net", num_classes=None, **{field: float("nan")}))  # type: ignore[arg-type]


def test_a_download_names_its_job_in_the_language_of_the_rerun_that_offered_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The download button saves again when clicked, after the rerun: the job's name (what
    a "server is busy" lesson says) is made in the rerun, in its language."""
    import contextlib
    from collections.abc import Iterator

    from ptexplore import i18n, limits
    from ptexplore.checkpoints.save import SaveConfig
    from ptexplore.i18n import Lang
    from ptexplore.ui.checkpoints import save as page

    named: list[str] = []

    @contextlib.contextmanager
    def heavy(label: str) -> Iterator[None]:
        named.append(label)
        yield

    monkeypatch.setattr(limits, "heavy", heavy)
    with i18n.language(Lang.ZH):
        make = page._download(SaveConfig(), 0)
    assert make()[:2] == b"PK"  # the .pth: a zip
    assert named == ["为下载再次保存 example:SmallVGG"]  # was English, whatever the rerun

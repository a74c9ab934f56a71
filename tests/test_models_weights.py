"""Real weights from files the tests create: the hub cache and uploads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ptexplore.ckpt import read as ckpt_read
from ptexplore.errors import InputError, ModelError
from ptexplore.models import catalog, params, weights
from ptexplore.models.weights import WeightsSource


@pytest.fixture
def hub_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # TORCH_HOME, not torch.hub.set_dir: set_dir pins the folder for the rest of the
    # session (restoring it pins the old path, and later tests' TORCH_HOME is ignored).
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert Path(torch.hub.get_dir()) == tmp_path / "hub"
    yield tmp_path / "hub"


def _bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_hub_cache_file_is_found_and_loaded(hub_dir: Path) -> None:
    assert weights.hub_checkpoint_path("mobilenet_v3_small") is None
    name = weights.hub_filename("mobilenet_v3_small")
    assert name is not None and name.startswith("mobilenet_v3_small-") and name.endswith(".pth")
    real = catalog.build_real("mobilenet_v3_small", seed=5)
    (hub_dir / "checkpoints").mkdir(parents=True)
    torch.save(real.state_dict(), hub_dir / "checkpoints" / name)
    path = weights.hub_checkpoint_path("mobilenet_v3_small")
    assert path == hub_dir / "checkpoints" / name
    sd, wrapper, prefix = weights.read_state_dict(path)
    model, report = weights.load_into_meta(
        "mobilenet_v3_small", None, sd, source=WeightsSource.HUB, origin=str(path)
    )
    assert (wrapper, prefix) == (None, None)
    assert report.missing == () and report.unexpected == () and report.mismatched == ()
    assert len(report.loaded) == len(real.state_dict())
    t = weights.tensor_from(model, "features.0.0.weight")
    assert t is not None and torch.equal(t, real.features[0][0].weight)
    v = params.summarize(
        "features.0.0.weight", t, seed=0, source=params.ValuesSource.LOADED, t0=0.0
    )
    assert v.mean == pytest.approx(float(real.features[0][0].weight.detach().mean()))


def test_checkpoint_dict_dataparallel_prefix_and_head_mismatch() -> None:
    real = catalog.build_real("example:SmallVGG", seed=1)  # 10 classes
    sd = {f"module.{k}": v for k, v in real.state_dict().items()}
    sd["module.extra.weight"] = torch.zeros(3)
    data = _bytes({"epoch": 7, "state_dict": sd, "optimizer": {}})
    state, wrapper, prefix = weights.read_state_dict(data)
    assert (wrapper, prefix) == ("state_dict", "module.")
    model, report = weights.load_into_meta(
        "example:SmallVGG", 4, state, source=WeightsSource.UPLOAD, origin="ckpt.pth"
    )
    assert report.mismatched == (
        ("classifier.4.weight", (4, 128), (10, 128)),
        ("classifier.4.bias", (4,), (10,)),
    )
    assert report.unexpected == ("extra.weight",)
    assert report.missing == ()
    assert weights.tensor_from(model, "classifier.4.weight") is None  # kept its random init
    t = weights.tensor_from(model, "vgg.0.weight")
    assert t is not None and torch.equal(t, real.vgg[0].weight)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"definitely not a checkpoint", "not a checkpoint torch.load"),
        (b"definitely not a checkpoint", r"\(WeightsUnpickler error: Unsupported operand 100\)"),
        (_bytes([1, 2, 3]), "no state_dict"),
    ],
)
def test_bad_files_are_lessons(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        weights.read_state_dict(data)


class Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


def test_arbitrary_pickles_are_refused() -> None:
    with pytest.raises(InputError, match="weights_only=True") as info:
        weights.read_state_dict(_bytes({"x": Evil()}))
    assert "WeightsUnpickler error: Unsupported global: GLOBAL print" in info.value.message
    # torch's own advice to retry with weights_only=False is not passed on to a learner
    assert "set to `False`" not in info.value.message
    assert info.value.fix is not None and "never loads with weights_only=False" in info.value.fix


def test_a_file_for_another_model_says_so() -> None:
    sd = catalog.build_real("example:Net").state_dict()
    with pytest.raises(ModelError, match="None of the file's 6 tensors belong to resnet18"):
        weights.load_into_meta("resnet18", None, sd, source=WeightsSource.UPLOAD, origin="x")


def test_oversize_upload_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ckpt_read, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(InputError, match="capped at"):
        weights.read_state_dict(b"x" * 11)

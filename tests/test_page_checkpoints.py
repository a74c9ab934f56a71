"""The Checkpoint lab page (AppTest, no browser): every tab runs, every kind of upload gets
its verdict, the comparison and the proof show, links open the same demo, a rerun with
nothing changed computes nothing, and every code panel prints in a fresh interpreter what
the page shows."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as safetensors_bytes
from streamlit.testing.v1 import AppTest

from ptexplore.checkpoints.inspector import UNSAFE_MESSAGE
from ptexplore.models import catalog
from ptexplore.pages import CHECKPOINTS
from tests.conftest import open_page, open_tab
from tests.fresh import fresh
from tests.test_checkpoint_formats import saved
from tests.test_checkpoint_hostile import RunsCode, _bomb
from tests.test_code_panels import panel
from tests.test_deep_links import link_notes, open_link

PAGE = CHECKPOINTS.file
SAVE, INSPECT, LOAD = "💾 Save", "🔍 Inspect", "🔌 Load"
KEY = "example:SmallVGG"


def _texts(at: AppTest) -> str:
    parts = [str(x.value) for x in (*at.success, *at.error, *at.warning, *at.info, *at.caption)]
    return "\n".join(parts)


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def upload_to(at: AppTest, tab: str, name: str, data: bytes) -> AppTest:
    """Open ``tab``, pick 'uploaded file' and upload ``name``."""
    radio, widget = {INSPECT: ("source", "file"), LOAD: ("from", "load_file")}[tab]
    open_tab(at, "checkpoints", tab)
    at.radio(key=f"checkpoints.{radio}").set_value("uploaded file").run()
    at.file_uploader(key=f"checkpoints.{widget}").set_value(
        (name, data, "application/octet-stream")
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def vgg() -> dict[str, torch.Tensor]:
    return dict(catalog.build_real(KEY, 1000, seed=7).state_dict())


# ------------------------------------------------------------------------ the tabs


def test_every_tab_runs_with_its_defaults() -> None:
    at = open_page(PAGE)
    _no_errors(at)
    labels = [m.label for m in at.metric]
    assert "SmallVGG.pth" in labels and "SmallVGG.safetensors" in labels
    buttons = [b.proto.label for b in at.get("download_button")]
    assert buttons == ["⬇ Download SmallVGG.pth", "⬇ Download SmallVGG.safetensors"]
    # data.pkl, 12 storages and the small records: the whole archive at a glance
    assert any("A **zip archive** of 18 entries" in m.value for m in at.markdown)
    open_tab(at, "checkpoints", INSPECT)
    _no_errors(at)
    assert "✅ **torch.save zip archive**" in at.success[0].value
    assert "the state_dict is under `state_dict`" in at.success[0].value
    open_tab(at, "checkpoints", LOAD)
    _no_errors(at)
    assert any(m.label == "shape mismatches" and m.value == "2" for m in at.metric)
    assert "exactly the filtered keys changed (120)" in at.success[0].value
    frame = at.dataframe[0].value
    assert list(frame["key"][:2]) == ["fc.weight", "fc.bias"]  # problems first
    assert set(frame["kind"]) == {"parameter", "buffer"}


def test_a_rerun_with_nothing_changed_computes_nothing() -> None:
    at = open_tab(open_page(PAGE), "checkpoints", LOAD)
    result = at.session_state["checkpoints._load"]
    started = time.perf_counter()
    at.run()
    took = time.perf_counter() - started
    assert at.session_state["checkpoints._load"] is result  # remembered, not recomputed
    assert took < 2.0, took  # AppTest's own overhead included (the page itself: a few ms)


# ------------------------------------------------------------- every kind of upload


def _dict_with_optimizer() -> bytes:
    model = catalog.build_real(KEY, 10, seed=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 32, 32)).square().mean().backward()
    opt.step()
    return saved({"state_dict": model.state_dict(), "epoch": 4, "optimizer": opt.state_dict()})


def _zip_of_something_else() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes/readme.txt", "hi")
    return buf.getvalue()


GOOD: dict[str, tuple[Callable[[dict[str, torch.Tensor]], bytes], list[str]]] = {
    "plain.pth": (lambda sd: saved(sd), ["torch.save zip archive", "file's top level"]),
    "checkpoint.pth": (lambda sd: _dict_with_optimizer(), ["under `state_dict`"]),
    "dp.pth": (lambda sd: saved({f"module.{k}": v for k, v in sd.items()}), ["`module.`"]),
    "lightning.ckpt": (
        lambda sd: saved(
            {
                "state_dict": {f"model.{k}": v for k, v in sd.items()},
                "optimizer_states": [],
                "epoch": 1,
            }
        ),
        ["PyTorch Lightning", "`model.`"],
    ),
    "compiled.pt": (lambda sd: saved({f"_orig_mod.{k}": v for k, v in sd.items()}), ["_orig_mod."]),
    "half.pth": (lambda sd: saved({k: v.half() for k, v in sd.items()}), ["torch.save zip"]),
    "weights.safetensors": (
        lambda sd: safetensors_bytes(sd, metadata={"epoch": "9"}),
        ["**safetensors**", "only the 8-byte length and the JSON header were read"],
    ),
    "legacy.bin": (
        lambda sd: saved(sd, _use_new_zipfile_serialization=False),
        ["legacy torch.save stream"],
    ),
    "tied.pth": (
        lambda sd: saved(catalog.build_real("example:SharedLayerNet").state_dict()),
        ["saved once under two names (tied weights)"],
    ),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_each_kind_of_upload_gets_the_right_verdict(
    name: str, vgg: dict[str, torch.Tensor]
) -> None:
    make, said = GOOD[name]
    at = upload_to(open_page(PAGE), INSPECT, name, make(vgg))
    _no_errors(at)
    text = _texts(at)
    for words in said:
        assert words in text, (words, text)
    if name == "half.pth":
        assert list(at.dataframe[0].value["dtype"]) == ["float16"]
    if name == "weights.safetensors":
        meta = next(d.value for d in at.dataframe if "key" in d.value.columns)
        assert dict(zip(meta["key"], meta["value"], strict=True)) == {"epoch": "9"}


BAD: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty.pth": (lambda _p: b"", "The file is empty"),
    "random.pth": (lambda _p: os.urandom(4096), "not a PyTorch checkpoint, or it is damaged"),
    "notes.pth": (lambda _p: b"epoch 3 loss 0.25\n" * 10, "look like text"),
    "zipped.pth": (lambda _p: _zip_of_something_else(), "not one torch.save wrote"),
    "bomb.pth": (lambda _p: _bomb(2**28), "an entry is compressed"),
    "evil.pth": (
        lambda p: saved({"w": torch.zeros(2), "x": RunsCode(p / "pwned")}),
        UNSAFE_MESSAGE,
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_each_bad_upload_is_refused_with_a_lesson(name: str, tmp_path: Path) -> None:
    make, said = BAD[name]
    at = upload_to(open_page(PAGE), INSPECT, name, make(tmp_path))
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert errors and said in errors[0], errors
    assert "Traceback" not in errors[0]
    if name == "evil.pth":
        assert not (tmp_path / "pwned").exists()
        assert any(f"{os.system.__module__}.system" in c.value for c in at.code)
        assert "weights_only=False" not in "\n".join(c.value for c in at.code)


def test_the_load_tab_compares_an_upload_and_offers_the_strip(
    vgg: dict[str, torch.Tensor],
) -> None:
    data = saved({f"module.{k}": v for k, v in vgg.items()})
    at = open_tab(open_page(PAGE), "checkpoints", LOAD)
    at.selectbox(key="checkpoints.model").set_value(KEY).run()
    at = upload_to(at, LOAD, "dp.pth", data)
    _no_errors(at)
    assert any(w.value.startswith("0 keys match") for w in at.warning)
    assert any("strip it and 12 match" in w.value for w in at.warning)
    at.toggle(key="checkpoints.strip").set_value(True).run()
    _no_errors(at)
    assert any("Stripped `module.`" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["matched parameters"] == "10" and metrics["shape mismatches"] == "2"
    at.radio(key="checkpoints.lesson").set_value("strict=True").run()
    errors = [e.value for e in at.error]
    assert errors and "size mismatch for classifier.4.weight" in errors[0]
    assert "copied every entry that fits BEFORE it raised" in errors[0]
    rows = next(d.value for d in at.dataframe if "problem" in d.value.columns)
    assert list(rows["problem"]) == ["size mismatch", "size mismatch"]
    # the kept upload is the Inspect tab's file too
    open_tab(at, "checkpoints", INSPECT)
    at.radio(key="checkpoints.source").set_value("uploaded file").run()
    assert any("Using `dp.pth`, uploaded earlier" in c.value for c in at.caption)


# --------------------------------------------------------------------------- links


def test_a_link_opens_the_same_load_demo() -> None:
    at = open_link(
        PAGE,
        {"checkpoints.tab": "load", "checkpoints.model": "example:Net",
         "checkpoints.lesson": "strict=False", "checkpoints.from_saved_as": "DataParallel",
         "checkpoints.strip": "True"},
    )  # fmt: skip
    assert at.selectbox(key="checkpoints.model").value == "example:Net"
    assert at.radio(key="checkpoints.lesson").value == "strict=False"
    assert at.toggle(key="checkpoints.strip").value is True
    code, _ = panel(at)
    assert "torch.nn.DataParallel(source).state_dict()" in code
    assert "model.load_state_dict(ckpt, strict=False)" in code
    assert 'k.removeprefix("module.")' in code or "k.removeprefix('module.')" in code
    assert link_notes(at) == []


def test_a_bad_link_value_falls_back() -> None:
    at = open_link(PAGE, {"checkpoints.tab": "save", "checkpoints.save_model": "vit_h_14"})
    assert at.selectbox(key="checkpoints.save_model").value == "example:SmallVGG"
    assert link_notes(at)


# ---------------------------------------------------------------- the code panels


def _save_resnet(at: AppTest) -> AppTest:
    at.selectbox(key="checkpoints.save_model").set_value("resnet18").run()
    at.toggle(key="checkpoints.optimizer").set_value(True).run()
    assert any("A **zip archive** of 190 entries" in m.value for m in at.markdown)
    return at


def _save_tied(at: AppTest) -> AppTest:
    at.selectbox(key="checkpoints.save_model").set_value("example:SharedLayerNet").run()
    at.toggle(key="checkpoints.optimizer").set_value(True).run()
    return at


def _inspect_upload(at: AppTest, tmp_path: Path) -> AppTest:
    data = saved({"state_dict": catalog.build_real(KEY, 10).state_dict(), "epoch": 2})
    (tmp_path / "mine.pth").write_bytes(data)
    return upload_to(at, INSPECT, "mine.pth", data)


def _inspect_evil(at: AppTest, tmp_path: Path) -> AppTest:
    data = saved({"x": RunsCode(tmp_path / "pwned")})
    (tmp_path / "evil.pth").write_bytes(data)
    return upload_to(at, INSPECT, "evil.pth", data)


def _load_upload(at: AppTest, tmp_path: Path) -> AppTest:
    sd = {f"model.{k}": v for k, v in catalog.build_real(KEY, 1000, seed=3).state_dict().items()}
    data = saved({"state_dict": sd, "epoch": 3})
    (tmp_path / "lit.ckpt").write_bytes(data)
    at = open_tab(at, "checkpoints", LOAD)
    at.selectbox(key="checkpoints.model").set_value(KEY).run()
    at = upload_to(at, LOAD, "lit.ckpt", data)
    at.toggle(key="checkpoints.strip").set_value(True).run()
    at.radio(key="checkpoints.lesson").set_value("strict=True").run()
    return at


def _load_layer(at: AppTest, _tmp: Path) -> AppTest:
    at = open_tab(at, "checkpoints", LOAD)
    at.selectbox(key="checkpoints.model").set_value("example:SharedLayerNet").run()
    at.radio(key="checkpoints.lesson").set_value("one layer").run()
    at.selectbox(key="checkpoints.layer").set_value("tied.weight").run()
    return at


def _load_broken_fp16(at: AppTest, _tmp: Path) -> AppTest:
    at = open_tab(at, "checkpoints", LOAD)
    at.selectbox(key="checkpoints.model").set_value("example:Model").run()
    at.selectbox(key="checkpoints.from_saved_as").set_value("float16").run()
    at.radio(key="checkpoints.lesson").set_value("broken recipe").run()
    return at


CASES: dict[str, Callable[[AppTest, Path], AppTest]] = {
    "save-default": lambda at, _p: at,
    "save-resnet18-optimizer": lambda at, _p: _save_resnet(at),
    "save-tied-optimizer": lambda at, _p: _save_tied(at),
    "inspect-default": lambda at, _p: open_tab(at, "checkpoints", INSPECT),
    "inspect-upload": _inspect_upload,
    "inspect-unsafe": _inspect_evil,
    "load-default": lambda at, _p: open_tab(at, "checkpoints", LOAD),
    "load-upload-strict": _load_upload,
    "load-layer-tied": _load_layer,
    "load-broken-fp16": _load_broken_fp16,
}


@pytest.mark.parametrize("case", list(CASES))
def test_code_panel_prints_what_the_page_shows(case: str, tmp_path: Path) -> None:
    at = CASES[case](open_page(PAGE), tmp_path)
    code, shown = panel(at)
    assert shown.strip(), "the page must show what its code prints"
    assert "weights_only=True" in code or "safetensors" in code or case.startswith("save")
    assert "weights_only=False" not in code
    assert fresh(code, tmp_path).rstrip("\n") == shown.rstrip("\n")
    assert not (tmp_path / "pwned").exists()


def test_the_hub_cache_is_offered_only_when_the_file_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_tab(open_page(PAGE), "checkpoints", LOAD)
    at.selectbox(key="checkpoints.model").set_value("squeezenet1_0").run()
    at.radio(key="checkpoints.from").set_value("torch hub cache").run()
    assert not at.exception
    (how,) = [i.value for i in at.info if "No checkpoint in the torch hub cache" in i.value]
    assert "models.squeezenet1_0(weights='DEFAULT')" in how and "squeezenet1_0-" in how
    assert not at.error  # nothing to load yet: the page says how, and waits
    assert any("Pick a checkpoint in column 2" in i.value for i in at.info)
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    from ptexplore.models import weights

    name = weights.hub_filename("squeezenet1_0")
    assert name is not None
    torch.save(catalog.build_real("squeezenet1_0", 1000).state_dict(), folder / name)
    at.run()
    _no_errors(at)
    assert any(f"`{name}` from the torch hub cache" in c.value for c in at.caption)
    assert any("Proven by comparing tensors" in s.value for s in at.success)
    open_tab(at, "checkpoints", INSPECT)
    at.radio(key="checkpoints.source").set_value("torch hub cache").run()
    _no_errors(at)
    assert at.selectbox(key="checkpoints.hub").value == name
    assert "✅ **torch.save zip archive**" in at.success[0].value


def test_no_file_yet_is_a_hint_not_an_error() -> None:
    at = open_tab(open_page(PAGE), "checkpoints", INSPECT)
    at.radio(key="checkpoints.source").set_value("uploaded file").run()
    _no_errors(at)
    assert any("No file yet" in c.value for c in at.caption)
    assert not [e for e in at.expander if "Reproduce this in Python" in e.label]
    open_tab(at, "checkpoints", LOAD)
    at.radio(key="checkpoints.from").set_value("uploaded file").run()
    _no_errors(at)
    assert any("Pick a checkpoint in column 2" in i.value for i in at.info)

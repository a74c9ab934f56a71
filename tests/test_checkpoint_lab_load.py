"""The Load lessons, checked by value: each lesson's own script is run again here, and the
model it leaves behind is compared tensor by tensor with the checkpoint file and with a
fresh build — exactly the matched tensors changed, or nothing, or one."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save as safetensors_bytes

from ptexplore import live
from ptexplore.checkpoints.compare import Status, find_prefix, parse_load_error
from ptexplore.checkpoints.lessons import Origin, SavedAs, Upload
from ptexplore.checkpoints.recipes import Lesson, LoadConfig, LoadResult, attr_path, run_load
from ptexplore.errors import InputError
from ptexplore.models import catalog
from tests.test_checkpoint_formats import saved
from tests.test_checkpoint_hostile import RunsCode

KEY = "example:SmallVGG"
HEAD = ("classifier.4.weight", "classifier.4.bias")


@pytest.fixture(scope="module")
def wide() -> OrderedDict[str, torch.Tensor]:
    """SmallVGG with a 1000-class head: the checkpoint every lesson loads."""
    return catalog.build_real(KEY, 1000, seed=7).state_dict()


def _upload(data: bytes, name: str = "vgg.pth") -> Upload:
    return Upload(name, str(hash(data)), data)


def _config(data: bytes, lesson: Lesson, name: str = "vgg.pth", **kw: Any) -> LoadConfig:
    return LoadConfig(
        target=KEY, num_classes=10, origin=Origin.UPLOAD, upload=_upload(data, name),
        lesson=lesson, **kw,
    )  # fmt: skip


def rerun(r: LoadResult, data: bytes, tmp_path: Path, name: str = "vgg.pth") -> dict[str, Any]:
    """Run the lesson's code panel again (the file in the working folder, as the panel
    says) and return the namespace it left: its ``model`` is checked by value."""
    (tmp_path / name).write_bytes(data)
    code = r.snippet.code.replace(f"path = {name!r}", f"path = {str(tmp_path / name)!r}")
    ran = live.run(code)
    assert ran.exception is None, ran.error
    assert ran.output == r.snippet.output  # the page shows what the code prints
    return ran.namespace


def fresh_target(seed: int = 1) -> OrderedDict[str, torch.Tensor]:
    return catalog.build_real(KEY, 10, seed=seed).state_dict()


def _equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.equal(a, b.to(a.dtype))


def test_the_partial_load_changes_exactly_the_matched_tensors(
    wide: OrderedDict[str, torch.Tensor], tmp_path: Path
) -> None:
    data = saved(wide)
    r = run_load(_config(data, Lesson.PARTIAL))
    assert r.comparison.keys(Status.SHAPE) == HEAD
    assert r.comparison.count(Status.MATCHED) == 10
    assert set(r.proof.changed) == set(wide) - set(HEAD) == set(r.proof.expected)
    assert r.proof.exact and r.proof.equal_to_checkpoint and r.proof.rest_untouched
    assert r.refusal is None
    model = rerun(r, data, tmp_path)["model"].state_dict()
    init = fresh_target()
    for k, v in model.items():
        if k in HEAD:
            assert torch.equal(v, init[k]), k  # the 10-class head keeps its own init
        else:
            assert torch.equal(v, wide[k]), k  # everything else is the checkpoint's
            assert not torch.equal(v, init[k]), k


def test_the_broken_recipe_loads_nothing_and_says_all_keys_matched(
    wide: OrderedDict[str, torch.Tensor], tmp_path: Path
) -> None:
    data = saved(wide)
    r = run_load(_config(data, Lesson.BROKEN))
    assert r.proof.changed == () and r.proof.exact and r.refusal is None
    assert "<All keys matched successfully>" in r.snippet.output
    assert "0 changed, though 10 were ready to load" in r.snippet.output
    assert "net1_dict.update(net1_dict)" in r.snippet.code
    model = rerun(r, data, tmp_path)["model"].state_dict()
    init = fresh_target()
    assert all(torch.equal(v, init[k]) for k, v in model.items())


def test_strict_true_raises_torchs_error_after_copying_what_fits(
    wide: OrderedDict[str, torch.Tensor], tmp_path: Path
) -> None:
    data = saved(wide)
    r = run_load(_config(data, Lesson.STRICT))
    assert r.refusal is not None and r.refusal.kind == "RuntimeError"
    assert r.refusal.message.startswith("Error(s) in loading state_dict for SmallVGG:")
    rows = {(e.problem, e.key): e.detail for e in r.error_rows}
    assert rows == {
        ("size mismatch", "classifier.4.weight"): "checkpoint ([1000, 128]), model ([10, 128])",
        ("size mismatch", "classifier.4.bias"): "checkpoint ([1000]), model ([10])",
    }
    # the truth: a strict load that raised still copied every entry that fits
    assert set(r.proof.changed) == set(wide) - set(HEAD) and r.proof.exact
    model = rerun(r, data, tmp_path)["model"].state_dict()
    assert all(torch.equal(model[k], wide[k]) for k in model if k not in HEAD)


def test_strict_false_still_raises_on_a_shape_mismatch(
    wide: OrderedDict[str, torch.Tensor],
) -> None:
    r = run_load(_config(saved(wide), Lesson.NOT_STRICT))
    assert r.refusal is not None and "size mismatch for classifier.4.weight" in r.refusal.message
    assert "strict=False forgives missing and unexpected keys only" in r.refusal.lesson
    assert "RuntimeError: Error(s) in loading state_dict" in r.snippet.output
    assert r.incompatible == (HEAD, ())  # after filtering: the head is reported missing


def test_strict_false_returns_the_incompatible_keys(
    wide: OrderedDict[str, torch.Tensor], tmp_path: Path
) -> None:
    sd = catalog.build_real(KEY, 10, seed=7).state_dict()
    del sd["vgg.0.bias"]
    sd["extra.weight"] = torch.ones(2)
    data = saved(sd)
    r = run_load(_config(data, Lesson.NOT_STRICT))
    assert r.refusal is None
    assert r.incompatible == (("vgg.0.bias",), ("extra.weight",))
    assert "missing_keys: 1 ['vgg.0.bias']" in r.snippet.output
    model = rerun(r, data, tmp_path)["model"].state_dict()
    assert torch.equal(model["vgg.0.bias"], fresh_target()["vgg.0.bias"])
    assert torch.equal(model["vgg.0.weight"], sd["vgg.0.weight"])


def test_one_layer_changes_one_tensor(wide: OrderedDict[str, torch.Tensor], tmp_path: Path) -> None:
    data = saved(wide)
    r = run_load(_config(data, Lesson.LAYER, layer="vgg.0.weight"))
    assert r.proof.changed == ("vgg.0.weight",) and r.proof.exact
    assert "model.vgg[0].weight.copy_(ckpt['vgg.0.weight'])" in r.snippet.code
    model = rerun(r, data, tmp_path)["model"].state_dict()
    init = fresh_target()
    for k, v in model.items():
        assert torch.equal(v, wide[k] if k == "vgg.0.weight" else init[k]), k
    # the head's shapes differ: copy_ refuses, nothing changes
    r = run_load(_config(data, Lesson.LAYER, layer="classifier.4.weight"))
    assert r.refusal is not None and r.proof.changed == ()
    assert "must match the size of tensor" in r.refusal.message


@pytest.mark.parametrize(
    ("prefix", "lightning"), [("module.", False), ("model.", True), ("_orig_mod.", False)]
)
def test_a_wrapper_prefix_blocks_every_key_until_it_is_stripped(
    prefix: str, lightning: bool, tmp_path: Path
) -> None:
    sd = {prefix + k: v for k, v in catalog.build_real(KEY, 10, seed=7).state_dict().items()}
    data = saved({"state_dict": sd, "epoch": 3, "optimizer_states": []} if lightning else sd)
    r = run_load(_config(data, Lesson.PARTIAL))
    assert r.comparison.count(Status.MATCHED) == 0 and r.proof.changed == ()
    assert r.prefix is not None and r.prefix.prefix == prefix
    assert r.notes and r.notes[0].startswith("0 keys match:") and prefix in r.notes[0]
    assert r.wrapper == ("state_dict" if lightning else None)
    r = run_load(_config(data, Lesson.PARTIAL, strip=True))
    assert r.stripped and r.comparison.count(Status.MATCHED) == 12
    assert len(r.proof.changed) == 12 and r.proof.exact and r.proof.equal_to_checkpoint
    assert f"k.removeprefix({prefix!r})" in r.snippet.code
    assert [(a, b) for a, b, _ in r.prefix.mapping][:1] == [
        (f"{prefix}vgg.0.weight", "vgg.0.weight")
    ]
    rerun(r, data, tmp_path)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_cast_silently(dtype: torch.dtype, tmp_path: Path) -> None:
    sd = {k: v.to(dtype) for k, v in catalog.build_real(KEY, 10, seed=7).state_dict().items()}
    data = saved(sd)
    r = run_load(_config(data, Lesson.PARTIAL))
    assert len(r.comparison.casts) == 12
    assert r.comparison.casts[0][1:] == (str(dtype).removeprefix("torch."), "float32")
    assert "(copy_ cast it, without a word)" in r.snippet.output
    assert r.proof.exact and r.proof.equal_to_checkpoint
    model = rerun(r, data, tmp_path)["model"].state_dict()
    for k, v in model.items():
        assert v.dtype == torch.float32 and torch.equal(v, sd[k].float()), k


def test_safetensors_upload(tmp_path: Path) -> None:
    sd = catalog.build_real(KEY, 10, seed=7).state_dict()
    data = safetensors_bytes(dict(sd), metadata={"epoch": "1"})
    r = run_load(_config(data, Lesson.PARTIAL, name="vgg.safetensors"))
    assert "ckpt = load_file(path)" in r.snippet.code
    assert r.proof.exact and len(r.proof.changed) == 12
    rerun(r, data, tmp_path, name="vgg.safetensors")


def test_legacy_upload_with_extras(tmp_path: Path) -> None:
    sd = catalog.build_real(KEY, 10, seed=7).state_dict()
    data = saved({"model_state_dict": sd, "epoch": 2}, _use_new_zipfile_serialization=False)
    r = run_load(_config(data, Lesson.STRICT))
    assert r.wrapper == "model_state_dict" and r.refusal is None
    assert 'ckpt = checkpoint["model_state_dict"]' in r.snippet.code
    assert "<All keys matched successfully>" in r.snippet.output
    rerun(r, data, tmp_path)


def test_a_ten_class_model_from_a_thousand_class_checkpoint_made_here() -> None:
    r = run_load(LoadConfig())  # the default: resnet18, 1000 → 10 classes, partial load
    c = r.comparison
    assert c.keys(Status.SHAPE) == ("fc.weight", "fc.bias")
    assert c.count(Status.MATCHED, role=None) == 120
    from ptexplore.checkpoints.compare import Role

    assert c.count(Status.MATCHED, Role.PARAMETER) == 60  # conv and BatchNorm weights
    assert c.count(Status.MATCHED, Role.BUFFER) == 60  # running_mean/var, num_batches_tracked
    # one training step moved every tensor, BatchNorm buffers included: all 120 changed
    assert len(r.proof.changed) == 120 and r.proof.exact and r.proof.rest_untouched
    assert "bn1.num_batches_tracked" in r.proof.changed


def test_tied_weights_are_flagged_and_a_tied_layer_changes_under_both_names() -> None:
    r = run_load(
        LoadConfig(
            target="example:SharedLayerNet", num_classes=None, lesson=Lesson.LAYER,
            layer="tied.weight",
        )
    )  # fmt: skip
    c = r.comparison
    assert ("embed.weight", "tied.weight") in c.model_tied
    assert ("embed.weight", "tied.weight") in c.ckpt_tied  # torch.save kept the sharing
    row = next(x for x in c.rows if x.key == "tied.weight")
    assert row.model_tied == "embed.weight" and row.role.value == "parameter"
    assert set(r.proof.changed) == {"embed.weight", "tied.weight"} and r.proof.exact


@pytest.mark.parametrize("saved_as", [SavedAs.DATAPARALLEL, SavedAs.LIGHTNING, SavedAs.COMPILED])
def test_made_here_prefixes(saved_as: SavedAs) -> None:
    config = LoadConfig(target="example:Net", num_classes=None, saved_as=saved_as, strip=True)
    r = run_load(config)
    assert r.prefix is not None and r.prefix.prefix == saved_as.prefix and r.stripped
    assert r.proof.exact and len(r.proof.changed) == 6


def test_an_unsafe_upload_is_refused_before_any_script_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = saved({"w": torch.zeros(2), "x": RunsCode(marker)})
    with pytest.raises(InputError, match="not plain weights"):
        run_load(_config(data, Lesson.PARTIAL))
    assert not marker.exists()


def test_parse_load_error_on_torchs_own_words() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 3))
    try:
        model.load_state_dict({"0.weight": torch.zeros(4, 2), 'we"ird': torch.zeros(1)})
    except RuntimeError as err:
        rows = parse_load_error(str(err))
    assert [(r.problem, r.key) for r in rows] == [
        ("missing key", "0.bias"),
        ("unexpected key", 'we"ird'),
        ("size mismatch", "0.weight"),
    ]


def test_attr_path_and_find_prefix() -> None:
    model = catalog.build_meta("resnet18", 10).model
    assert attr_path(model, "layer1.0.conv1.weight") == "model.layer1[0].conv1.weight"
    assert attr_path(model, "fc.weight") == "model.fc.weight"
    keys = {"a.w", "b.w"}
    f = find_prefix(["module.a.w", "module.b.w"], keys)
    assert f is not None and f.matches_as_is == 0 and f.matches_stripped == 2
    assert find_prefix(["a.w", "b.w"], keys) is None
    assert find_prefix(["model.a.w"], {"model.a.w"}) is None  # the model's own prefix


def test_code_panel_for_a_made_here_lesson_runs_fresh(tmp_path: Path) -> None:
    from tests.fresh import fresh

    r = run_load(LoadConfig(target="example:Model", num_classes=None, lesson=Lesson.STRICT))
    assert fresh(r.snippet.code, tmp_path) == r.snippet.output


def test_weights_from_the_torch_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fresh import fresh

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    published = catalog.build_real("resnet18", 1000, seed=3).state_dict()
    torch.save(published, folder / "resnet18-f37072fd.pth")
    config = LoadConfig(origin=Origin.HUB, hub="resnet18-f37072fd.pth", lesson=Lesson.PARTIAL)
    r = run_load(config)
    assert 'os.path.join(torch.hub.get_dir(), "checkpoints", ' in r.snippet.code
    assert "mmap=True" in r.snippet.code and "weights_only=True" in r.snippet.code
    assert r.comparison.keys(Status.SHAPE) == ("fc.weight", "fc.bias")
    # an untrained checkpoint: its BatchNorm weights (1), biases (0) and statistics already
    # equal the target's, so loading cannot change them; the proof says so, by value
    already = set(r.proof.already)
    assert already and all(
        ".bn" in k or "downsample.1" in k or k.startswith("bn1") for k in already
    )
    assert r.proof.exact and r.proof.equal_to_checkpoint and r.proof.rest_untouched
    assert len(r.proof.changed) == 120 - len(already)
    assert f"({len(already)} already held the checkpoint's values)" in r.snippet.output
    assert fresh(r.snippet.code, tmp_path) == r.snippet.output  # finds the same file
    with pytest.raises(InputError, match="no checkpoint called"):
        run_load(LoadConfig(origin=Origin.HUB, hub="../resnet18-f37072fd.pth"))

"""``ptexplore.summary`` and ``python -m ptexplore summary``: the torchinfo-style table, its
JSON (golden files), totals equal to ``sum(p.numel())``, MACs equal to torchvision's
published ``_ops``, every depth adding up, and any nn.Module left as it was."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torchvision import models as tvm

import ptexplore
from ptexplore import limits
from ptexplore.__main__ import main
from ptexplore.errors import InputError, ModelError
from ptexplore.models import catalog
from ptexplore.summary import SCHEMA, Summary
from tests import fixture_models as fx
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; regenerate with PTX_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("PTX_UPDATE_GOLDEN"):
        path.write_text(text)
    # a missing golden file is a failure, never silently written (that would pass anything)
    assert path.exists(), f"{path.name} is missing: run PTX_UPDATE_GOLDEN=1 once"
    assert text == path.read_text()


def test_resnet18_table_and_json_match_the_golden_files() -> None:
    s = ptexplore.summary("resnet18")
    assert isinstance(s, Summary)
    _golden("summary_resnet18.txt", str(s))
    _golden("summary_resnet18.json", s.to_json())


def test_the_cli_prints_the_golden_files(capsys: pytest.CaptureFixture[str]) -> None:
    from ptexplore.__main__ import main

    assert main(["summary", "resnet18", "--format", "json"]) == 0  # python -m ptexplore …
    assert capsys.readouterr().out == (GOLDEN / "summary_resnet18.json").read_text()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    # the installed script, in a new interpreter
    script = Path(sys.executable).with_name("ptexplore")  # [project.scripts] (make installs it)
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "ptexplore"]
    out = subprocess.run(
        [*cmd, "summary", "resnet18", "--input", "1,3,224,224", "--depth", "3"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=240, check=True,
    )  # fmt: skip
    assert out.stdout == (GOLDEN / "summary_resnet18.txt").read_text()


#: the documented JSON (the module docstring of ptexplore.summary), as types
ROW_SCHEMA: dict[str, Any] = {
    "name": str, "class": str, "depth": int, "output": str, "output_shape": (list, None),
    "params": int, "params_total": int, "trainable": str, "macs": int, "macs_total": int,
    "calls": int, "collapsed": bool, "note": str,
}  # fmt: skip
SCHEMA_TYPES: dict[str, Any] = {
    "schema": str,
    "model": str,
    "class": str,
    "input": {"shape": list, "dtype": str, "source": str},
    "output": str,
    "depth": int,
    "totals": {
        "params": int,
        "trainable_params": int,
        "non_trainable_params": int,
        "buffers": int,
        "macs": int,
        "flops": int,
        "params_mb_fp32": float,
    },
    "published": (
        {"gmacs": (float, None), "params": (int, None), "weights": str, "at_published_input": bool},
        None,
    ),
    "rows": [ROW_SCHEMA],
}


def _check(value: Any, schema: Any, where: str = "$") -> None:
    if isinstance(schema, tuple):  # one of
        errors = []
        for option in schema:
            try:
                _check(value, option, where)
                return
            except AssertionError as err:
                errors.append(str(err))
        raise AssertionError(f"{where}: {errors}")
    if schema is None:
        assert value is None, where
    elif isinstance(schema, dict):
        assert isinstance(value, dict), where
        assert list(value) == list(schema), (where, list(value))
        for k, sub in schema.items():
            _check(value[k], sub, f"{where}.{k}")
    elif isinstance(schema, list):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(item, schema[0], f"{where}[{i}]")
    elif schema is int:
        assert isinstance(value, int) and not isinstance(value, bool), where
    else:
        assert isinstance(value, schema), (where, value)


@pytest.mark.parametrize("name", ["resnet18", "example:Net", "tests.fixture_models:TokenNet"])
def test_the_json_follows_its_documented_schema(name: str) -> None:
    data = json.loads(ptexplore.summary(name).to_json())
    _check(data, SCHEMA_TYPES)
    assert data["schema"] == SCHEMA == "ptexplore.summary/1"
    for row in data["rows"]:
        assert row["trainable"] in {"True", "False", "Partial", "--"}
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]


@pytest.mark.parametrize(
    ("name", "depths"),
    [("resnet18", (0, 1, 2, 3, 9)), ("vit_b_16", (1, 3, 5)), ("mobilenet_v3_large", (2, 4))],
)
def test_totals_are_the_real_ones_and_every_depth_adds_up(
    name: str, depths: tuple[int, ...]
) -> None:
    model = catalog.build_meta(name).model
    published = catalog.entry(name).published_gmacs
    assert published is not None
    for depth in depths:
        s = ptexplore.summary(name, depth=depth)
        assert s.total_params == sum(p.numel() for p in model.parameters())
        assert round(s.gmacs, 3) == round(published, 3)  # torchvision's _ops
        assert sum(r.params for r in s.rows) == s.total_params
        assert sum(r.macs for r in s.rows) == s.total_macs
        assert max(r.depth for r in s.rows) <= depth
    assert "equal" in str(ptexplore.summary(name))


def test_attention_counts_where_torchinfo_sees_almost_nothing() -> None:
    s = ptexplore.summary("vit_b_16", depth=10)
    attention = [r for r in s.rows if r.class_name == "MultiheadAttention"]
    assert len(attention) == 12
    # in_proj, q·kᵀ, attn·v and out_proj are MultiheadAttention's own code: 29% of the total
    assert sum(r.macs for r in attention) == 12 * (197 * 768 * 3 * 768 + 2 * 197 * 197 * 768
                                                   + 197 * 768 * 768)  # fmt: skip
    assert s.total_macs == 17_563_828_224


def test_any_module_instance_is_left_as_it_was() -> None:
    torch.manual_seed(0)
    model = fx.TinyNet(num_classes=4)
    model.fc.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    s = ptexplore.summary(model, input_size=(2, 3, 32, 32), depth=1)
    assert model.training and all(m.training for m in model.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert s.model == "TinyNet" and s.input_source == "as given"
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.trainable_params == s.total_params - (8 * 4 + 4)
    rows = {r.qualname: r for r in s.rows}
    assert rows["fc"].trainable == "False" and rows["conv"].trainable == "True"
    assert s.total_macs == 2 * (32 * 32 * 8 * 3 * 9 + 8 * 4)
    # without input_size: a guess from the first layer, said so
    guessed = ptexplore.summary(fx.TinyNet())
    assert guessed.input_shape == (1, 3, 224, 224) and "guessed" in guessed.input_source


def test_partly_frozen_and_shared_parameters_are_counted_once() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(50, 8)
            self.block = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
            self.out = nn.Linear(8, 50, bias=False)
            self.out.weight = self.emb.weight  # tied

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.out(self.block(self.emb(ids)))

    model = Tied()
    model.block[0].bias.requires_grad_(False)
    s = ptexplore.summary(model, depth=0)
    assert s.input_dtype == "int64" and s.input_shape == (1, 16)  # guessed from Embedding
    assert s.total_params == 50 * 8 + 8 * 8 + 8 == sum(p.numel() for p in model.parameters())
    assert s.rows[0].trainable == "Partial" and s.non_trainable_params == 8
    for depth in (1, 2):
        rows = ptexplore.summary(model, depth=depth).rows
        assert sum(r.params for r in rows) == s.total_params


def test_import_paths_and_num_classes() -> None:
    s = ptexplore.summary("tests.fixture_models:TinyNet@1,3,32,32", num_classes=4)
    assert s.model == "tests.fixture_models:TinyNet" and s.input_shape == (1, 3, 32, 32)
    assert s.rows[-1].output == "[1, 4]" and s.input_source == "from --input"
    token = ptexplore.summary("tests.fixture_models:TokenNet")
    assert token.input_dtype == "int64" and token.input_source == "from example_input()"
    with pytest.raises(InputError, match="takes no num_classes"):
        ptexplore.summary("tests.fixture_models:TokenNet", num_classes=3)
    with pytest.raises(ModelError, match=r"Importing tests\.no_such_module failed"):
        ptexplore.summary("tests.no_such_module:Net")


def test_formats() -> None:
    s = ptexplore.summary("example:Model", depth=1)
    md = s.to_markdown()
    assert "| Layer | Type | Output shape | Params | Trainable | MACs |" in md
    assert md.count("\n| ") == len(s.rows) + 1  # header + one line per row
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    assert len(rows) == len(s.rows) and rows[1]["name"] == s.rows[1].qualname
    assert sum(int(r["params"]) for r in rows) == s.total_params
    assert s.render("table") == str(s)
    with pytest.raises(InputError, match="not a summary format"):
        s.render("xml")


def test_errors_are_one_sentence_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ModelError, match="no model called 'resnet9000'"):
        ptexplore.summary("resnet9000")
    with pytest.raises(InputError, match="depth must be between 0 and"):
        ptexplore.summary("resnet18", depth=limits.SUMMARY_MAX_DEPTH + 1)
    with pytest.raises(ModelError, match=r"refused an input of shape \[1, 3, 100, 100\]"):
        ptexplore.summary("vit_b_16", input_size=(1, 3, 100, 100))
    assert main(["summary", "resnet9000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no model called 'resnet9000'") and "fix:" in err
    assert main(["summary", "resnet18", "--input", "1;3"]) == 2
    assert main(["summary", "example:Net", "--format", "csv", "--depth", "0"]) == 0
    assert capsys.readouterr().out.startswith("name,class,depth,output,params")


def test_a_600m_parameter_model_costs_a_second_and_tens_of_mb() -> None:
    """vit_h_14 (632 M parameters: 2.5 GB at fp32) in a fresh process, after the imports."""
    code = (
        "import resource, time, ptexplore.summary as S\n"
        "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t0 = time.perf_counter(); s = S.summary('vit_h_14')\n"
        "dt = time.perf_counter() - t0\n"
        "r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(s.total_params, s.total_macs, dt, (r1 - r0) / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240,
        check=True,
    )  # fmt: skip
    params, macs, seconds, mb = out.stdout.split()
    assert int(params) == sum(p.numel() for p in catalog.build_meta("vit_h_14").model.parameters())
    assert round(int(macs) / 1e9, 3) == tvm.ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1.meta["_ops"]
    assert float(mb) < 200, f"{mb} MB"  # measured ~20 MB; a real build is 2.5 GB
    assert float(seconds) < 15, f"{seconds} s"  # measured ~1 s on 2 shared cores


# ------------------------------------------------------------------ python -m ptexplore run


def test_ptexplore_run_serves_the_app(tmp_path: Path) -> None:
    """``python -m ptexplore run --port P`` is the app: healthy, and its landing page
    answers, from any working folder; a bad port is one sentence and status 2."""
    import urllib.request

    from tests.conftest import free_port, wait_healthy

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ptexplore", "run", "--port", str(port), "--models", ""],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_healthy(url, proc, 90)
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and b"<title>" in r.read()
    finally:
        proc.terminate()
        proc.wait(15)
    bad = subprocess.run(
        [sys.executable, "-m", "ptexplore", "run", "--port", "70000"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr == "error: Port 70000 is not between 1 and 65535.\nfix: Try --port 8501.\n"


def test_plain_ptexplore_is_ptexplore_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import ptexplore.__main__ as cli

    seen: list[tuple[str, int, str]] = []
    monkeypatch.setattr(cli, "_run", lambda a: seen.append((a.command, a.port, a.address)) or 0)
    assert cli.main([]) == 0
    assert seen == [("run", 8501, "127.0.0.1")]


def test_ptexplore_run_lang_is_the_apps_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import ptexplore.__main__ as cli
    from ptexplore import i18n

    started: list[str] = []

    def execv(path: str, cmd: list[str]) -> None:
        started.append(os.environ[i18n.LANG_ENV])
        raise SystemExit(0)

    monkeypatch.setenv(i18n.LANG_ENV, "en")  # restored after the test: _run sets it
    monkeypatch.setattr(cli.os, "execv", execv)
    monkeypatch.setattr(cli.os, "chdir", lambda _path: None)
    with pytest.raises(SystemExit):
        cli.main(["run", "--lang", "zh"])
    assert started == ["zh"]

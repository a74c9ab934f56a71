"""Your own nn.Module by import path: PTEXPLORE_MODELS specs are parsed, imported and built
on meta once; they come first in every picker and trace like the rest; a broken one is one
sentence on the landing page and breaks nothing else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ptexplore import limits
from ptexplore.errors import InputError, ModelError
from ptexplore.models import catalog, params, shapes, user
from ptexplore.models.catalog import InputKind, Source
from ptexplore.rng import seeded
from tests import fixture_models as fx
from tests.conftest import is_meta, open_page, open_tab

TINY = 'tests.fixture_models:TinyNet{"width": 4}'
FIXED = "tests.fixture_models:FixedInput@1,2,16,32"
TOKEN = "tests.fixture_models:TokenNet"
MLP = 'tests.fixture_models:make_mlp{"depth": 3}'
GOOD = (TINY, FIXED, TOKEN, MLP)
BROKEN = {
    "tests.no_such_module:Net": "Importing tests.no_such_module failed: ModuleNotFoundError",
    "tests.fixture_models:Missing": "has no attribute Missing",
    "tests.fixture_models:Exploding": "on the meta device failed: ValueError",
    "tests.fixture_models:not_a_module": "not an nn.Module",
    "tests.fixture_broken_models:Net": "fails on import, on purpose",
    "tests.fixture_models:NotAModule": "is a class but not an nn.Module",
    "tests.fixture_models:NOT_CALLABLE": "not a class or a function",
    "not-a-spec": "is not an import path",
}
#: spaces and newlines between specs, a space inside the JSON
ENV = f"{TINY}  {FIXED}\n{TOKEN}\t{MLP}\n" + " ".join(BROKEN)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[user.Registry]:
    monkeypatch.setenv(user.MODELS_ENV, ENV)
    user.clear()
    yield user.registry()
    user.clear()


# ------------------------------------------------------------------------------ parsing


def test_specs_parse_with_kwargs_inputs_and_any_whitespace() -> None:
    specs = user.parse_specs(
        'a.b:C  d:E{"x": 1, "y": [1, 2]}@1,3\n\n  f.g:H.I@2,8\tj:K{"s": "a b"}'
    )
    assert [s.path for s in specs] == ["a.b:C", "d:E", "f.g:H.I", "j:K"]
    assert specs[1].kwargs == {"x": 1, "y": [1, 2]} and specs[1].input_shape == (1, 3)
    assert specs[2].input_shape == (2, 8) and specs[2].kwargs == {}
    assert specs[3].kwargs == {"s": "a b"}  # whitespace inside JSON is not a separator
    for s in specs:  # the canonical text parses back to the same spec
        assert user.parse_spec(s.text) == s
    assert specs[1].key == 'user:d:E{"x": 1, "y": [1, 2]}@1,3'
    # duplicates are registered once
    assert len(user.parse_specs("a:B a:B  a:B{}")) == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("nocolon", "is not an import path"),
        ("a.b:", "names no class or function after the colon"),
        ("a:B{oops}", "not valid JSON"),
        ("a:B[1]", "Unexpected '\\['"),
        ('a:B{"1x": 2}', "keys are parameter names"),
        ("a:B@1,x", "Unexpected"),
        ("a:B@", "not a shape"),
        ("a:B@0,3", "a size of 0"),
        ("a:B@" + ",".join(["1"] * (limits.USER_MAX_INPUT_DIMS + 1)), "sizes; give 1 to"),
    ],
)
def test_malformed_specs_are_lessons(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        user.parse_specs(text)


def test_one_malformed_spec_leaves_the_others() -> None:
    specs, failures = user.parse_specs_collect("a:B oops c:D{bad} e:F")
    assert [s.path for s in specs] == ["a:B", "e:F"]
    assert [f.spec for f in failures] == ["oops", "c:D{bad}"]


def test_limits_on_the_environment() -> None:
    many = " ".join(f"m:N{i}" for i in range(limits.USER_MAX_MODELS + 3))
    specs, failures = user.parse_specs_collect(many)
    assert len(specs) == limits.USER_MAX_MODELS and len(failures) == 3
    _, failures = user.parse_specs_collect("a:B " * (limits.USER_MAX_ENV_CHARS // 4 + 1))
    assert "Only the first" in failures[0].message
    long = "a:B{" + '"k": "' + "x" * limits.USER_MAX_SPEC_CHARS + '"}'
    with pytest.raises(InputError, match="characters; at most"):
        user.parse_specs(long)


def test_input_option_syntax() -> None:
    assert user.parse_input("1,3,128,128") == (1, 3, 128, 128)
    assert user.parse_input(" @ 1, 16 ") == (1, 16)
    assert user.parse_input("(1, 3, 8, 8)") == (1, 3, 8, 8)
    with pytest.raises(InputError):
        user.parse_input("1;3")


# ------------------------------------------------------------------------ the catalog


def test_registered_models_come_first_and_broken_ones_are_one_sentence(
    registered: user.Registry,
) -> None:
    keys = [k for k, _ in catalog.choices()]
    good = [user.parse_spec(s).key for s in GOOD]
    assert keys[: len(good)] == good
    assert keys[len(good)] == "example:Model"  # then the examples, torchvision, timm
    assert catalog.user_keys() == tuple(good)
    assert catalog.labels()[good[0]] == f"{TINY} (your model)"
    failures = {f.spec: f.message for f in user.registry().failures}
    assert set(failures) == set(BROKEN)
    for spec, words in BROKEN.items():
        message = failures[spec]
        assert words in message, (spec, message)
        assert "\n" not in message and message.endswith("."), message
    # a broken model is simply not there
    with pytest.raises(ModelError, match="no model called"):
        catalog.entry("user:tests.no_such_module:Net")


def test_a_class_with_num_classes_builds_on_meta_and_traces(registered: user.Registry) -> None:
    key = user.parse_spec(TINY).key
    e = catalog.entry(key)
    assert e.source is Source.USER and e.family == "tests.fixture_models"
    assert e.takes_num_classes and e.default_num_classes == 10
    assert e.input_kind is InputKind.IMAGE and e.default_input == (3, 224, 224)
    assert e.input_source == "guessed from its first layer (Conv2d)"
    assert e.doc == "A tiny CNN: one conv, global pooling and a classifier."
    build = catalog.build_meta(key, 5)
    assert is_meta(build.model) and tuple(build.model.fc.weight.shape) == (5, 4)
    table = params.param_table(build.model)
    assert table.total == sum(p.numel() for p in fx.TinyNet(5, width=4).parameters())
    report = shapes.trace(key, 5, side=32, batch=2)
    assert report.input_shape == (2, 3, 32, 32) and report.output_shape == "[2, 5]"
    assert report.total_macs == 2 * (32 * 32 * 4 * 3 * 9 + 4 * 5)


def test_real_build_and_code_are_plain_pytorch(registered: user.Registry) -> None:
    key = user.parse_spec(TINY).key
    real = catalog.build_real(key, 7, seed=3)
    with seeded(3):
        plain = fx.TinyNet(num_classes=7, width=4)
    assert torch.equal(real.conv.weight, plain.conv.weight)
    build = catalog.constructor_code(key, 7)
    assert build == catalog.Constructor(
        ("from tests.fixture_models import TinyNet",), "TinyNet(width=4, num_classes=7)"
    )
    scope: dict[str, object] = {}
    exec(f"{build.head()}\nmodel = {build.expr}", scope)
    assert sum(p.numel() for p in scope["model"].parameters()) == sum(  # type: ignore[attr-defined]
        p.numel() for p in real.parameters()
    )


def test_input_from_the_spec_example_input_or_a_guess(registered: user.Registry) -> None:
    fixed = catalog.entry(user.parse_spec(FIXED).key)
    assert fixed.input_kind is InputKind.FIXED and fixed.default_input == (2, 16, 32)
    assert fixed.input_source == "from --input" and not fixed.takes_num_classes
    r = shapes.trace(fixed.key, batch=3)
    assert r.input_shape == (3, 2, 16, 32) and r.output_shape == "[3, 5]"

    token = catalog.entry(user.parse_spec(TOKEN).key)
    assert token.input_dtype == "int64" and token.default_input == (12,)
    assert token.input_source == "from example_input()"
    r = shapes.trace(token.key)
    assert r.output_shape == "[1, 3]"
    attn = next(row for row in r.rows if row.qualname == "attn")
    # MultiheadAttention's own functional code counts: in_proj (12×16→48), q·kᵀ and attn·v
    # (2 × 12×12×16 over both heads) and out_proj, whose weights it uses directly (12×16→16)
    assert attn.self_macs == 12 * 16 * 48 + 2 * 12 * 12 * 16 + 12 * 16 * 16

    mlp = catalog.entry(user.parse_spec(MLP).key)
    assert mlp.input_kind is InputKind.VECTOR and mlp.default_input == (20,)
    assert shapes.trace(mlp.key).output_shape == "[1, 2]"


def test_example_input_draws_nothing_from_the_global_rng(registered: user.Registry) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    user.clear()
    assert user.registry().get(user.parse_spec(TOKEN).key) is not None
    assert torch.equal(torch.rand(3), expected)


def test_a_forward_that_refuses_the_input_is_one_inert_sentence() -> None:
    x = torch.empty(1, 2, 8, 8, device="meta")
    with pytest.raises(ModelError, match=r"refused an input of shape \[1, 2, 8, 8\]: `") as info:
        shapes.trace_module(fx.FixedInput(), (x,))
    assert "\n" not in info.value.message  # the model's own words, in a code span


def test_models_path_is_appended_and_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ptx_operator_nets.py").write_text(
        "from torch import nn\n"
        "def make(width=3):\n"
        "    return nn.Sequential(nn.Linear(6, width), nn.ReLU(), nn.Linear(width, 1))\n"
    )
    monkeypatch.setenv(user.MODELS_ENV, 'ptx_operator_nets:make{"width": 5}')
    monkeypatch.setenv(user.PATH_ENV, str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    user.clear()
    try:
        reg = user.registry()
        assert not reg.failures and len(reg.models) == 1
        assert sys.path[-1] == str(tmp_path)  # appended: never shadows an installed package
        assert shapes.trace(reg.models[0].key).total_params == 6 * 5 + 5 + 5 + 1
    finally:
        user.clear()
        sys.modules.pop("ptx_operator_nets", None)


# ------------------------------------------------------------------------- the pages


def test_the_model_explorer_lists_and_traces_your_model(registered: user.Registry) -> None:
    at = open_page("pages/3_Model_Explorer.py")
    picker = at.selectbox(key="models.model")
    key = user.parse_spec(TINY).key
    assert list(picker.options[:4]) == [f"{s} (your model)" for s in GOOD]
    assert picker.value == "example:Model"  # the default is unchanged
    picker.set_value(key).run()
    assert not at.exception and not at.error
    total = sum(p.numel() for p in fx.TinyNet(width=4).parameters())
    assert next(m.value for m in at.metric if m.label == "Total parameters") == f"{total:,}"
    assert any("guessed from its first layer" in c.value for c in at.sidebar.caption)
    open_tab(at, "models", "📐 Shapes & MACs")
    assert next(m.value for m in at.metric if m.label == "output") == "[1, 10]"
    at.selectbox(key="models.model").set_value(user.parse_spec(TOKEN).key).run()
    assert not at.exception and not at.error
    assert next(m.value for m in at.metric if m.label == "input") == "[1, 12]"


def test_the_landing_page_lists_what_failed_as_inert_text(registered: user.Registry) -> None:
    at = open_page()
    assert not at.exception
    assert any(s.value == "⚠️ Models that failed to load" for s in at.subheader)
    lines = [m.value for m in at.markdown if m.value.startswith("- `")]
    assert len(lines) == len(BROKEN)
    exploding = next(x for x in lines if "Exploding" in x)
    # the model's own words (markdown in them) stay inside a code span
    assert (
        "`Building tests.fixture_models:Exploding on the meta device failed: ValueError: "
        "**this constructor** always fails: [a link]\u2060(http://example.com).`" in exploding
    )
    assert any("Your models (4)" in c.value for c in at.caption)


def test_no_models_no_box(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(user.MODELS_ENV, raising=False)
    at = open_page()
    assert not any("failed to load" in s.value for s in at.subheader)


def test_the_freezing_demo_offers_your_models(registered: user.Registry) -> None:
    from ptexplore.autograd.freeze import FREEZE_MODELS, freeze_models

    options = freeze_models()
    assert options[: len(FREEZE_MODELS)] == FREEZE_MODELS
    assert options[len(FREEZE_MODELS) :] == catalog.user_keys()


# ----------------------------------------------------------------- the command lines


def test_serve_model_and_input_flags_become_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ptexplore import serve

    monkeypatch.delenv(user.MODELS_ENV, raising=False)
    assert user.MODELS_ENV not in serve.classroom_env(["127.0.0.1"], 8501)

    text = serve.models_env([[TINY, None], ["tests.fixture_models:FixedInput", "1,2,16,32"]])
    assert text == f"{TINY}\n{FIXED}"
    env = serve.classroom_env(["127.0.0.1"], 8501, models=text, models_path="/srv/models")
    assert env[user.MODELS_ENV] == text and env[user.PATH_ENV] == "/srv/models"
    with pytest.raises(InputError, match="an input in its spec and an --input"):
        serve.models_env([[FIXED, "1,2,3"]])
    with pytest.raises(InputError, match="not an import path"):
        serve.models_env([["nope", None]])


def test_serve_refuses_an_input_before_its_model(capsys: pytest.CaptureFixture[str]) -> None:
    from ptexplore import serve

    with pytest.raises(SystemExit) as exit_:
        serve.main(["--host", "127.0.0.1", "--input", "1,3,8,8", "--model", "a:B"])
    assert exit_.value.code == 2
    assert "--input must follow the --model it is for" in capsys.readouterr().err
    assert serve.main(["--host", "127.0.0.1", "--model", "a:B{bad"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_freezing_runs_on_your_float_model_and_explains_a_token_model(
    registered: user.Registry,
) -> None:
    from ptexplore.autograd.freeze import FreezeConfig, FreezeMode, run_freeze

    key = user.parse_spec(TINY).key
    result = run_freeze(FreezeConfig(key, None, FreezeMode.ALL_BUT_HEAD, "conv", (), 2, 32, 0))
    total = sum(p.numel() for p in fx.TinyNet(width=4).parameters())
    assert result.trainable + result.frozen == total and result.frozen > 0
    with pytest.raises(ModelError, match="takes int64 input"):
        run_freeze(
            FreezeConfig(user.parse_spec(TOKEN).key, None, FreezeMode.NONE, "", (), 2, 32, 0)
        )


def test_the_code_tab_of_a_token_model_feeds_int64_and_prints_what_the_page_shows(
    registered: user.Registry, tmp_path: Path
) -> None:
    from tests.fresh import fresh
    from tests.test_code_panels import panel

    at = open_page("pages/3_Model_Explorer.py")
    at.selectbox(key="models.model").set_value(user.parse_spec(TOKEN).key).run()
    at = open_tab(at, "models", "🐍 Code")
    code, shown = panel(at)
    assert "dtype=torch.int64, device='meta'" in code
    # the fresh interpreter imports the test module like the server did (from the repo)
    repo = str(Path(__file__).resolve().parent.parent)
    assert fresh(code, tmp_path, path=[repo]).rstrip("\n") == shown.rstrip("\n")

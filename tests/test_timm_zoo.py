"""The timm zoo in the catalog: every timm.list_models() architecture is listed (family by
family, after torchvision), opens on meta with pretrained=False and its default input
from the pretrained config; a sample across families opens, and a smaller one traces."""

from __future__ import annotations

import pytest

from ptexplore.models import catalog, params, shapes, tree, zoo
from ptexplore.models.catalog import InputKind, Source
from tests.conftest import IN_CI, is_meta

if not zoo.available():  # requirements-dev.txt installs it: CI must cover it
    if IN_CI:
        pytest.fail("CI=true but timm is not installed", pytrace=False)
    pytest.skip("timm is not installed (pip install 'ptexplore[timm]')", allow_module_level=True)

STATUS = zoo.status()
#: architectures per family in the sample (the smallest that count, by parameters), and
#: how many of the sample also trace
PER_FAMILY = 1
TRACED = 12


def _sample() -> list[str]:
    """The smallest architecture of every family (98 in timm 1.0.31) that counts on meta,
    as measured by bench/timm_zoo.py."""
    assert STATUS is not None, "ptexplore/models/timm_status.json is missing"
    failed = {f.name for f in STATUS.failures}
    by_family: dict[str, list[str]] = {}
    for name in zoo.names():
        if name not in failed and name in STATUS.params:
            by_family.setdefault(zoo.family(name), []).append(name)
    picked = []
    for fam in sorted(by_family):
        picked += sorted(by_family[fam], key=lambda n: (STATUS.params[n], n))[:PER_FAMILY]
    return picked


SAMPLE = _sample() if STATUS is not None else []


def test_every_architecture_is_in_the_catalog_grouped_by_family() -> None:
    import timm

    keys = [k for k, _ in catalog.choices()]
    timm_keys = [k for k in keys if k.startswith(catalog.TIMM_PREFIX)]
    assert {k.removeprefix("timm:") for k in timm_keys} == set(timm.list_models())
    # after every torchvision model, family by family
    assert keys.index(timm_keys[0]) > max(keys.index(n) for n in catalog.torchvision_names())
    families = [zoo.family(k.removeprefix("timm:")) for k in timm_keys]
    assert families == sorted(families)
    assert catalog.labels()["timm:resnet50"] == "resnet50 (timm · resnet)"
    assert len(set(families)) >= 50


def test_entries_take_their_input_from_the_pretrained_config() -> None:
    e = catalog.entry("timm:resnet50")
    assert e.source is Source.TIMM and e.family == "resnet"
    assert e.default_input == (3, 224, 224) and e.input_kind is InputKind.IMAGE
    assert e.takes_num_classes and e.default_num_classes == 1000
    big = catalog.entry("timm:eva02_large_patch14_448")
    assert big.default_input == (3, 448, 448)
    assert catalog.constructor_code("timm:resnet50", 10) == catalog.Constructor(
        ("import timm",), "timm.create_model('resnet50', pretrained=False, num_classes=10)"
    )
    with pytest.raises(Exception, match="no model called"):
        catalog.entry("timm:not_a_timm_model")


def test_the_measured_status_is_consistent() -> None:
    import timm

    assert STATUS is not None
    assert STATUS.total == len(timm.list_models())
    assert STATUS.total >= STATUS.opened >= STATUS.traced >= STATUS.counted
    assert STATUS.total - STATUS.counted == len(STATUS.failures)
    for f in STATUS.failures:
        assert f.stage in {"open", "trace", "count"}
        assert "\n" not in f.reason and f.reason.endswith((".", "…")) and len(f.reason) < 240


def test_the_sample_covers_enough_families() -> None:
    assert len(SAMPLE) >= 50
    assert len({zoo.family(n) for n in SAMPLE}) == len(SAMPLE)


@pytest.mark.parametrize("name", SAMPLE)
def test_a_sample_across_families_opens_on_meta(name: str) -> None:
    key = catalog.TIMM_PREFIX + name
    build = catalog.build_meta(key)
    model = build.model
    assert is_meta(model) and all(b.device.type == "meta" for b in model.buffers())
    table = params.param_table(model)
    assert table.total == sum(p.numel() for p in model.parameters())
    assert STATUS is not None and table.total == STATUS.params[name]
    assert tree.count_nodes(tree.build_tree(model)) == len(list(model.modules()))
    assert set(build.order) == {n for n, _ in model.named_parameters(remove_duplicate=False)}


@pytest.mark.parametrize("name", SAMPLE[:: max(1, len(SAMPLE) // TRACED)][:TRACED])
def test_a_smaller_sample_traces_and_counts(name: str) -> None:
    report = shapes.trace(catalog.TIMM_PREFIX + name)
    assert report.total_macs > 0
    assert sum(r.self_macs for r in report.rows) == report.total_macs


def test_timm_matches_torchvision_where_the_architecture_is_the_same() -> None:
    """timm's vit_base_patch16_224 is torchvision's vit_b_16: same parameters, and the MACs
    counted here equal torchvision's published 17.564 GMACs (attention included)."""
    t = shapes.trace("timm:vit_base_patch16_224")
    published = catalog.entry("vit_b_16").published_gmacs
    assert t.total_params == catalog.entry("vit_b_16").published_params
    assert published is not None and round(t.gmacs, 3) == round(published, 3)


def test_the_model_explorer_opens_a_timm_model_and_shows_the_measurement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import open_page, open_tab

    at = open_page("pages/3_Model_Explorer.py")
    labels = list(at.selectbox(key="models.model").options)
    assert "resnet50 (timm · resnet)" in labels and labels.index("resnet50") < labels.index(
        "resnet50 (timm · resnet)"
    )
    at.selectbox(key="models.model").set_value("timm:resnet50").run()
    assert not at.exception and not at.error
    assert next(m.value for m in at.metric if m.label == "Total parameters") == "25,557,032"
    assert STATUS is not None
    assert any(
        e.label == f"timm on meta: {STATUS.counted:,} of {STATUS.total:,} count"
        for e in at.sidebar.expander
    )
    open_tab(at, "models", "📐 Shapes & MACs")
    assert next(m.value for m in at.metric if m.label == "MACs") == "4.09 G"
    # a measured failure is shown with its reason, as inert text
    fake = zoo.ZooStatus(
        STATUS.timm_version, STATUS.torch_version, STATUS.total, STATUS.total - 1,
        STATUS.total - 1, STATUS.total - 1,
        (zoo.ZooFailure("resnet50", "resnet", "open", "RuntimeError: **not** [x](y)."),),
        STATUS.params,
    )  # fmt: skip
    monkeypatch.setattr(zoo, "status", lambda: fake)
    at.run()
    assert any(
        "failed to open: `RuntimeError: **not** [x]\u2060(y).`" in w.value for w in at.warning
    )

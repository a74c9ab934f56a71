"""Every torchvision classification model opens on meta, and its numbers are the real ones."""

from __future__ import annotations

import pytest
import torch
from torchvision import models as tvm

from ptexplore.errors import ModelError
from ptexplore.models import catalog, params, tree
from tests.conftest import is_meta

ALL = catalog.torchvision_names()


def test_catalog_covers_every_classification_model() -> None:
    assert set(ALL) == set(tvm.list_models(module=tvm))
    assert {"vit_h_14", "regnet_y_128gf", "resnet18", "inception_v3"} <= set(ALL)
    keys = [k for k, _ in catalog.choices()]
    assert keys[:4] == [
        "example:Model",
        "example:Net",
        "example:SmallVGG",
        "example:SharedLayerNet",
    ]
    from ptexplore.models import zoo

    # then torchvision, then (timm installed: the dev requirements) every timm architecture
    assert len(keys) == len(set(keys)) == len(ALL) + 4 + len(zoo.names())


@pytest.mark.parametrize("name", ALL)
def test_every_model_opens_on_meta(name: str) -> None:
    build = catalog.build_meta(name)
    model = build.model
    assert is_meta(model)
    assert all(b.device.type == "meta" for b in model.buffers())
    root = tree.build_tree(model)
    assert tree.count_nodes(root) == len(list(model.modules()))
    table = params.param_table(model)
    assert table.total == sum(p.numel() for p in model.parameters())
    assert table.trainable == table.total and table.frozen == 0
    # torchvision publishes the parameter count of each model's weights
    published = catalog.entry(name).published_params
    assert published is not None
    if name == "googlenet":  # weights=None keeps the two auxiliary classifiers; the
        # published weights drop them (aux_logits=False after loading)
        aux = sum(p.numel() for p in model.aux1.parameters()) + sum(
            p.numel() for p in model.aux2.parameters()
        )
        assert table.total - aux == published
    else:
        assert table.total == published
    assert set(build.order) == {n for n, _ in model.named_parameters(remove_duplicate=False)}


def test_default_input_sizes_follow_the_weights() -> None:
    assert catalog.entry("inception_v3").default_input == (3, 299, 299)
    assert catalog.entry("resnet18").default_input == (3, 224, 224)
    # a weights=None vit_h_14 has a 224-pixel position embedding: its SWAG_LINEAR weights
    # (224) describe it, its default SWAG_E2E weights (518) do not
    vit_h = catalog.entry("vit_h_14")
    assert vit_h.default_input == (3, 224, 224)
    assert vit_h.published_weights == "ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1"
    assert catalog.entry("regnet_y_128gf").default_input == (3, 384, 384)
    assert not catalog.entry("googlenet").weights_match
    assert catalog.entry("example:Net").default_input == (2,)


def test_unknown_model_and_bad_num_classes_are_lessons() -> None:
    with pytest.raises(ModelError, match="no model called 'resnet9000'"):
        catalog.entry("resnet9000")
    with pytest.raises(ModelError, match="num_classes must be between"):
        catalog.build_meta("resnet18", 0)


def test_num_classes_changes_the_head() -> None:
    model = catalog.build_meta("resnet18", 10).model
    assert tuple(model.fc.weight.shape) == (10, 512)
    assert params.param_table(model).total == 11_181_642


def test_meta_build_does_not_leak_into_normal_builds() -> None:
    catalog.build_meta("resnet18")
    model = tvm.resnet18()
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert float(model.conv1.weight.detach().abs().sum()) > 0


def test_meta_build_is_thread_local() -> None:
    import threading

    from ptexplore.models.build import params_on_meta

    seen: list[str] = []
    ready = threading.Event()
    done = threading.Event()

    def other() -> None:
        ready.wait()
        seen.append(torch.nn.Linear(2, 2).weight.device.type)
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with params_on_meta():
        inside = torch.nn.Linear(2, 2).weight.device.type
        ready.set()
        done.wait(10)
    t.join()
    assert inside == "meta" and seen == ["cpu"]


def test_a_models_label_is_said_in_the_reruns_language_in_pickers_and_sentences() -> None:
    """The example models' labels have words ("(example)"): the pickers and the sentences
    that name a model (the checkpoint lab's "Model (example) saved as …") say them in the
    rerun's language; torchvision's and timm's names stay as they are."""
    from ptexplore import i18n
    from ptexplore.checkpoints.survey import Made, made_label
    from ptexplore.i18n import Lang

    keys = ["example:Model", "resnet18"]
    assert catalog.shown_name("example:Model") == catalog.entry("example:Model").label
    with i18n.language(Lang.ZH):
        picker = catalog.shown_labels(keys)
        assert picker("example:Model") == catalog.shown_name("example:Model") == "Model（示例）"
        assert picker("resnet18") == "resnet18"
        said = made_label(Made("example:Model", None))
    assert said.startswith("Model（示例）") and "(example)" not in said  # was "Model (example)，…"

"""Take-home source (ptexplore.live.source): the definitions a script pastes, and its
one import block."""

from __future__ import annotations

from ptexplore.data import datasets
from ptexplore.live import source
from ptexplore.models import catalog, examples


def test_a_definition_brings_what_it_uses_and_nothing_else() -> None:
    got = source.definitions(datasets, ["Instrumented"])
    assert "class Call(NamedTuple):" in got.code  # used by Instrumented.__getitem__
    assert got.code.index("class Call(") < got.code.index("class Instrumented(")
    assert "class MyDataset" not in got.code and "class Sleep" not in got.code
    assert set(got.imports) == {
        "import os",
        "import time",
        "from collections.abc import Callable",
        "from typing import Any",
        "from typing import NamedTuple",
        "from torch.utils.data import Dataset",
        "from torch.utils.data import get_worker_info",
    }


def test_type_checker_comments_are_dropped_and_other_comments_kept() -> None:
    got = source.definitions(datasets, ["BrokenLenDataset"])
    assert "type: ignore" not in got.code
    assert "return len(self.data.shape[0])  # TypeError, on purpose" in got.code
    assert "class MyDataset(" in got.code  # its base class comes with it


def test_imports_merge_into_one_sorted_block() -> None:
    block = source.merge_imports(
        [
            "import torch",
            "from torch.utils.data import DataLoader",
            "import time",
            "from torch.utils.data import Dataset, BatchSampler",
            "from collections import OrderedDict\nimport torch",
        ]
    )
    assert block == (
        "import time\n"
        "from collections import OrderedDict\n"
        "\n"
        "import torch\n"
        "from torch.utils.data import BatchSampler, DataLoader, Dataset\n"
    )


def test_a_guarded_script_runs_its_body_only_as_main() -> None:
    text = source.script(
        ["import torch"],
        "x = Net()\nprint(sum(p.numel() for p in x.parameters()))\n",
        defined=source.definitions(examples, ["Net"]),
        main_guard=True,
    )
    assert text.startswith("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):")
    assert '\n\n\nif __name__ == "__main__":\n    x = Net()\n' in text
    imported: dict[str, object] = {"__name__": "__mp_main__"}  # as a worker imports it
    exec(text, imported)
    assert "x" not in imported and "Net" in imported
    main: dict[str, object] = {"__name__": "__main__"}
    exec(text, main)
    assert sum(p.numel() for p in main["x"].parameters()) == 2 * 5 + 5 + 5 * 5 + 5 + 5 * 3 + 3  # type: ignore[attr-defined]


def test_an_example_models_code_pastes_its_class() -> None:
    build = catalog.constructor_code("example:Model")
    assert build.expr == "Model()" and build.defined.startswith("class Model(nn.Module):")
    assert "ptexplore" not in build.head()
    ns: dict[str, object] = {}
    exec(build.head() + f"\nmodel = {build.expr}\n", ns)
    assert [n for n, _ in ns["model"].named_children()] == [  # type: ignore[attr-defined]
        "conv1",
        "conv2",
        "maxpool1",
        "features",
    ]

"""The learning path: one entry per page, in sidebar order (no Streamlit here).

The landing page renders a card for each entry; ``key`` is the prefix of every widget key on
that page (``"<key>.<name>"``), so tests can address widgets without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptexplore.i18n import N_

#: Where the app lives (``app.py``, ``pages/``, ``.streamlit/config.toml``): in a checkout, the
#: repository root; in an installed wheel, the copy its build put in ``ptexplore/_app``.
_PACKAGED = Path(__file__).resolve().parent / "_app"
ROOT = _PACKAGED if (_PACKAGED / "app.py").is_file() else Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class PageInfo:
    """A page; ``title`` and ``lesson`` are English, marked for the catalog (``N_``) and
    translated where they are drawn."""

    key: str
    file: str
    title: str
    icon: str
    lesson: str


HOME = PageInfo(
    key="home",
    file="app.py",
    title="ptexplore",
    icon="🔦",
    lesson=N_("See PyTorch: every figure is computed live by real torch code."),
)

MODELS = PageInfo(
    key="models",
    file="pages/3_Model_Explorer.py",
    title=N_("Model explorer"),
    icon="🧱",
    lesson=N_(
        "Open any torchvision classifier: its module tree, modules() vs children(), "
        "named_parameters(), per-layer output shapes and true MACs, all computed live."
    ),
)

TENSORS = PageInfo(
    key="tensors",
    file="pages/1_Tensor_Lab.py",
    title=N_("Tensor lab"),
    icon="🔗",
    lesson=N_(
        "numpy ↔ tensor memory sharing: mutate one side and watch the other; why id() proves "
        "nothing; .item(); and how fast each list-of-arrays → tensor path really is."
    ),
)

VIEW = PageInfo(
    key="view",
    file="pages/2_View_Reshape_Lab.py",
    title=N_("view() / reshape lab"),
    icon="🧮",
    lesson=N_(
        "Shapes, -1, strides and contiguity made visible: when view() shares storage, when "
        "reshape() copies, and why view() refuses a transposed tensor."
    ),
)

AUGMENT = PageInfo(
    key="augment",
    file="pages/4_Augmentation_Lab.py",
    title=N_("Augmentation lab"),
    icon="🖼️",
    lesson=N_(
        "Tune torchvision transform pipelines on your own images: seeded grids, the random "
        "parameters drawn, step-by-step views, and code export."
    ),
)

AUTOGRAD = PageInfo(
    key="autograd",
    file="pages/5_Autograd_Lab.py",
    title=N_("Autograd lab"),
    icon="🕸️",
    lesson=N_(
        "detach(), requires_grad, no_grad and freezing on the real autograd graph: what "
        "backward() reaches, what a detached tensor shares, and what BatchNorm still changes."
    ),
)

CHECKPOINTS = PageInfo(
    key="checkpoints",
    file="pages/6_Checkpoint_Lab.py",
    title=N_("Checkpoint lab"),
    icon="💾",
    lesson=N_(
        "Save, inspect and load state_dicts safely: what a .pth file really holds, what "
        "strict=False does and does not do, partial and single-layer loading, with proof."
    ),
)

DATA = PageInfo(
    key="data",
    file="pages/7_DataLoader_Lab.py",
    title=N_("DataLoader lab"),
    icon="🚚",
    lesson=N_(
        "Dataset.__getitem__ under DataLoader workers: call order vs batch order, worker "
        "seeds, random_split and ConcatDataset — run for real, in worker processes."
    ),
)

#: Every page of the learning path, in sidebar order.
ALL_PAGES: tuple[PageInfo, ...] = (TENSORS, VIEW, MODELS, AUGMENT, AUTOGRAD, CHECKPOINTS, DATA)

#: The pages that exist in this checkout (a page file lands only once it works fully).
PAGES: tuple[PageInfo, ...] = tuple(p for p in ALL_PAGES if (ROOT / p.file).is_file())

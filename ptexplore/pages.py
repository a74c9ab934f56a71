"""The learning path: one entry per page, in sidebar order (no Streamlit here).

The landing page renders a card for each entry; ``key`` is the prefix of every widget key on
that page (``"<key>.<name>"``), so tests can address widgets without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageInfo:
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
    lesson="See PyTorch: every figure is computed live by real torch code.",
)

MODELS = PageInfo(
    key="models",
    file="pages/3_Model_Explorer.py",
    title="Model explorer",
    icon="🧱",
    lesson=(
        "Open any torchvision classifier: its module tree, modules() vs children(), "
        "named_parameters(), per-layer output shapes and true MACs, all computed live."
    ),
)

#: Pages in learning-path order. A page is listed here only once it works fully.
PAGES: tuple[PageInfo, ...] = (MODELS,)


def page_by_key(key: str) -> PageInfo:
    for page in (HOME, *PAGES):
        if page.key == key:
            return page
    raise KeyError(key)

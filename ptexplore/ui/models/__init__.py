"""The Model explorer: a shared :func:`setup` (the sidebar's model, head size, freezing and
seed, and the model's totals) and five lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.models.common` — state, the :class:`Choice`, weights, shared results;
* :mod:`~ptexplore.ui.models.sidebar` — :func:`setup`;
* :mod:`~ptexplore.ui.models.tree_tab` — 🌳 the module tree and the name filter;
* :mod:`~ptexplore.ui.models.iterators_tab` — 🔁 ``modules()`` vs ``children()``;
* :mod:`~ptexplore.ui.models.parameters_tab` — 🔢 names, values, real weights;
* :mod:`~ptexplore.ui.models.shapes_tab` — 📐 per-layer shapes and MACs on meta;
* :mod:`~ptexplore.ui.models.code_tab` — 🐍 the script for all of it.
"""

from ptexplore.ui.models.code_tab import CODE_SECTION
from ptexplore.ui.models.common import CODE, ITERATORS, PARAMETERS, SHAPES, TREE, shared_meta
from ptexplore.ui.models.graph_tab import FLOW_SECTION
from ptexplore.ui.models.iterators_tab import ITERATORS_SECTION
from ptexplore.ui.models.parameters_tab import PARAMETERS_SECTION
from ptexplore.ui.models.shapes_tab import SHAPES_SECTION
from ptexplore.ui.models.sidebar import setup
from ptexplore.ui.models.tree_tab import TREE_SECTION

SECTIONS = (
    TREE_SECTION,
    ITERATORS_SECTION,
    PARAMETERS_SECTION,
    SHAPES_SECTION,
    FLOW_SECTION,
    CODE_SECTION,
)

__all__ = [
    "CODE",
    "ITERATORS",
    "PARAMETERS",
    "SECTIONS",
    "SHAPES",
    "TREE",
    "setup",
    "shared_meta",
]

"""The Autograd lab: four lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.autograd.graph` — 🕸️ the graph and 🔍 the detach() truths;
* :mod:`~ptexplore.ui.autograd.freeze` — 🧊 freezing and 📊 BatchNorm & Dropout (heavy).

Every section is pure by config, so a rerun with nothing changed computes nothing.
"""

from ptexplore.ui.autograd.freeze import FREEZE, FREEZE_TAB, NORM, NORM_TAB
from ptexplore.ui.autograd.graph import GRAPH, GRAPH_TAB, TRUTHS, TRUTHS_TAB

SECTIONS = (GRAPH, TRUTHS, FREEZE, NORM)

__all__ = [
    "FREEZE",
    "FREEZE_TAB",
    "GRAPH",
    "GRAPH_TAB",
    "NORM",
    "NORM_TAB",
    "SECTIONS",
    "TRUTHS",
    "TRUTHS_TAB",
]

"""The Tensor lab: four lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.tensors.sharing` — 🔗 memory sharing on the learner's live objects;
* :mod:`~ptexplore.ui.tensors.lessons` — 🚫 errors as lessons and 🔢 ``.item()``;
* :mod:`~ptexplore.ui.tensors.speed` — ⏱️ conversion speed, measured when Run is pressed.
"""

from ptexplore.ui.tensors.lessons import ERRORS, ITEM
from ptexplore.ui.tensors.sharing import LAB_KEY, SHARING
from ptexplore.ui.tensors.speed import BENCH_KEY, SPEED

SECTIONS = (SHARING, ERRORS, ITEM, SPEED)

__all__ = ["BENCH_KEY", "ERRORS", "ITEM", "LAB_KEY", "SECTIONS", "SHARING", "SPEED"]

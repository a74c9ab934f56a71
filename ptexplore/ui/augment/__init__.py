"""The Augmentation lab: a shared :func:`setup` (sidebar: seed, grid settings, images,
the pipeline editor) and five lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.augment.pipeline` — the pipeline in session state, the editor's
  callbacks;
* :mod:`~ptexplore.ui.augment.editor` — preset picker, step cards, parameter widgets, adder;
* :mod:`~ptexplore.ui.augment.sources` — uploads and sample photos, decoded once;
* :mod:`~ptexplore.ui.augment.preview` — :func:`setup` and the :class:`Preview` it returns;
* :mod:`~ptexplore.ui.augment.grid` — 🎲 the seeded grid (and the code panel every tab shows);
* :mod:`~ptexplore.ui.augment.steps` — 🪜 one sample step by step;
* :mod:`~ptexplore.ui.augment.train_val` — ⚖️ the train and val presets side by side;
* :mod:`~ptexplore.ui.augment.truths` — 🔎 what ``Resize(256)`` really does;
* :mod:`~ptexplore.ui.augment.box_truths` — 📦 the traps of detection augmentation, run;
* :mod:`~ptexplore.ui.augment.boxes` — the photo's boxes, masks and keypoints (sidebar);
* :mod:`~ptexplore.ui.augment.export` — 📦 Python and JSON out, JSON back in.
"""

from ptexplore.i18n import N_
from ptexplore.ui.augment.box_truths import BOX_TRUTHS
from ptexplore.ui.augment.export import EXPORT
from ptexplore.ui.augment.grid import GRID
from ptexplore.ui.augment.preview import Preview, setup
from ptexplore.ui.augment.steps import STEPS
from ptexplore.ui.augment.train_val import TRAIN_VAL
from ptexplore.ui.augment.truths import TRUTHS

INTRO = N_(
    "Build a `torchvision.transforms.v2` pipeline, see what it does to **your** photos "
    "(their boxes, masks and keypoints too), and take the code home. Every image below is "
    "produced live by the real transforms, and each caption lists the random parameters "
    "that sample actually drew."
)
SECTIONS = (GRID, STEPS, TRAIN_VAL, TRUTHS, BOX_TRUTHS, EXPORT)

__all__ = [
    "BOX_TRUTHS",
    "EXPORT",
    "GRID",
    "INTRO",
    "SECTIONS",
    "STEPS",
    "TRAIN_VAL",
    "TRUTHS",
    "Preview",
    "setup",
]

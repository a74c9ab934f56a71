"""The DataLoader lab: seven lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.data.datasets` — 📜 the Dataset, ✂️ random_split, ➕ ConcatDataset;
* :mod:`~ptexplore.ui.data.run` — 🚚 the DataLoader run with real worker processes;
* :mod:`~ptexplore.ui.data.processes` — ⏱️ workers vs time, 🎲 worker seeds, 🔁 epochs;
* :mod:`~ptexplore.ui.data.common` — the note on start methods and the
  captions every run shares.

The tabs that start worker processes are ``exclusive`` (one run per session: a changed
setting cancels the run in flight) and heavy; like every section their results are
remembered per config, so a rerun that changed nothing starts no process.
"""

from ptexplore.ui.data.datasets import CONCAT, DATASET, SPLIT
from ptexplore.ui.data.processes import EPOCHS, SEEDS, SWEEP
from ptexplore.ui.data.run import RUN

SECTIONS = (DATASET, RUN, SWEEP, SEEDS, EPOCHS, SPLIT, CONCAT)

__all__ = ["CONCAT", "DATASET", "EPOCHS", "RUN", "SECTIONS", "SEEDS", "SPLIT", "SWEEP"]

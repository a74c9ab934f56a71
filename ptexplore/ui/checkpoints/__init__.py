"""The Checkpoint lab: three lazy tabs, one :class:`~ptexplore.ui.lab.Section` each.

* :mod:`~ptexplore.ui.checkpoints.save` — 💾 save a private model, both files' layout;
* :mod:`~ptexplore.ui.checkpoints.inspect` — 🔍 a file inspected without reading its data;
* :mod:`~ptexplore.ui.checkpoints.load` — 🔌 key by key, one recipe, proven tensor by tensor;
* :mod:`~ptexplore.ui.checkpoints.common` — the pickers, the one kept upload, the layouts.

Every section is pure by its config (an upload is compared by name and digest), so a rerun
with nothing changed computes nothing; building and saving models runs under the shared
semaphore. Inspect and Load wait for a file (``ready``) when the learner picked an upload or
the hub cache and there is none yet.
"""

from ptexplore.i18n import N_
from ptexplore.ui.checkpoints.inspect import INSPECT
from ptexplore.ui.checkpoints.load import LOAD
from ptexplore.ui.checkpoints.save import SAVE

SECTIONS = (SAVE, INSPECT, LOAD)

INTRO = N_(
    "What a `.pth` file really holds, and what each way of loading it really does. Every "
    "table is read from real files and every claim is **proven live**: the load lessons "
    "compare each tensor before and after. Files are always read with "
    "`torch.load(weights_only=True)` (or safetensors), after every size and count is "
    "checked; models are private copies, yours alone."
)


__all__ = ["INSPECT", "INTRO", "LOAD", "SAVE", "SECTIONS"]

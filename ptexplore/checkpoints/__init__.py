"""Checkpoints from strangers: detect the format by its bytes, bound every input before
``torch.load`` (or safetensors) reads it, load with ``weights_only=True`` only, find the
state_dict, and fit its tensors to a model with one stated behaviour per edge case.

* :mod:`~ptexplore.checkpoints.formats` — what a file is (zip / legacy / safetensors);
* :mod:`~ptexplore.checkpoints.pickles` — the opcode scan and stub census of a pickle;
* :mod:`~ptexplore.checkpoints.guard` — the structural checks of each format;
* :mod:`~ptexplore.checkpoints.read` — :func:`read_checkpoint`, wrappers and prefixes;
* :mod:`~ptexplore.checkpoints.fit` — :func:`fit`, dtype/sparse/complex/meta cases.

The Checkpoint lab's modules (imported by name, not from here: they build catalog models,
and :mod:`ptexplore.models.weights` imports this package):

* :mod:`~ptexplore.checkpoints.layout` — a file's real layout (zip entries, legacy
  pickles, the safetensors header and offsets), from the guard's checks;
* :mod:`~ptexplore.checkpoints.inspector` — inspect without materialising data
  (``map_location="meta"`` under ``skip_data()``; the safetensors header only);
* :mod:`~ptexplore.checkpoints.compare` — a checkpoint against a model, key by key;
* :mod:`~ptexplore.checkpoints.lessons`, :mod:`~ptexplore.checkpoints.save`,
  :mod:`~ptexplore.checkpoints.survey`, :mod:`~ptexplore.checkpoints.recipes` — the
  lab's Save, Inspect and Load lessons, each a script run live.
"""

from ptexplore.checkpoints.fit import Fitted, fit
from ptexplore.checkpoints.formats import CheckpointFormat, detect
from ptexplore.checkpoints.pickles import Census, Scan, census, scan
from ptexplore.checkpoints.read import (
    PREFIXES,
    WRAPPER_KEYS,
    Checkpoint,
    StateDict,
    read_checkpoint,
    split_prefix,
    strip_prefixes,
)

__all__ = [
    "PREFIXES",
    "WRAPPER_KEYS",
    "Census",
    "Checkpoint",
    "CheckpointFormat",
    "Fitted",
    "Scan",
    "StateDict",
    "census",
    "detect",
    "fit",
    "read_checkpoint",
    "scan",
    "split_prefix",
    "strip_prefixes",
]

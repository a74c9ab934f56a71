"""Checkpoints from strangers: detect the format by its bytes, bound every input before
``torch.load`` (or safetensors) reads it, load with ``weights_only=True`` only, find the
state_dict, and fit its tensors to a model with one stated behaviour per edge case.

* :mod:`~ptexplore.ckpt.formats` — what a file is (zip / legacy / safetensors);
* :mod:`~ptexplore.ckpt.pickles` — the opcode scan and stub census of a pickle;
* :mod:`~ptexplore.ckpt.guard` — the structural checks of each format;
* :mod:`~ptexplore.ckpt.read` — :func:`read_checkpoint`, wrappers and prefixes;
* :mod:`~ptexplore.ckpt.fit` — :func:`fit`, dtype/sparse/complex/meta cases.

A foundation package: it knows nothing of models or labs. The Model explorer's weights
(:mod:`ptexplore.models.weights`) and the Checkpoint lab (:mod:`ptexplore.checkpoints`)
both read files through it.

* :mod:`~ptexplore.ckpt.layout` — a file's real layout (zip entries, legacy pickles, the
  safetensors header and offsets), from the guard's checks.
"""

from ptexplore.ckpt.fit import Fitted, fit
from ptexplore.ckpt.formats import CheckpointFormat, detect
from ptexplore.ckpt.pickles import Census, Scan, census, scan
from ptexplore.ckpt.read import (
    PREFIXES,
    WRAPPER_KEYS,
    Checkpoint,
    StateDict,
    read_checkpoint,
    read_upload,
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
    "read_upload",
    "scan",
    "split_prefix",
    "strip_prefixes",
]

"""The Checkpoint lab's lessons: save, inspect and load, each a script run live.

Files are read by the foundation package :mod:`ptexplore.ckpt` (formats, guards, bounded
pickles); this package builds catalog models and runs the lab's lessons on them:

* :mod:`~ptexplore.checkpoints.inspector` — inspect without materialising data
  (``map_location="meta"`` under ``skip_data()``; the safetensors header only);
* :mod:`~ptexplore.checkpoints.compare` — a checkpoint against a model, key by key;
* :mod:`~ptexplore.checkpoints.lessons`, :mod:`~ptexplore.checkpoints.save`,
  :mod:`~ptexplore.checkpoints.survey`, :mod:`~ptexplore.checkpoints.recipes` — the
  lab's Save, Inspect and Load lessons.
"""

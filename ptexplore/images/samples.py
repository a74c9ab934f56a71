"""The sample photos shipped with the package, in ``ptexplore/assets/samples`` (credited in
its CREDITS.md): package data, found with :mod:`importlib.resources` in a checkout and in an
installed wheel alike."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ptexplore.errors import InputError
from ptexplore.i18n import _

#: A folder on disk (the DataLoader lab's scripts run in it): ptexplore is never zipped.
SAMPLES_DIR = Path(str(resources.files("ptexplore").joinpath("assets", "samples")))
_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def sample_names() -> tuple[str, ...]:
    """File names of the shipped sample photos, sorted."""
    if not SAMPLES_DIR.is_dir():
        return ()
    return tuple(sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in _SUFFIXES))


def sample_bytes(name: str) -> bytes:
    """The bytes of one sample photo (only names from :func:`sample_names`)."""
    if name not in sample_names():
        raise InputError(
            _("“{name}” is not one of the sample photos.").format(name=name),
            fix=_("Pick one of: {names}.").format(names=", ".join(sample_names())),
        )
    return (SAMPLES_DIR / name).read_bytes()

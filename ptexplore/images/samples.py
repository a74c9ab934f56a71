"""The sample photos shipped in ``assets/samples`` (credited in assets/samples/CREDITS.md)."""

from __future__ import annotations

from ptexplore.errors import InputError
from ptexplore.pages import ROOT

SAMPLES_DIR = ROOT / "assets" / "samples"
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
            f"“{name}” is not one of the sample photos.",
            fix=f"Pick one of: {', '.join(sample_names())}.",
        )
    return (SAMPLES_DIR / name).read_bytes()

"""Uploaded files a session keeps: one keeper for every uploader of every page.

Streamlit forgets a ``file_uploader``'s files when the learner switches pages (the widget is
gone), so each uploader's ``on_change`` copies them into the page's state with
:func:`keep`, and the page reads them back with :func:`kept` — the same file is there
after a page switch until the learner removes it (✕). Bytes are kept with their SHA-256,
the key under which results computed from them are remembered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from ptexplore.ui.state import PageState


@dataclass(frozen=True, slots=True)
class Kept:
    """One uploaded file: its name (the learner's text: show it inert), digest and bytes."""

    name: str
    sha256: str
    data: bytes

    def getvalue(self) -> bytes:
        """The bytes (the name Streamlit's ``UploadedFile`` uses)."""
        return self.data


def keep(state: PageState, widget: str, name: str, limit: int = 1) -> None:
    """``on_change`` of the uploader ``widget``: keep its first ``limit`` files under
    ``name`` (or forget them when the learner removed them)."""
    value = st.session_state.get(state.key(widget))
    files = value if isinstance(value, list) else [] if value is None else [value]
    if not files:
        state.drop(name)
        return
    kept = []
    for f in files[:limit]:
        data = f.getvalue()
        kept.append(Kept(f.name, hashlib.sha256(data).hexdigest(), data))
    state.set(name, tuple(kept))


def kept(state: PageState, name: str) -> tuple[Kept, ...]:
    """The files kept under ``name`` (empty when there are none)."""
    files: tuple[Kept, ...] = state.get(name, ())
    return files

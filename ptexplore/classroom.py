"""What the landing page tells a class: the address learners open, and its QR code.

``python -m ptexplore.serve`` puts the address it printed into every replica's
environment (:data:`CLASS_URL_ENV`); a plain ``streamlit run`` (one user) has none, and
the landing page shows nothing extra.
"""

from __future__ import annotations

import functools
import io
import os
import re

#: Set by ``ptexplore.serve`` for its replicas: ``http://<host>:<port>``.
CLASS_URL_ENV = "PTEXPLORE_CLASS_URL"
_URL = re.compile(r"http://[A-Za-z0-9.:\-\[\]]{1,300}")


def class_url() -> str | None:
    """The address learners open, when this process serves a class (else ``None``)."""
    url = os.environ.get(CLASS_URL_ENV, "").strip()
    return url if _URL.fullmatch(url) else None


def in_language(url: str, lang: str | None) -> str:
    """The class address that opens in ``lang`` (``?lang=zh``); ``None``: as it is (every
    learner then gets the server's default)."""
    return url if lang is None else f"{url.rstrip('/')}/?lang={lang}"


@functools.lru_cache(maxsize=4)
def qr_png(url: str, *, scale: int = 8) -> bytes:
    """``url`` as a QR code PNG (segno, pure Python; ~10 ms, cached)."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()

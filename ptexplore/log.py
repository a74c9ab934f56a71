"""Server-side logging: one logger per package under ``ptexplore``, and incidents.

An unexpected exception on a page (a bug, not a :class:`~ptexplore.errors.LessonError`)
is logged here with the page, the config it ran with and the full traceback under a short
incident id; the learner sees one plain sentence with the same id, never the traceback.
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading

ROOT_LOGGER = "ptexplore"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_configured = threading.Lock()
_done: list[bool] = []


def configure() -> None:
    """Give the ``ptexplore`` loggers a stderr handler once per process (Streamlit's own
    logging setup leaves other loggers alone). Idempotent."""
    if _done:
        return
    with _configured:
        if _done:
            return
        root = logging.getLogger(ROOT_LOGGER)
        if not root.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(_FORMAT))
            root.addHandler(handler)
            root.setLevel(logging.INFO)
            root.propagate = False
        _done.append(True)


def new_incident_id() -> str:
    """Eight hex digits: short enough to read out loud in a classroom."""
    return secrets.token_hex(4)


def incident(where: str, config: object, exc: BaseException) -> str:
    """Log ``exc`` with its traceback, the page and the config; return the incident id."""
    configure()
    iid = new_incident_id()
    logging.getLogger(f"{ROOT_LOGGER}.{where}").error(
        "incident %s on %s with config %r", iid, where, config, exc_info=exc
    )
    return iid

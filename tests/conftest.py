"""Shared fixtures: AppTest pages (no browser) for every page test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
#: First run of a page imports torch and torchvision; give it room on a slow CI core.
APPTEST_TIMEOUT = float(os.environ.get("PTX_APPTEST_TIMEOUT", "120"))


def open_page(page_file: str | None = None) -> AppTest:
    """Run the app as the browser would: the entrypoint, then (optionally) one page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page_file is not None:
        at.switch_page(page_file)
        at.run()
    return at


@pytest.fixture
def page_app() -> Callable[[str], AppTest]:
    def _open(page_file: str) -> AppTest:
        at = open_page(page_file)
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open

"""Real Chromium: the landing page's cards and the sidebar's learning path navigate."""

from __future__ import annotations

from typing import Any

from ptexplore.pages import PAGES
from tests.e2e.conftest import wait_for_app


def test_cards_and_sidebar_navigate(server_url: str, page: Any) -> None:
    page.goto(server_url)
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("ptexplore — see PyTorch").count() == 1
    for p in PAGES:
        assert main.get_by_text(f"Open {p.title}", exact=True).count() == 1

    main.get_by_text("Open Model explorer", exact=True).click()
    page.wait_for_url("**/Model_Explorer")
    wait_for_app(page)
    page.get_by_role("heading", name="Model explorer").first.wait_for()

    sidebar = page.locator("[data-testid='stSidebar']")
    labels = [f"{i}. {p.title}" for i, p in enumerate(PAGES, start=1)]
    for label in labels:
        assert sidebar.get_by_text(label, exact=True).count() == 1
    sidebar.get_by_text(labels[0], exact=True).click()
    wait_for_app(page)
    page.get_by_role("heading", name=PAGES[0].title).first.wait_for()
    assert page.url.rstrip("/").endswith(PAGES[0].file.split("_", 1)[1].removesuffix(".py"))

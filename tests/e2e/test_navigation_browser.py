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
        main.get_by_text(f"Open {p.title}", exact=True).wait_for()  # the cards come last
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


def test_a_deep_link_opens_the_demo_and_the_address_follows_the_learner(
    server_url: str, page: Any
) -> None:
    page.goto(f"{server_url}/View_Reshape_Lab?view.op=transpose&view.method=reshape&view.shape=3,8")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("y = x.reshape(3, 8)").first.wait_for()
    assert "x = base.view(2, 3, 4).transpose(-2, -1)" in main.inner_text()
    assert "view.method=reshape" in page.url  # the address kept the link's values

    # the learner picks another method: the address follows, with the stable value
    box = main.locator("[data-testid='stSelectbox']").filter(has_text="Method")
    box.click()
    page.get_by_role("option", name="x.view(shape)", exact=True).click()
    wait_for_app(page)
    main.get_by_text("y = x.view(3, 8)").first.wait_for()
    page.wait_for_function("() => !location.search.includes('view.method')")
    assert "view.op=transpose" in page.url

    # another page: the view lab's values leave the address
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("3. Model explorer", exact=True).click()
    wait_for_app(page)
    page.get_by_role("heading", name="Model explorer").first.wait_for()
    assert "view." not in page.url

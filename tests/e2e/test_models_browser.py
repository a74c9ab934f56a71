"""Real Chromium: pick a model, expand a tree node, see its children."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app


def test_pick_model_and_expand_a_node(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/Model_Explorer")
    wait_for_app(page)
    tree = page.locator(".ptx-tree")
    tree.wait_for()
    total = page.locator("[data-testid='stMetric']", has_text="Total parameters")
    total.get_by_text("260,160").wait_for()

    # pick resnet18 in the sidebar selectbox
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
    box.click()
    page.keyboard.type("resnet18")
    page.get_by_role("option", name="resnet18", exact=True).click()
    wait_for_app(page)
    page.get_by_text("11,689,512").first.wait_for()

    layer1 = page.locator("details[data-qualname='layer1']")
    child = page.locator("[data-qualname='layer1.0']")
    assert layer1.get_attribute("open") is None
    assert not child.is_visible()
    layer1.locator("> summary").click()
    child.wait_for(state="visible")
    assert "BasicBlock" in child.locator("> summary").inner_text()
    assert page.locator("[data-qualname='layer1.0.conv1']").count() == 1

    shot = tmp_path / "model_explorer.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000

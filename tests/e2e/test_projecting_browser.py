"""A teacher's projector (1024×768): no metric value or button label is cut to "…"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

#: For every metric value and button label: its text, and how many pixels of it lie
#: outside what is shown (an ellipsis or a clipped overflow makes this > 0).
HIDDEN = """() => Array.from(document.querySelectorAll(
    "[data-testid='stMain'] [data-testid='stMetricValue'] p, [data-testid='stMain'] button p"
  )).map(p => {
    const r = document.createRange(); r.selectNodeContents(p);
    const text = Array.from(r.getClientRects());
    let clip = p;  // the nearest ancestor that hides overflow
    while (clip && getComputedStyle(clip).overflow === "visible") clip = clip.parentElement;
    const box = (clip || p).getBoundingClientRect();
    const right = Math.max(...text.map(t => t.right)), left = Math.min(...text.map(t => t.left));
    const cut = getComputedStyle(p).textOverflow === "ellipsis" && p.scrollWidth > p.clientWidth;
    return [p.textContent, Math.max(0, right - box.right, box.left - left) + (cut ? 1000 : 0)];
  })"""


def _pick(page: Any, model: str) -> None:
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
    box.click()
    page.keyboard.type(model)
    # the typed text focuses the first match (this one: torchvision's come first); Enter
    # picks it — a click can wait on the long list's scrolling ("element is not stable")
    option = page.get_by_role("option", name=model, exact=True)
    expect(option).to_have_attribute("data-focused", "true")
    page.keyboard.press("Enter")
    wait_for_app(page)


def test_vit_h_14_metrics_fit_at_1024x768(server_url: str, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server_url}/Model_Explorer")
        wait_for_app(page)
        _pick(page, "vit_h_14")
        page.get_by_text("632,045,800").first.wait_for()
        shown = dict(page.evaluate(HIDDEN))
        for value in ("632,045,800", "2,528.2 MB", "392"):
            assert shown[value] <= 1, (value, shown)  # the full number, nothing hidden
        assert all(px <= 1 for px in shown.values()), shown  # buttons too
        page.screenshot(path=str(tmp_path / "projector.png"))
    finally:
        context.close()

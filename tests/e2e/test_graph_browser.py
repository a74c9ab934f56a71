"""Real Chromium: the Model explorer's Data flow tab draws resnet50's and vit_b_16's graphs
(Streamlit's own Graphviz element, laid out in the browser, offline), folded, within
1024×768; on resnet50 a learner opens a folded run in place, picks a module and finds it
highlighted in the graph and in the Module tree tab, and downloads the DOT and the SVG.
The time from clicking the tab to the drawn graph is printed (issue 21 asks ≤ 2 s;
reported, not asserted: a loaded CI box varies; the first may include the sandbox's start
when no earlier test warmed the server)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import choose, wait_for_app

CHART = "[data-testid='stGraphVizChart'] svg"


def _open_tab(page: Any, server_url: str, model: str) -> Any:
    page.goto(f"{server_url}/Model_Explorer?models.model={model}")
    wait_for_app(page)
    page.locator(".ptx-tree").wait_for()
    t0 = time.perf_counter()
    page.get_by_role("tab", name="🕸️ Data flow").click()
    page.locator(CHART).first.wait_for(timeout=90_000)
    print(f"data flow of {model}: drawn {time.perf_counter() - t0:.2f} s after the click")
    svg = page.locator(CHART).first
    box = svg.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1024  # within the page
    return svg


def _pick(page: Any, key: str, option: str) -> None:
    """Choose ``option`` in the selectbox or multiselect whose widget key is ``key``."""
    choose(page, page.locator(f".st-key-{key.replace('.', '-')} [role='combobox']"), option, option)
    page.keyboard.press("Escape")  # a multiselect stays open
    wait_for_app(page)


def _svg_text(page: Any) -> str:
    return str(page.locator(CHART).first.text_content() or "")


def test_the_data_flow_tab_draws_opens_highlights_and_downloads(
    server_url: str, page: Any, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    _open_tab(page, server_url, "resnet50")
    assert "layer1.1 … layer1.2" in _svg_text(page)
    _pick(page, "models.flow_open", "layer1.1…2")  # open the folded run in place
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stGraphVizChart'] svg\")"
        ".textContent.includes('layer1.1 … layer1.2')"
    )
    text = _svg_text(page)
    assert "layer1.1" in text and "layer1.2" in text and "layer2.1 … layer2.3" in text
    _pick(page, "models.flow_focus", "layer2.0")
    page.get_by_text("Highlighted: 1 drawn item").wait_for()
    lit = page.locator(f"{CHART} g.node", has_text="layer2.0")
    assert "#ee4c2c" in (lit.first.inner_html() or "").lower()  # PyTorch's orange
    shot = tmp_path / "flow_resnet50.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    for fmt, head in (("DOT", "digraph G {"), ("SVG", "<?xml")):
        with page.expect_download() as got:
            page.get_by_role("button", name=fmt, exact=True).click()
        data = Path(got.value.path()).read_text()
        assert got.value.suggested_filename == f"resnet50.{fmt.lower()}"
        assert data.lstrip().startswith(head) and "layer2.0" in data, data[:200]
    page.get_by_role("tab", name="🌳 Module tree").click()
    page.locator(".ptx-tree [data-qualname='layer2.0'] > summary mark").wait_for()
    assert page.locator(".ptx-tree mark").count() == 1  # the chosen module, marked

    svg = _open_tab(page, server_url, "vit_b_16")
    assert "encoder.layers" in (svg.text_content() or "")

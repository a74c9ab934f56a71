"""Real Chromium: the Model explorer's Data flow tab draws resnet50's and vit_b_16's graphs
(Streamlit's own Graphviz element, laid out in the browser, offline), folded, within
1024×768. The time from clicking the tab to the drawn graph is printed (issue 21 asks
≤ 2 s; reported, not asserted: a loaded CI box varies; the first may include the
sandbox's start when no earlier test warmed the server)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app

CHART = "[data-testid='stGraphVizChart'] svg"


def test_the_data_flow_tab_draws_folded_graphs(server_url: str, page: Any, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    for model, folded in (("resnet50", "layer1.1 … layer1.2"), ("vit_b_16", "encoder.layers")):
        page.goto(f"{server_url}/Model_Explorer?models.model={model}")
        wait_for_app(page)
        page.locator(".ptx-tree").wait_for()
        t0 = time.perf_counter()
        page.get_by_role("tab", name="🕸️ Data flow").click()
        page.locator(CHART).first.wait_for(timeout=90_000)
        print(f"data flow of {model}: drawn {time.perf_counter() - t0:.2f} s after the click")
        svg = page.locator(CHART).first
        text = svg.text_content() or ""
        assert folded in text, text[:500]
        box = svg.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1024  # within the page
        shot = tmp_path / f"flow_{model}.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000

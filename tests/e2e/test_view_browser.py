"""Real Chromium: type shapes into the view()/reshape lab and watch the grids change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app


def _grid_texts(page: Any, key: str) -> list[str]:
    """The cell labels plotly drew in the chart with Streamlit key ``key``."""
    texts: list[str] = page.evaluate(
        """(cls) => Array.from(document.querySelectorAll(`.${cls} g.textpoint text, `
             + `.${cls} .hm text, .${cls} g.heatmaplayer text`)).map(t => t.textContent)""",
        f"st-key-{key.replace('.', '-')}",
    )
    return texts


def _type(page: Any, key: str, value: str) -> None:
    box = page.locator(f".st-key-{key.replace('.', '-')} input")
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def test_typing_a_shape_updates_the_grid(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/View_Reshape_Lab")
    wait_for_app(page)
    page.locator(".st-key-view-result_grid .main-svg").first.wait_for()
    before = _grid_texts(page, "view.result_grid")
    assert sorted(before, key=int) == [str(i) for i in range(24)]  # default 2,3,4 → (4, 6)

    _type(page, "view.source_shape", "3, 2")
    _type(page, "view.shape", "2, -1")
    page.get_by_text("6 / 2 = 3").first.wait_for()
    page.wait_for_function(
        """() => document.querySelectorAll('.st-key-view-result_grid g.textpoint text, '
              + '.st-key-view-result_grid .hm text').length === 6"""
    )
    assert _grid_texts(page, "view.result_grid") == ["0", "1", "2", "3", "4", "5"]
    assert page.get_by_text("shares storage with the source: same data_ptr").is_visible()

    # write through the view: the source grid shows the new value too
    page.locator(".st-key-view-write button").click()
    wait_for_app(page)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.st-key-view-source_grid text'))
              .some(t => t.textContent === '100')"""
    )
    assert "100" in _grid_texts(page, "view.source_grid")
    assert page.get_by_text("x changed too").is_visible()
    page.screenshot(path=str(tmp_path / "view_lab.png"), full_page=True)

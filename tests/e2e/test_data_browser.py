"""Real Chromium: open the DataLoader lab, run it with 2 workers, see the timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app

TIMELINE = ".st-key-data-timeline"


def _bar_labels(page: Any) -> list[str]:
    """The idx labels plotly drew inside the timeline's __getitem__ bars."""
    labels: list[str] = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(`${sel} g.trace.bars text`))
             .map(t => t.textContent)""",
        TIMELINE,
    )
    return labels


def test_a_two_worker_run_draws_its_timeline(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/DataLoader_Lab")
    wait_for_app(page)
    page.get_by_role("tab", name="DataLoader run").click()
    wait_for_app(page, timeout=180_000)
    page.locator(f"{TIMELINE} .main-svg").first.wait_for(timeout=180_000)
    page.wait_for_function(
        """(sel) => document.querySelectorAll(`${sel} g.trace.bars text`).length >= 8""",
        arg=TIMELINE,
    )
    assert sorted(_bar_labels(page), key=int) == [str(i) for i in range(8)]  # 8 calls, idx 0–7
    rows = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(`${sel} .ytick text`))
             .map(t => t.textContent)""",
        TIMELINE,
    )
    assert set(rows) == {"main process", "worker 0", "worker 1"}
    assert page.get_by_text("Yielded in the sampler's order: True").is_visible()
    page.get_by_text("alive after the run: 0").wait_for()
    page.locator(TIMELINE).scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "dataloader_timeline.png"))
    print(tmp_path / "dataloader_timeline.png")

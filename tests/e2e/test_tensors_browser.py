"""Real Chromium: edit a cell of the numpy array and watch the shared tensor follow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app

TARGET = (3, 1)  # glide column 3 = data column "2" (column 0 is the index), row 1


def _code_block(page: Any, prefix: str) -> Any:
    block = page.locator("[data-testid='stCode']").filter(has_text=prefix).first
    block.wait_for()
    return block


def _select_cell(page: Any, editor: Any, col: int, row: int) -> None:
    """Click the first data cell of the canvas grid, then walk there with the arrow keys."""
    box = editor.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + 35 + 17)
    selected = editor.locator("td[aria-selected='true']").first
    selected.wait_for(state="attached")
    match = re.fullmatch(r"glide-cell-(\d+)-(\d+)", selected.get_attribute("id") or "")
    assert match, "no selected cell in the data editor"
    c0, r0 = int(match.group(1)), int(match.group(2))
    for _ in range(col - c0):
        page.keyboard.press("ArrowRight")
    for _ in range(c0 - col):
        page.keyboard.press("ArrowLeft")
    for _ in range(row - r0):
        page.keyboard.press("ArrowDown")
    editor.locator(f"td#glide-cell-{col}-{row}[aria-selected='true']").wait_for(state="attached")


def test_edit_numpy_cell_updates_tensor(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/Tensor_Lab")
    wait_for_app(page)
    t_block = _code_block(page, ">>> t")
    assert "99." not in t_block.inner_text()
    assert "[ 4.,  5.,  6.,  7.]" in t_block.inner_text()

    editor = page.locator("[data-testid='stDataFrame']").first
    editor.locator("td#glide-cell-3-1").wait_for(state="attached")
    editor.scroll_into_view_if_needed()
    _select_cell(page, editor, *TARGET)
    page.keyboard.press("Enter")  # opens the cell's overlay editor
    cell_input = page.locator("#portal input.gdg-input, #portal textarea").first
    cell_input.wait_for()
    assert cell_input.input_value() == "6"
    cell_input.fill("99")
    cell_input.press("Enter")

    # The edit reruns the script: a[1, 2] = 99 in place, and the shared tensor shows it.
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stCode']\")]"
        ".some(b => b.innerText.startsWith('>>> t') && b.innerText.includes('99.'))"
    )
    wait_for_app(page)
    t_text = _code_block(page, ">>> t").inner_text()
    a_text = _code_block(page, ">>> a").inner_text()
    assert "[ 4.,  5., 99.,  7.]" in t_text, t_text
    assert "[ 4.,  5., 99.,  7.]" in a_text, a_text
    assert page.get_by_text("a[1, 2] = 99.0").first.is_visible()
    page.screenshot(path=str(tmp_path / "tensor_lab.png"), full_page=True)


def test_typing_1_5_into_a_uint8_cell_is_refused(server_url: str, page: Any) -> None:
    """An integer grid column used to read a typed 1.5 as 15 (Chromium drops the '.');
    the lab edits integer arrays as numbers with decimals and refuses 1.5 itself."""
    page.goto(f"{server_url}/Tensor_Lab")
    wait_for_app(page)
    page.locator(".st-key-tensors-dtype input").click()
    page.get_by_role("option", name="uint8").click()
    wait_for_app(page)
    page.get_by_text("a is uint8").first.wait_for()
    editor = page.locator("[data-testid='stDataFrame']").first
    editor.locator("td#glide-cell-3-1").wait_for(state="attached")
    editor.scroll_into_view_if_needed()
    _select_cell(page, editor, *TARGET)
    page.keyboard.press("Enter")
    cell_input = page.locator("#portal input.gdg-input, #portal textarea").first
    cell_input.wait_for()
    cell_input.fill("1.5")
    cell_input.press("Enter")
    page.get_by_text("1.5 does not fit a's dtype uint8").first.wait_for()
    wait_for_app(page)
    assert "[ 4,  5,  6,  7]" in _code_block(page, ">>> a").inner_text()  # unchanged

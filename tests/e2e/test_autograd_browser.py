"""Real Chromium: cut the autograd graph with .detach() and watch the drawn graph change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app

GRAPH = ".st-key-autograd-graph"


def _node_texts(page: Any) -> list[str]:
    """Every text line graphviz drew in the graph's nodes."""
    texts: list[str] = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(`${sel} svg g.node text`))
             .map(t => t.textContent)""",
        GRAPH,
    )
    return texts


def test_detach_cuts_the_drawn_graph(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/Autograd_Lab")
    wait_for_app(page)
    page.locator(f"{GRAPH} svg g.node").first.wait_for()
    before = _node_texts(page)
    # the full graph: w and b both reach an AccumulateGrad, x needs no grad
    assert "→ w.grad" in before and "→ b.grad" in before
    assert "MulBackward0" in before and "SumBackward0" in before
    assert not any(t.startswith("w_d") for t in before)
    page.screenshot(path=str(tmp_path / "autograd_full.png"), full_page=True)

    page.locator(".st-key-autograd-cut").click()
    page.get_by_role("option", name="w.detach() in y = w·x + b", exact=True).click()
    wait_for_app(page)
    page.wait_for_function(
        """(sel) => Array.from(document.querySelectorAll(`${sel} svg g.node text`))
              .some(t => t.textContent === 'w_d')""",
        arg=GRAPH,
    )
    after = _node_texts(page)
    assert "w_d" in after  # the detached tensor, drawn apart from the graph
    assert "→ w.grad" not in after and "→ b.grad" in after  # the path to w is cut
    assert "MulBackward0" not in after and "AddBackward0" in after  # w_d * x needs no grad
    # the cut itself is drawn (a red dashed non-autograd line) and the grads follow
    cut_labels = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(`${sel} svg g.edge text`))
             .map(t => t.textContent)""",
        GRAPH,
    )
    assert any("detach()" in t for t in cut_labels)
    assert page.get_by_text("reached b").first.is_visible()
    page.screenshot(path=str(tmp_path / "autograd_detached.png"), full_page=True)

"""Real Chromium: download the Save tab's file; upload a checkpoint in the Load tab and see
the key-by-key comparison and the proof; then the same file in the Inspect tab."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from ptexplore.models import catalog
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_hostile_browser import HOSTILE, _injected

#: where to keep the screenshots for a human to look at (default: the test's tmp folder)
SHOTS = os.environ.get("PTX_SCREENSHOTS")


def _checkpoint() -> bytes:
    """SmallVGG with a 1000-class head, saved from DataParallel (prefix + head mismatch),
    plus one key of Markdown, HTML and links that must stay text."""
    sd = catalog.build_real("example:SmallVGG", 1000, seed=5).state_dict()
    buf = io.BytesIO()
    torch.save(
        {f"module.{k}": v for k, v in sd.items()} | {f"module.{HOSTILE}": torch.ones(1)}, buf
    )
    return buf.getvalue()


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    return shot


def _choose(page: Any, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox whose widget key is ``key``."""
    page.locator(f".st-key-{key.replace('.', '-')} [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_upload_a_checkpoint_and_see_the_comparison(
    server_url: str, page: Any, tmp_path: Path
) -> None:
    page.goto(f"{server_url}/Checkpoint_Lab")
    wait_for_app(page)
    page.get_by_text(".pth — what torch.save wrote").first.wait_for()
    _shot(page, tmp_path, "checkpoint_save.png")
    # the download is made when clicked (the server keeps only the layout): it is the file
    with page.expect_download() as got:
        page.get_by_role("button", name="Download SmallVGG.pth").click()
    saved = torch.load(got.value.path(), weights_only=True, map_location="cpu")
    want = catalog.build_real("example:SmallVGG", 10, seed=0).state_dict()
    assert saved["epoch"] == 3 and saved["stage"] == "finetune"
    assert all(torch.equal(saved["state_dict"][k], v) for k, v in want.items())

    page.get_by_role("tab", name="Load").click()
    wait_for_app(page)
    _choose(page, "checkpoints.model", "SmallVGG (example)")
    page.locator(".st-key-checkpoints-from").get_by_text("uploaded file").click()
    wait_for_app(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        {"name": "vgg_dp.pth", "mimeType": "application/octet-stream", "buffer": _checkpoint()}
    )
    wait_for_app(page)
    page.get_by_text("Key by key").first.wait_for()
    # every key has module. in front: nothing matches, and the page says what to do
    page.get_by_text("0 keys match").first.wait_for()
    assert page.get_by_text("strip it and 12 match").count() >= 1

    page.locator(".st-key-checkpoints-strip").get_by_text("strip a wrapper prefix").click()
    wait_for_app(page)
    page.get_by_text("Stripped").first.wait_for()
    table = page.locator("[data-testid='stDataFrame']:visible").first
    table.wait_for()
    # 10 matched parameters; the 1000-class head is a shape mismatch
    metrics = page.locator("[data-testid='stMetric']").all_inner_texts()
    joined = " | ".join(" ".join(m.split()) for m in metrics)
    assert "matched parameters 10" in joined, joined
    assert "shape mismatches 2" in joined, joined
    page.get_by_text("Proven by comparing tensors").first.wait_for()
    assert "unexpected (file only) 1" in joined, joined  # the hostile key, as data
    assert _injected(page) == []
    _shot(page, tmp_path, "checkpoint_load.png")

    page.get_by_role("tab", name="Inspect").click()
    wait_for_app(page)
    page.locator(".st-key-checkpoints-source").get_by_text("uploaded file").click()
    wait_for_app(page)
    page.get_by_text("Using").first.wait_for()  # the same file, kept for the session
    page.get_by_text("torch.save zip archive").first.wait_for()
    page.get_by_text("every state_dict key starts with").first.wait_for()
    assert _injected(page) == []
    _shot(page, tmp_path, "checkpoint_inspect.png")

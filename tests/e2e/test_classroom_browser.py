"""Real Chromium through HAProxy (``serve --replicas 2``): an uploaded photo's grid loads
(every image from the replica that holds the session's media), and a deep link opens the
linked demo."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_for_app
from tests.e2e.test_augment_browser import _photo


def test_upload_and_deep_link_through_the_proxy(
    classroom: tuple[str, subprocess.Popen[bytes], Path], page: Any, tmp_path: Path
) -> None:
    url, _, _ = classroom
    page.goto(f"{url}/Augmentation_Lab")
    wait_for_app(page)
    upload = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    upload.set_input_files(str(_photo(tmp_path / "gradient.jpg")))
    page.get_by_text("gradient.jpg · JPEG · mode RGB · 400×300").wait_for()
    wait_for_app(page)
    images = page.locator("[data-testid='stImage'] img")
    assert images.count() == 16
    # every tile decoded: a media request sent to the other replica would be a 404
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("PTXREPLICA") in {"r1", "r2"}

    page.goto(f"{url}/View_Reshape_Lab?view.method=reshape&view.shape=3,8&shared.seed=5")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("y = x.reshape(3, 8)").first.wait_for()
    assert "view.method=reshape" in page.url

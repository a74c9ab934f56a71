"""A hostile stranger in a real browser: every page fed Markdown, HTML, links, images,
colours and bare URLs through file names, checkpoint keys, typed text and JSON. The
rendered page must show them as text: no link, image or coloured span the app did not put
there, no exception box, no incident."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tests.e2e.conftest import wait_for_app

#: Every trick at once; all URLs point at evil.example and the colour marker is URGENT.
HOSTILE = (
    "[Download the fixed weights](http://evil.example/w) ![x](http://evil.example/i.png) "
    ":red[URGENT: reload with weights_only=False] www.evil.example/a <b>BOLD</b> `tick` "
    "http://evil.example/b <img src=http://evil.example/j.png>"
)
#: Shorter, and legal in a file name on every system.
HOSTILE_NAME = "[evil](http:__evil.example_p) :red[URGENT] www.evil.example"


def _injected(page: Any) -> list[str]:
    """Links, images and coloured text that came from the hostile strings."""
    found: list[str] = page.evaluate(
        """() => {
          const main = document.querySelector("[data-testid='stApp']");
          const out = [];
          // a link to this very page (a heading's anchor) carries the address, whose
          // deep-link query holds the typed text: only links elsewhere are injected
          const here = location.origin + location.pathname;
          for (const a of main.querySelectorAll("a[href]")) {
            const to = new URL(a.href);
            if (to.origin + to.pathname === here) continue;
            if (a.href.includes("evil")) out.push("link " + a.href);
          }
          for (const i of main.querySelectorAll("img[src]"))
            if (i.src.includes("evil")) out.push("image " + i.src);
          for (const s of main.querySelectorAll(".stMarkdownColoredText, span[style*=color]"))
            if (s.textContent.includes("URGENT")) out.push("colour " + s.textContent);
          for (const b of main.querySelectorAll("b, strong"))
            if (b.textContent.includes("BOLD")) out.push("html " + b.outerHTML);
          for (const e of main.querySelectorAll("[data-testid='stException']"))
            out.push("exception " + e.textContent.slice(0, 200));
          for (const e of main.querySelectorAll("[data-testid='stAlert']"))
            if (e.textContent.includes("Something went wrong on the server"))
              out.push("incident " + e.textContent.slice(0, 200));
          return out;
        }"""
    )
    return found


def _type(page: Any, key: str, text: str) -> None:
    box = page.locator(
        f".st-key-{key.replace('.', '-')} input, .st-key-{key.replace('.', '-')} textarea"
    )
    box.first.fill(text)
    box.first.press("Enter" if box.first.evaluate("e => e.tagName") == "INPUT" else "Control+Enter")
    wait_for_app(page)


def _clean(page: Any, where: str) -> None:
    wait_for_app(page)
    bad = _injected(page)
    assert bad == [], f"{where}: {bad}"


def _checkpoint() -> bytes:
    state = {HOSTILE: torch.zeros(2), "conv1.weight": torch.zeros(64, 3, 3, 3)}
    buf = io.BytesIO()
    torch.save({"state_dict": state, "epoch": HOSTILE}, buf)
    return buf.getvalue()


def _photo() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_hostile_text_stays_text_on_every_page(server_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{server_url}/Tensor_Lab")
    _clean(page, "tensor lab")
    for text in (HOSTILE, HOSTILE_NAME):  # refused for its length / echoed back as text
        _type(page, "tensors.shape", text)
        page.locator("[data-testid='stAlert']").first.wait_for()
        _clean(page, "tensor lab shape")

    page.goto(f"{server_url}/View_Reshape_Lab")
    wait_for_app(page)
    for key in ("view.source_shape", "view.shape"):
        for text in (HOSTILE, HOSTILE_NAME):
            _type(page, key, text)
            _clean(page, key)

    page.goto(f"{server_url}/Model_Explorer")
    wait_for_app(page)
    _type(page, "models.filter", HOSTILE)
    page.get_by_text("No module name contains").first.wait_for()
    _clean(page, "model filter")
    page.get_by_role("tab", name="Parameters").click()
    wait_for_app(page)
    page.get_by_text("uploaded file").click()
    wait_for_app(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        {"name": f"{HOSTILE_NAME}.pth", "mimeType": "application/octet-stream",
         "buffer": _checkpoint()}
    )  # fmt: skip
    wait_for_app(page)
    page.get_by_text("unexpected keys").first.wait_for()
    page.get_by_text("Which keys").first.click()
    _clean(page, "checkpoint keys")
    page.get_by_role("tab", name="Code").click()
    _clean(page, "model code tab")

    page.goto(f"{server_url}/Augmentation_Lab")
    wait_for_app(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        [
            {"name": f"{HOSTILE_NAME}.png", "mimeType": "image/png", "buffer": _photo()},
            {"name": f"{HOSTILE_NAME} 2.png", "mimeType": "image/png", "buffer": b"junk"},
        ]
    )
    wait_for_app(page)
    page.get_by_text("not an image in a supported format").first.wait_for()
    _clean(page, "upload names")
    page.get_by_role("tab", name="Export").click()
    wait_for_app(page)
    hostile_json = json.dumps(
        {"format": HOSTILE, "steps": [{"transform": HOSTILE, "params": {HOSTILE: 1}}]}
    )
    _type(page, "augment.import_text", hostile_json)
    page.get_by_role("button", name="Import").click()
    wait_for_app(page)
    page.get_by_text("not a ptexplore augmentation pipeline").first.wait_for()
    _clean(page, "pipeline JSON")
    steps = json.dumps({"steps": [{"transform": HOSTILE}, {"transform": "Resize"}]})
    _type(page, "augment.import_text", steps)
    page.get_by_role("button", name="Import").click()
    wait_for_app(page)
    page.get_by_text("is not a transform in the catalog").first.wait_for()
    _clean(page, "transform name")
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)

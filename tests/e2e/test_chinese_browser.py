"""Real Chromium at 1024×768 in 简体中文: every page opened by a ``?lang=zh`` link shows its
Chinese title, no label, button or metric cut, no columns overlapping, nothing wider than
the window; presenter mode too; the sidebar switches the language back and the address
follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ptexplore import i18n
from ptexplore.i18n import Lang
from ptexplore.pages import PAGES
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_projecting_browser import HIDDEN

#: Text that is cut: an element whose text is wider than its box while its overflow is
#: hidden (or ends in an ellipsis), and the columns of one row that overlap each other.
LAYOUT = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const cut = [];
  for (const el of main.querySelectorAll(
      "p, label, h1, h2, h3, [data-baseweb='tab'], [data-testid='stExpander'] summary")) {
    const style = getComputedStyle(el);
    if (el.offsetParent === null || !el.textContent.trim()) continue;
    const hides = style.overflow !== "visible" || style.textOverflow === "ellipsis";
    if (hides && el.scrollWidth > el.clientWidth + 1) cut.push(el.textContent.slice(0, 60));
  }
  const overlaps = [];
  for (const row of main.querySelectorAll("[data-testid='stHorizontalBlock']")) {
    const cols = Array.from(row.children).filter(c => c.offsetParent !== null)
      .map(c => c.getBoundingClientRect());
    for (let i = 1; i < cols.length; i++) {
      if (cols[i].top < cols[i - 1].bottom && cols[i].left < cols[i - 1].right - 1)
        overlaps.push(row.textContent.slice(0, 60));
    }
  }
  return {cut, overlaps, width: document.documentElement.scrollWidth};
}"""


def _path(file: str) -> str:
    return "" if file == "app.py" else file.split("_", 1)[1].removesuffix(".py")


#: what the first file uploader's button and size line show instead of Streamlit's English
UPLOADER = """() => {
  const zone = document.querySelector("[data-testid='stFileUploaderDropzone']");
  const p = zone.querySelector("button [data-testid='stMarkdownContainer'] p");
  const line = zone.querySelector("[data-testid='stFileUploaderDropzoneInstructions'] span");
  return {button: getComputedStyle(p, "::after").content,
          limit: getComputedStyle(line, "::after").content,
          hidden: parseFloat(getComputedStyle(p).fontSize)
                  + parseFloat(getComputedStyle(line).fontSize)};
}"""


def _fonts(page: Any, selector: str) -> list[str]:
    """The fonts Chromium drew the element's text with (DevTools' platform fonts)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return [f["familyName"] for f in used]


def _settled(page: Any) -> None:
    """The first page a browser opens draws grey skeletons (the sidebar's links too) until
    the widgets' code has loaded: wait for the widgets, not their placeholders."""
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")")


def _check(page: Any, where: str, shots: Path) -> None:
    _settled(page)
    found = page.evaluate(LAYOUT)
    assert found["cut"] == [] and found["overlaps"] == [], (where, found)
    assert found["width"] <= 1024, (where, found["width"])
    hidden = {text: px for text, px in page.evaluate(HIDDEN) if px > 1}
    assert hidden == {}, (where, hidden)
    page.screenshot(path=str(shots / f"{where}.png"))


def test_every_page_in_chinese_at_1024x768(server_url: str, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    with i18n.language(Lang.ZH):
        titles = {p.file: f"{p.icon} {i18n._(p.title)}" for p in PAGES}
        links = [f"{i}. {i18n._(p.title)}" for i, p in enumerate(PAGES, start=1)]
    try:
        page.goto(f"{server_url}/?lang=zh")
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("看见 PyTorch").first.wait_for()
        sidebar = page.locator("[data-testid='stSidebar']")
        _settled(page)
        for label in links:
            assert sidebar.get_by_text(label, exact=True).count() == 1
        _check(page, "home", tmp_path)
        for p in PAGES:
            page.goto(f"{server_url}/{_path(p.file)}?lang=zh")
            wait_for_app(page)
            page.get_by_role("heading", name=titles[p.file]).first.wait_for()
            _check(page, p.key, tmp_path)
            if p.key == "augment":  # Streamlit's uploader: its words replaced, ours shown
                said = page.evaluate(UPLOADER)
                assert said == {"button": '"上传"', "limit": '"每个文件最多 50 MB"', "hidden": 0}
        # presenter mode from a link: larger type (from the first run on), every page
        for p in PAGES:
            page.goto(f"{server_url}/{_path(p.file)}?lang=zh&shared.presenter=true")
            wait_for_app(page)
            page.get_by_role("heading", name=titles[p.file]).first.wait_for()
            root = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
            assert root == "20px", (p.key, root)
            _check(page, f"{p.key}-presenter", tmp_path)

        # the page says it is Chinese: Han text in Simplified Chinese glyphs (without the
        # language, Noto Sans CJK draws Japanese ones)
        page.goto(f"{server_url}/View_Reshape_Lab?lang=zh")
        wait_for_app(page)
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        assert "Noto Sans CJK SC" in _fonts(page, "[data-testid='stMain'] h1")
        # the sidebar switches back to English; the address drops ?lang (the default)
        sidebar.get_by_role("radio", name="English").click()
        wait_for_app(page)
        page.get_by_role("heading", name="🧮 view() / reshape lab").first.wait_for()
        page.wait_for_function("() => !location.search.includes('lang=')")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        sidebar.get_by_role("radio", name="简体中文").click()
        wait_for_app(page)
        page.get_by_role("heading", name="🧮 view() / reshape 实验室").first.wait_for()
        page.wait_for_function("() => location.search.includes('lang=zh')")
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    finally:
        context.close()

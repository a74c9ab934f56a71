"""The landing page lists every page of the learning path, each with a working link."""

from ptexplore.pages import ALL_PAGES, PAGES
from tests.conftest import ROOT, open_page


def test_landing_renders_a_card_per_page() -> None:
    at = open_page()
    assert not at.exception
    assert at.title[0].value.startswith("🔦 ptexplore")
    links = [el.proto.page for el in at.main.get("page_link")]
    assert len(links) == len(PAGES)
    for page in PAGES:
        assert (ROOT / page.file).is_file(), page.file


def test_every_page_file_is_registered() -> None:
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
    known = {p.file for p in ALL_PAGES}
    assert files, "no pages yet"
    assert set(files) <= known
    assert files == sorted(p.file for p in PAGES)


def test_presenter_mode_enlarges_text_on_every_page() -> None:
    from tests.conftest import open_page

    at = open_page("pages/3_Model_Explorer.py")
    styles = [h.proto.body for h in at.get("html") if "<style>" in h.proto.body]
    assert styles and "font-size: 125%" not in styles[0]
    at.toggle(key="shared.presenter").set_value(True).run()
    at.switch_page("pages/2_View_Reshape_Lab.py").run()
    assert not at.exception
    styles = [h.proto.body for h in at.get("html") if "<style>" in h.proto.body]
    assert "html { font-size: 125%; }" in styles[0]
    assert at.toggle(key="shared.presenter").value is True


def test_photo_credits_are_in_the_app() -> None:
    from tests.conftest import open_page

    at = open_page("app.py")
    assert any("Stefan van der Walt, CC0" in c.value for c in at.caption)
    assert not any("README" in c.value for c in at.caption)

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

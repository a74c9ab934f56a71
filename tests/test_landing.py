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


def test_a_class_server_shows_its_address_and_a_qr_code_that_decodes_to_it(
    monkeypatch: object,
) -> None:
    import io

    import numpy as np
    from PIL import Image

    from ptexplore.classroom import CLASS_URL_ENV, qr_png
    from tests.conftest import open_page

    monkeypatch.setenv(CLASS_URL_ENV, "http://192.168.1.20:8501")  # type: ignore[attr-defined]
    at = open_page()
    assert any("`http://192.168.1.20:8501`" in m.value for m in at.markdown)
    assert any("Served to a class" in c.value for c in at.caption)
    (img,) = at.get("image")
    assert img.proto.imgs[0].caption == "Scan to open"
    assert img.proto.imgs[0].url.endswith(".png")  # lossless: no JPEG blur on the modules
    # the QR image is a real QR code: dark finder squares in three corners, light border
    px = np.asarray(Image.open(io.BytesIO(qr_png("http://192.168.1.20:8501"))).convert("L"))
    scale, border = 8, 2
    corner = px[border * scale : (border + 7) * scale, border * scale : (border + 7) * scale]
    assert corner[0].max() == 0 and corner[3 * scale + 4, 3 * scale + 4] == 0  # ring and core
    assert px[0].min() == 255  # quiet zone


def test_a_teacher_in_chinese_shares_an_address_that_opens_in_chinese(monkeypatch: object) -> None:
    from ptexplore.classroom import CLASS_URL_ENV
    from ptexplore.i18n import LANG_ENV
    from tests.conftest import open_page

    monkeypatch.setenv(CLASS_URL_ENV, "http://192.168.1.20:8501")  # type: ignore[attr-defined]
    at = open_page(lang="zh")
    assert any("`http://192.168.1.20:8501/?lang=zh`" in m.value for m in at.markdown)
    at.session_state["shared.lang"] = "en"  # back to the server's language: the plain address
    at.run()
    assert any(m.value == "### `http://192.168.1.20:8501`" for m in at.markdown)
    monkeypatch.setenv(LANG_ENV, "zh")  # type: ignore[attr-defined]
    at = open_page()  # a server started with --lang zh: the plain address opens in Chinese
    assert any(m.value == "### `http://192.168.1.20:8501`" for m in at.markdown)


def test_a_single_user_server_shows_no_class_address(monkeypatch: object) -> None:
    from ptexplore.classroom import CLASS_URL_ENV
    from tests.conftest import open_page

    monkeypatch.delenv(CLASS_URL_ENV, raising=False)  # type: ignore[attr-defined]
    at = open_page()
    assert not at.get("image")
    assert any("listens on 127.0.0.1 only" in c.value for c in at.caption)
    monkeypatch.setenv(CLASS_URL_ENV, "javascript:alert(1)")  # type: ignore[attr-defined]
    assert not open_page().get("image")  # only an http:// address is ever shown

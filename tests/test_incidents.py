"""A bug on a page (an exception that is not a LessonError) is an incident: the server log
gets the page, the config and the traceback under a short id; the page shows one plain
sentence with that id — no traceback, no blank page, and the rest of the page still works."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from ptexplore.ui.render import INCIDENT_TEXT, STRICT_ENV
from tests.conftest import open_page, open_tab


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Records]:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    handler = _Records()
    logger = logging.getLogger("ptexplore")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _boom(*_args: object, **_kw: object) -> object:
    raise ZeroDivisionError("a bug deep inside the library")


def test_unexpected_exception_is_logged_with_an_incident_id_shown_on_the_page(
    server_log: _Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ptexplore.ui.view as view_ui

    monkeypatch.setattr(view_ui, "run_lab", _boom)
    at = open_page("pages/2_View_Reshape_Lab.py")
    assert not at.exception  # no traceback box
    shown = [e.value for e in at.error if INCIDENT_TEXT in e.value]
    assert len(shown) == 1
    match = re.search(r"incident `([0-9a-f]{8})`", shown[0])
    assert match, shown[0]
    incident = match.group(1)
    assert "ZeroDivisionError" not in shown[0] and "Traceback" not in shown[0]
    # the widgets above the failed part still render
    assert at.text_input(key="view.source_shape").value == "2, 3, 4"
    logged = [r for r in server_log.records if incident in r.getMessage()]
    assert len(logged) == 1
    record = logged[0]
    assert record.levelno == logging.ERROR and record.name == "ptexplore.view.lab"
    assert "LabConfig(source_shape=(2, 3, 4)" in record.getMessage()  # the config
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    text = logging.Formatter().formatException(record.exc_info)
    assert "a bug deep inside the library" in text and "_boom" in text  # the traceback


def test_an_incident_in_one_tab_leaves_the_other_tabs_working(
    server_log: _Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ptexplore.ui.tensors.lessons as tensors_ui

    monkeypatch.setattr(tensors_ui, "item_result", _boom)
    at = open_tab(open_page("pages/1_Tensor_Lab.py"), "tensors", "🔢 .item()")
    assert any(INCIDENT_TEXT in e.value for e in at.error)
    assert any(r.name == "ptexplore.tensors.item" for r in server_log.records)
    open_tab(at, "tensors", "🔗 Memory sharing")
    assert not at.error
    assert next(m.value for m in at.metric if m.label == "verdict") == "🔗 SHARED"

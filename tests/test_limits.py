"""Limits live in one module, and heavy work queues on one process-wide semaphore."""

from __future__ import annotations

import ast
import threading
import time

import pytest

from ptexplore import limits
from ptexplore.errors import LessonError
from tests.conftest import ROOT

#: Top-level MAX_* names outside limits.py that are display sizes, not bounds on input or
#: work (how many panels to draw, how tall a figure, how many lines to print).
DISPLAY = {"MAX_PANELS", "MAX_TEXT_CELLS", "MAX_TEXT_ACROSS", "MAX_HEIGHT", "MAX_ITEMS_SHOWN",
           "MAX_SLIDER_POSITIONS", "DISPLAY_MAX_SIDE"}  # fmt: skip


def test_every_limit_is_defined_in_limits_py() -> None:
    offenders = []
    for path in (ROOT / "ptexplore").rglob("*.py"):
        if path.name == "limits.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and "MAX_" in t.id and t.id not in DISPLAY:
                        offenders.append(f"{path.relative_to(ROOT)}: {t.id}")
    assert offenders == []


def _hold(slot_taken: threading.Event, release: threading.Event) -> None:
    with limits.heavy("someone else's benchmark"):
        slot_taken.set()
        release.wait(10)


@pytest.mark.skipif(limits.HEAVY_SLOTS != 1, reason="measures one slot (2-core default)")
def test_a_heavy_job_waits_for_the_slot_and_says_so() -> None:
    taken, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(taken, release))
    holder.start()
    taken.wait(10)
    said: list[str] = []
    limits.on_wait(said.append)
    try:
        threading.Timer(0.3, release.set).start()
        t0 = time.monotonic()
        with limits.heavy("your grid"):
            waited = time.monotonic() - t0
    finally:
        limits.on_wait(None)
        holder.join()
    assert said == ["your grid"] and waited >= 0.25


def test_heavy_is_reentrant_and_cheap_work_never_waits() -> None:
    with limits.heavy("outer"), limits.heavy("inner: the same thread holds the slot"):
        assert limits.heavy_depth() == 2
    assert limits.heavy_depth() == 0


@pytest.mark.skipif(limits.HEAVY_SLOTS != 1, reason="measures one slot (2-core default)")
def test_a_job_that_waits_too_long_gets_a_lesson(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "HEAVY_WAIT_S", 0.2)
    taken, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(taken, release))
    holder.start()
    taken.wait(10)
    try:
        with (
            pytest.raises(LessonError, match="The server is busy") as info,
            limits.heavy("your benchmark"),
        ):
            pass
        assert "Try again in a minute" in info.value.fix
    finally:
        release.set()
        holder.join()

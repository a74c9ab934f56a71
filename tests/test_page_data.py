"""AppTest: the DataLoader lab page — a 2-worker run renders its timeline and order tables,
a rerun that changed nothing starts no process, torch's refusal and a worker's exception
are shown; and every tab's code panel prints, in a fresh interpreter run from another
folder, exactly what the page shows."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ptexplore.data.loader import PHOTOS
from ptexplore.data.workers import alive
from ptexplore.images.samples import SAMPLES_DIR
from tests.conftest import open_page, open_tab
from tests.fresh import fresh
from tests.test_code_panels import panel

PAGE = "pages/7_DataLoader_Lab.py"
RUN = "🚚 DataLoader run"


def _chart(at: AppTest, key: str) -> dict[str, object]:
    for el in at.get("plotly_chart"):
        if key in el.proto.id:
            spec: dict[str, object] = json.loads(el.proto.spec)
            return spec
    raise AssertionError(f"no plotly chart with key {key}")


def _pids(at: AppTest) -> list[int]:
    text = next(c.value for c in at.caption if "worker process(es) started" in c.value)
    found = re.search(r"pids ([\d, ]+)\)", text)
    assert found is not None, text
    return [int(p) for p in found.group(1).split(", ")]


def _frames(at: AppTest) -> list[object]:
    return [d.value for d in at.dataframe]


@pytest.fixture(scope="module")
def run_tab() -> AppTest:
    at = open_page(PAGE)
    open_tab(at, "data", RUN)
    at.slider(key="data.num_workers").set_value(2)
    at.slider(key="data.n").set_value(8).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_two_worker_run_renders_the_timeline_and_the_order_tables(run_tab: AppTest) -> None:
    at = run_tab
    assert not at.error, [e.value for e in at.error]
    timeline = _chart(at, "data.timeline")
    items = next(t for t in timeline["data"] if t["name"].startswith("__getitem__"))  # type: ignore[index, union-attr]
    assert len(items["x"]) == 8 and set(items["y"]) == {"worker 0", "worker 1"}
    startup = next(t for t in timeline["data"] if t["name"].startswith("start-up"))  # type: ignore[index, union-attr]
    assert set(startup["y"]) == {"worker 0", "worker 1"} and min(startup["x"]) > 0
    _chart(at, "data.prefetch")
    orders, batches = _frames(at)[:2]
    assert list(orders.loc["sampler order"]) == list(orders.loc["yielded by the loader"])  # type: ignore[attr-defined]
    called = orders.loc["__getitem__ called (start time)"]  # type: ignore[attr-defined]
    assert sorted(int(i) for i in called) == list(range(8))
    assert list(batches["built by"]) == ["worker 0", "worker 1", "worker 0", "worker 1"]  # type: ignore[index]
    assert any("Yielded in the sampler's order: **True**" in m.value for m in at.markdown)
    pids = _pids(at)
    assert len(pids) == 2 and not any(alive(p) for p in pids)
    assert any("alive after the run: **0**" in c.value for c in at.caption)


def test_a_rerun_that_changed_nothing_starts_no_process(run_tab: AppTest) -> None:
    at = run_tab
    before = _pids(at)
    t0 = time.perf_counter()
    at.run()
    assert time.perf_counter() - t0 < 2.0
    assert _pids(at) == before  # the remembered run, not a new one
    at.button(key="data.run_again").click().run()
    assert not at.exception
    assert _pids(at) != before  # a new run: new worker processes


def test_torchs_refusal_and_a_workers_exception_are_shown() -> None:
    at = open_page(PAGE)
    open_tab(at, "data", RUN)
    at.slider(key="data.num_workers").set_value(0)
    at.toggle(key="data.persistent").set_value(True).run()
    assert not at.exception
    assert any("persistent_workers option needs num_workers" in e.value for e in at.error)
    at.toggle(key="data.persistent").set_value(False)
    at.slider(key="data.num_workers").set_value(2)
    at.toggle(key="data.shuffle").set_value(False)
    at.selectbox(key="data.fail_at").set_value("5").run()
    assert not at.exception
    (err,) = [e.value for e in at.error]
    assert "Caught ValueError in DataLoader worker process 0." in err
    assert "ValueError: item 5 is corrupt" in err
    assert not any(alive(p) for p in _pids(at))


# ------------------------------------------------------------------ code-panel contract


def _tab(label: str, act: Callable[[AppTest], object] = lambda at: None) -> Callable[[], AppTest]:
    def make() -> AppTest:
        at = open_page(PAGE)
        open_tab(at, "data", label)
        act(at)
        at.run()
        return at

    return make


def _run_failing(at: AppTest) -> None:
    at.selectbox(key="data.fail_at").set_value("3")
    at.toggle(key="data.persistent").set_value(True)
    at.slider(key="data.epochs").set_value(2)


def _run_photos_no_workers(at: AppTest) -> None:
    at.selectbox(key="data.work").set_value("decode + augment")
    at.slider(key="data.num_workers").set_value(0)
    at.slider(key="data.n").set_value(4)


def _sweep_small(at: AppTest) -> None:
    at.slider(key="data.sw_n").set_value(6)
    at.slider(key="data.sw_max").set_value(2)


CASES: dict[str, Callable[[], AppTest]] = {
    "dataset": _tab("📜 The Dataset"),
    "run-default": _tab(RUN),
    "run-failing-persistent": _tab(RUN, _run_failing),
    "run-photos-main-process": _tab(RUN, _run_photos_no_workers),
    "sweep": _tab("⏱️ Workers vs time", _sweep_small),
    "seeds": _tab("🎲 Worker seeds", lambda at: at.slider(key="data.sd_workers").set_value(3)),
    "epochs": _tab("🔁 Epochs"),
    "split": _tab("✂️ random_split"),
    "concat-out-of-range": _tab(
        "➕ ConcatDataset", lambda at: at.number_input(key="data.cc_index").set_value(12)
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_code_panel_prints_what_the_page_shows(case: str, tmp_path: Path) -> None:
    code, shown = panel(CASES[case]())
    assert shown.strip(), "the page must show what its code prints"
    assert "ptexplore" not in code  # runs where only torch, torchvision, numpy, PIL are
    for name in PHOTOS:  # a learner's photos, in the folder the script runs in
        shutil.copy(SAMPLES_DIR / name, tmp_path / name)
    assert fresh(code, tmp_path).rstrip("\n") == shown.rstrip("\n")

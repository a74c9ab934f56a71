"""Boxes truths, measured: each trap reproduces on this torchvision, and each script prints
the same in a fresh interpreter where ptexplore cannot be imported (all in one process)."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
import tempfile
import time

import pytest

from ptexplore.augment.box_truths import (
    Trap,
    TrapResult,
    all_traps,
    run_trap,
    trap_code,
)
from ptexplore.errors import InputError
from ptexplore.live import run

SEEDS = (0, 1, 7)
#: What the scripts may import: what a learner has at home, and the standard library.
ALLOWED_IMPORTS = {"torch", "torchvision", "numpy", "PIL", "json", "os", "tempfile"}


@pytest.fixture(scope="module")
def traps() -> dict[Trap, TrapResult]:
    return {r.trap: r for r in all_traps(0)}


def test_every_trap_is_described_runs_fast_and_holds(traps: dict[Trap, TrapResult]) -> None:
    assert list(traps) == list(Trap)
    for trap, r in traps.items():
        assert r.title and r.myth and r.fix and len(r.explanation) > 200, trap
        assert "\n" not in r.myth and "\n" not in r.fix, trap
        assert r.holds, (trap, r.facts)
        assert r.snippet.code == r.code and r.snippet.output == r.output
        assert "torch.manual_seed(0)" in r.code and "__SEED__" not in r.code
        assert "0x" not in r.output  # nothing process-specific is printed
        assert r.warnings == (), trap  # torchvision warns about none of these traps
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.seed = 1  # type: ignore[misc]
        hash(r)
        start = time.perf_counter()
        run(trap_code(trap, 3))  # uncached: the script itself
        assert time.perf_counter() - start < 1.0, trap


def test_scripts_import_only_what_a_learner_has() -> None:
    for trap in Trap:
        tree = ast.parse(trap_code(trap))
        names = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        names |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert names <= ALLOWED_IMPORTS, (trap, names - ALLOWED_IMPORTS)
        assert len([ln for ln in trap_code(trap).splitlines() if ln.strip()]) <= 34, trap


def test_a_plain_tensor_is_untouched_while_bounding_boxes_move(
    traps: dict[Trap, TrapResult],
) -> None:
    r = traps[Trap.PLAIN_TENSOR]
    assert r.fact("plain_unchanged") is True and r.fact("plain_same_object") is True
    assert r.fact("boxes_changed") is True
    assert r.fact("plain_out") == r.fact("boxes_in")
    # flip on W=200 (x -> 200 - x, x1/x2 swapped), then resize to 50x100 (x0.5)
    assert r.fact("boxes_out") == ((70.0, 10.0, 95.0, 40.0), (5.0, 5.0, 40.0, 25.0))
    assert r.fact("image_out") == (3, 50, 100)
    assert "plain tensor unchanged: True" in r.output


@pytest.mark.parametrize("seed", SEEDS)
def test_iou_crop_leaves_degenerate_boxes_and_sanitize_removes_them(seed: int) -> None:
    r = run_trap(Trap.IOU_CROP_SANITIZE, seed)
    assert f"torch.manual_seed({seed})" in r.code
    bad = r.fact("degenerate_without")
    assert isinstance(bad, int) and bad > 0
    assert r.fact("degenerate_with") == 0
    assert r.fact("boxes_out_without") == r.fact("boxes_in") == 40  # zeroed, not removed
    assert r.fact("boxes_out_with") == 40 - bad  # the same crops, exactly those removed
    assert f"{bad} under 1 px" in r.output and " 0 under 1 px" in r.output


def test_the_default_labels_getter_refuses_a_three_tuple(traps: dict[Trap, TrapResult]) -> None:
    r = traps[Trap.LABELS_GETTER]
    assert r.error is not None and r.error.kind == "ValueError"
    assert r.error.message.startswith(
        "When using the default labels_getter, the input passed to forward must be a dictionary "
        "or a two-tuple whose second item is a dictionary or a tensor, but got BoundingBoxes("
    )
    assert r.fact("tuple_error") == r.error.message
    assert r.output.endswith(r.error.line + "\n")
    assert r.fact("dict") == (1, (1,))
    assert r.fact("swapped") == (1, (1,))  # a plain tensor second: taken as the labels
    assert r.fact("getter_callable") == (1, (1,))
    assert r.fact("getter_none") == (1, (1, 2))  # boxes filtered, labels not: misaligned


def test_xywh_declared_xyxy_is_silently_wrong(traps: dict[Trap, TrapResult]) -> None:
    r = traps[Trap.XYWH_AS_XYXY]
    assert r.fact("warned") is False and r.warnings == ()
    assert r.fact("wrong_xyxy") == ((10.0, 20.0, 50.0, 60.0), (120.0, 30.0, 40.0, 20.0))
    assert r.fact("right_xyxy") == ((10.0, 20.0, 60.0, 80.0), (120.0, 30.0, 160.0, 50.0))
    assert r.fact("wrong_flipped") == ((150.0, 20.0, 190.0, 60.0), (160.0, 30.0, 80.0, 20.0))
    assert r.fact("right_flipped") == ((140.0, 20.0, 190.0, 80.0), (40.0, 30.0, 80.0, 50.0))
    assert r.fact("wrong_flipped") != r.fact("right_flipped")
    assert r.fact("sanitize_kept") == 1 and r.fact("boxes") == 2  # the inverted one dropped
    assert r.error is not None and r.error.kind == "ValueError"
    assert r.error.message.startswith("Boxes need to be in (xmin, ymin, xmax, ymax) format")


def test_semantic_masks_under_sanitize_as_measured(traps: dict[Trap, TrapResult]) -> None:
    r = traps[Trap.SEMANTIC_MASK]
    assert r.error is None and r.fact("raised") is False
    assert r.fact("boxes") == (3, 2) and r.fact("labels_out") == (1, 3)
    assert r.fact("instances_out") == (2, 50, 100)  # the removed box's row is gone
    assert r.fact("semantic_out") == (50, 100)  # H×W: cropped, passed through by Sanitize
    assert r.fact("semantic_ids") == (0, 1, 3)  # class 2's pixels were cropped away
    assert r.fact("semantic_plain_out") == (100, 200)  # a plain tensor is not even cropped
    assert r.fact("semantic_1hw_lost") == (0, 50, 100)  # 1×H×W with one box: indexed away
    assert r.fact("semantic_popped") == (1, 50, 100)  # the fix keeps it
    assert r.fact("popped_boxes_left") == 0


def test_transform_leaves_the_boxes_and_transforms_moves_them(
    traps: dict[Trap, TrapResult],
) -> None:
    r = traps[Trap.TRANSFORM_VS_TRANSFORMS]
    assert r.fact("box_x1_before") == r.fact("object_x1_before") == 10.0
    assert r.fact("object_x1_transform") == 140.0 and r.fact("box_x1_transform") == 10.0
    assert r.fact("object_x1_transforms") == r.fact("box_x1_transforms") == 140.0
    assert "class TinyCoco(datasets.CocoDetection)" in r.code


def test_a_seed_out_of_range_is_a_lesson_error() -> None:
    for bad in (-1, 2**32, True):
        with pytest.raises(InputError) as caught:
            run_trap(Trap.PLAIN_TENSOR, bad)
        assert caught.value.fix
    with pytest.raises(ValueError):
        run_trap("no such trap", 0)  # type: ignore[arg-type]


DRIVER = r"""
import contextlib, io, json, sys, traceback, warnings


class NotInstalled:  # a learner's machine: torch, torchvision, numpy, PIL; no ptexplore
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "ptexplore":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled)
try:
    import ptexplore
    blocked = False
except ModuleNotFoundError:
    blocked = True
results = []
for code in json.load(sys.stdin):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(code, "script.py", "exec"), {"__name__": "__main__"})
        except Exception as err:
            print("".join(traceback.format_exception_only(type(err), err)).strip())
    results.append({"output": out.getvalue(), "warnings": [str(w.message) for w in caught]})
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "ptexplore")
json.dump({"blocked": blocked, "loaded": loaded, "results": results}, sys.stdout)
"""


def test_every_script_prints_the_same_in_a_fresh_interpreter_without_ptexplore() -> None:
    seed = 3
    results = [run_trap(t, seed) for t in Trap]
    proc = subprocess.run(
        [sys.executable, "-I", "-c", DRIVER],
        input=json.dumps([r.code for r in results]),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(proc.stdout)
    assert got["blocked"] is True and got["loaded"] == []
    for r, fresh in zip(results, got["results"], strict=True):
        assert fresh["output"] == r.output, r.trap
        assert fresh["warnings"] == [w.message for w in r.warnings], r.trap

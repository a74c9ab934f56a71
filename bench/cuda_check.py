"""Exercise the Tensor lab's CUDA paths for real and print a PASS/FAIL table (< 60 s).

Needs only torch, numpy and the ptexplore package (run from the repo root, or with it on
PYTHONPATH):  python bench/cuda_check.py
Without CUDA it says so and exits 0: nothing is simulated. Exit status 1 if any check fails.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path as FsPath

sys.path.insert(0, str(FsPath(__file__).resolve().parent.parent))

import numpy as np
import torch

from ptexplore.tensors import (
    Action,
    Bridge,
    ErrorCase,
    Hop,
    LabSpec,
    Outcome,
    Verdict,
    code_for,
    cuda_available,
    id_lesson,
    new_lab,
    run_error_lesson,
)

Check = Callable[[], str]
BASE = np.arange(12, dtype=np.float64).reshape(3, 4)


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def check_from_numpy_cuda_is_a_copy() -> str:
    lab = new_lab(LabSpec(bridge=Bridge.FROM_NUMPY, hop=Hop.CUDA))
    rep = lab.report()
    _expect(lab.t.device.type == "cuda", f"device {lab.t.device}")
    _expect(rep.device.startswith("cuda"), rep.device)
    _expect(not rep.same_ptr, "data_ptr equals a's address")
    _expect(rep.shares_memory is None and rep.verdict is Verdict.SEPARATE, str(rep.verdict))
    _expect(torch.equal(lab.t.cpu(), torch.from_numpy(BASE)), "values differ after copy")
    return f"t on {rep.device}, t.data_ptr()={rep.t_ptr:#x} vs a={rep.np_ptr:#x}: SEPARATE"


def check_numpy_mutation_does_not_reach_gpu() -> str:
    lab = new_lab(LabSpec(hop=Hop.CUDA))
    rec = lab.apply(Action.NP_IADD)
    _expect(rec.a_changed and not rec.t_changed and not rec.followed, str(rec))
    _expect(torch.equal(lab.t.cpu(), torch.from_numpy(BASE)), "GPU tensor changed")
    return "a += 1 changed a only"


def check_gpu_mutation_does_not_reach_numpy() -> str:
    lab = new_lab(LabSpec(hop=Hop.CUDA))
    rec = lab.apply(Action.T_ADD)
    _expect(rec.t_changed and not rec.a_changed and not rec.followed, str(rec))
    np.testing.assert_array_equal(lab.a, BASE)
    _expect(torch.equal(lab.t.cpu(), torch.from_numpy(BASE + 1)), "t.add_(1) not applied")
    return "t.add_(1) on GPU changed t only"


def check_cuda_cpu_round_trip_is_another_copy() -> str:
    lab = new_lab(LabSpec(hop=Hop.CUDA_CPU))
    rep = lab.report()
    _expect(lab.t.device.type == "cpu", str(lab.t.device))
    _expect(rep.shares_memory is False and not rep.same_ptr, str(rep))
    rec = lab.apply(Action.NP_SET, 42.0)
    _expect(not rec.followed and lab.t[0, 0].item() == 0.0, "round trip shares with a")
    return "from_numpy(a).cuda().cpu(): np.shares_memory False, a[0,0]=42 not seen by t"


def check_numpy_on_cuda_is_the_lesson() -> str:
    t = torch.ones(3, device="cuda")
    try:
        t.numpy()
    except TypeError as err:
        raw = str(err)
    else:
        raise AssertionError("t.numpy() on CUDA did not raise")
    lesson = run_error_lesson(ErrorCase.CUDA)  # the page quotes torch's own words
    _expect(raw.split(".")[0] in lesson.message, lesson.message)
    return f"TypeError: {raw[:70]}…  → fix: t.cpu().numpy()"


def check_error_lesson_runs_live() -> str:
    lesson = run_error_lesson(ErrorCase.CUDA)
    _expect(lesson.outcome is Outcome.ERROR, lesson.outcome)
    _expect(lesson.error_type == "TypeError", lesson.error_type)
    _expect(lesson.fix_result.startswith("array(") and lesson.fix_shares is False, str(lesson))
    return f"{lesson.error_type}: {lesson.message[:60]}…"


def check_id_lesson_and_code() -> str:
    lab = new_lab(LabSpec(hop=Hop.CUDA))
    _expect(id_lesson(lab.t) is None, "id lesson on a CUDA tensor")
    lab.apply(Action.NP_IADD)
    lab.apply(Action.T_ADD)
    ns: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):  # keep the PASS/FAIL table readable
        exec(code_for(lab), ns)
    t = ns["t"]
    _expect(isinstance(t, torch.Tensor) and t.device.type == "cuda", "generated code device")
    _expect(torch.equal(t.cpu(), lab.t.cpu()), "generated code disagrees with the lab")
    return "generated code reproduces the GPU lab"


CHECKS: list[tuple[str, Check]] = [
    ("from_numpy(a).cuda() is a copy", check_from_numpy_cuda_is_a_copy),
    ("a += 1 does not reach the GPU copy", check_numpy_mutation_does_not_reach_gpu),
    ("t.add_(1) on GPU does not reach a", check_gpu_mutation_does_not_reach_numpy),
    (".cuda().cpu() is another copy", check_cuda_cpu_round_trip_is_another_copy),
    (".numpy() on CUDA → lesson (.cpu())", check_numpy_on_cuda_is_the_lesson),
    ("error-lesson tab runs it live", check_error_lesson_runs_live),
    ("id lesson / generated code", check_id_lesson_and_code),
]


def main() -> int:
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    if not cuda_available():
        print(
            "CUDA is not available on this machine (torch.cuda.is_available() is False): "
            "no CUDA path can be checked here, and nothing is simulated. Run this on a GPU."
        )
        return 0
    print(f"GPU: {torch.cuda.get_device_name(0)}")
    rows: list[tuple[str, str, str]] = []
    start = time.perf_counter()
    for name, check in CHECKS:
        try:
            detail = check()
            rows.append(("PASS", name, detail))
        except Exception as err:  # report every failure, keep going
            rows.append(("FAIL", name, f"{type(err).__name__}: {err}"))
            traceback.print_exc()
    width = max(len(n) for _, n, _ in rows)
    print(f"\n{'result':6s}  {'check':{width}s}  detail")
    for status, name, detail in rows:
        print(f"{status:6s}  {name:{width}s}  {detail}")
    failed = sum(status == "FAIL" for status, _, _ in rows)
    print(f"\n{len(rows) - failed}/{len(rows)} passed in {time.perf_counter() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

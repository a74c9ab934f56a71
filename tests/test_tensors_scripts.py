"""The command-line checks: bench/cuda_check.py is honest without a GPU; codegen for CUDA."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ptexplore.tensors import Hop, LabSpec, cuda_available, lab_code
from tests.conftest import ROOT


@pytest.mark.skipif(cuda_available(), reason="checks the no-CUDA message")
def test_cuda_check_says_unavailable_and_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/cuda_check.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "CUDA is not available" in proc.stdout
    assert "PASS" not in proc.stdout and "FAIL" not in proc.stdout


def test_conversion_bench_prints_four_paths_with_ratios() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/tensor_conversion.py", "--sizes", "300", "--repeats", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "all four equal (torch.equal): True" in out
    for path in ("torch.tensor(list)", "torch.from_numpy(np.stack(list))"):
        assert path in out
    assert out.count("×") >= 4


def test_cuda_code_never_calls_numpy_on_the_gpu_tensor() -> None:
    code = lab_code(LabSpec(hop=Hop.CUDA))
    assert "t = t.cuda()" in code
    assert "t.numpy()" not in code
    round_trip = lab_code(LabSpec(hop=Hop.CUDA_CPU))
    assert "t = t.cuda().cpu()" in round_trip and "np.shares_memory(a, t.numpy())" in round_trip

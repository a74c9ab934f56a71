"""List of (7, 7, 3) arrays → one tensor: the four paths' times and ratios, equality asserted.

Run:  .venv/bin/python bench/tensor_conversion.py [--sizes 10000,100000] [--repeats 3]
Uses the same library code as the Tensor lab page (ptexplore.tensors.bench).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path as FsPath

sys.path.insert(0, str(FsPath(__file__).resolve().parent.parent))

import torch

from ptexplore.runtime import configure_process
from ptexplore.tensors.bench import (
    BenchDtype,
    Path,
    fmt_seconds,
    machine_description,
    run_benchmark,
    slow_path_warning,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated N values")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=[d.value for d in BenchDtype], default="float32")
    args = parser.parse_args(argv)
    configure_process()  # the server's setting (1 intra-op thread unless overridden)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"machine: {machine_description()}")
    print(f"torch's own warning: {slow_path_warning()!r}")
    for n in sizes:
        result = run_benchmark(n, args.repeats, BenchDtype(args.dtype), scaling=False, capped=False)
        assert result.all_equal, "paths disagree"
        print(
            f"\nN = {n:,} arrays of (7, 7, 3) {args.dtype} → {result.out_shape} "
            f"{result.out_dtype}; median of {result.repeats}; all four equal (torch.equal): "
            f"{result.all_equal}"
        )
        for t in result.timings:
            runs = ", ".join(fmt_seconds(s) for s in t.times_s)
            print(f"  {t.path.value:34s} {fmt_seconds(t.median_s):>9s}  {t.ratio:7.1f}×  [{runs}]")
        slow = result.timing(Path.TENSOR_LIST).median_s
        fast = [t.median_s for t in result.timings if t.path is not Path.TENSOR_LIST]
        print(
            f"  → torch.tensor(list) is {slow / max(fast):.0f}–{slow / min(fast):.0f}× slower "
            "than the numpy-first paths"
        )
    print(f"\ntorch threads: {torch.get_num_threads()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The data-flow graph's cost: trace + fold + layout data (DOT) per torchvision classifier,
with torchview's ``draw_graph(..., device="meta")`` beside it in the same run.

    python bench/graph.py                 # every torchvision classifier (minutes)
    python bench/graph.py resnet50 vit_b_16 --no-torchview

Targets (issue 21): ≤ 1 s each after imports, peak ≤ 100 MB above the imports. Peak memory
is the process's high-water mark (``ru_maxrss``, which only grows) read after each model:
the figure is the largest growth any model caused over the imports' baseline.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torchvision

from ptexplore import graph
from ptexplore.models import catalog


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(key: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    g = graph.of_key(key)
    view = graph.build(g, 2)
    graph.to_dot(view)
    return time.perf_counter() - t0, len(g.nodes)


def theirs(key: str) -> float | str:
    try:
        from torchview import draw_graph
    except ImportError:
        return "not installed"
    e = catalog.entry(key)
    t0 = time.perf_counter()
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(key, weights=None)
        draw_graph(model, input_size=(1, *e.default_input), device="meta", depth=2)
    except Exception as err:  # torchview's own failure is a figure too
        return f"failed: {type(err).__name__}"
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--no-torchview", action="store_true")
    args = ap.parse_args()
    keys = args.models or [k for k in torchvision.models.list_models(torchvision.models)]
    torch.set_num_threads(1)
    ours("resnet18")  # imports and first-call costs out of the figures
    base = _rss_mb()
    rows = []
    for key in keys:  # ours first, all of them: torchview's memory stays out of our figure
        s, n = ours(key)
        rows.append((key, n, s, _rss_mb() - base))
    print(f"{'model':<22} {'nodes':>6} {'ours s':>8} {'rss+MB':>7} {'torchview s':>12}")
    for key, n, s, grown in rows:
        tv = "—" if args.no_torchview else theirs(key)
        tv_text = f"{tv:.3f}" if isinstance(tv, float) else tv
        ratio = f" ({tv / s:.1f}× ours)" if isinstance(tv, float) and s else ""
        print(f"{key:<22} {n:>6} {s:>8.3f} {grown:>7.0f} {tv_text:>12}{ratio}", flush=True)
    worst_s = max(r[2] for r in rows)
    worst_mb = max(r[3] for r in rows)
    slow = [r[0] for r in rows if r[2] > 1.0]
    print(f"worst: {worst_s:.3f} s, peak +{worst_mb:.0f} MB over the imports; over 1 s: {slow}")
    if not args.no_torchview:
        print(f"torchview's peak: +{_rss_mb() - base:.0f} MB over the imports (after ours)")


if __name__ == "__main__":
    main()

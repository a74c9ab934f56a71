"""Selection → module tree + parameter table, for the two biggest torchvision models.

Target (issue 2): at most 1 s and at most 100 MB extra peak RSS per selection, against a
normal build measured in the same run. Each measurement runs in a fresh process so peak RSS
is that operation's alone (baseline: the process after importing torch and torchvision).

    .venv/bin/python bench/model_page.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from ptexplore.models import catalog, params, tree
name, mode = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if mode == "meta":
    model = catalog.build_meta(name).model
    catalog.entry(name)  # published figures (one more meta build)
else:
    model = catalog.factory(name)()
root = tree.build_tree(model)
table = params.param_table(model)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"s": seconds, "mb": (peak - base) / 1024, "total": table.total,
                  "nodes": tree.count_nodes(root)}))
"""


def measure(name: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, name, mode], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    print(
        f"{'model':16s} {'meta s':>8s} {'meta MB':>8s} {'normal s':>9s} {'normal MB':>10s}"
        f" {'speed-up':>9s} {'memory':>8s}  target"
    )
    ok = True
    for name in ("vit_h_14", "regnet_y_128gf"):
        meta = measure(name, "meta")
        normal = measure(name, "normal")
        assert meta["total"] == normal["total"] and meta["nodes"] == normal["nodes"]
        good = meta["s"] <= 1.0 and meta["mb"] <= 100
        ok &= good
        print(
            f"{name:16s} {meta['s']:8.3f} {meta['mb']:8.1f} {normal['s']:9.2f} "
            f"{normal['mb']:10.0f} {normal['s'] / meta['s']:8.0f}× "
            f"{normal['mb'] / max(meta['mb'], 1):7.0f}×  {'OK' if good else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

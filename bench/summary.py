"""``ptexplore summary`` vs ``torchinfo.summary``: wall time, peak RSS and MACs vs published.

    .venv/bin/python bench/summary.py [--only NAME ...] [--skip-torchinfo]

Every measurement runs in a fresh Python process (``os.wait4`` gives that process's own
peak RSS, interpreter and imports included); "after imports" is the time of the summary
call itself. torchinfo needs a real model (``weights=None`` / ``pretrained=False``: random
init, no download) and runs a real forward pass; ptexplore builds on meta and counts with
FlopCounterMode. "Published" is torchvision's ``_ops`` for the weights that describe the
architecture; for a timm model, torchvision's figure for the identical architecture
(checked: same parameter count, same input). Also times ``python -m ptexplore summary``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: (catalog name, the torchvision model whose published figure describes it)
MODELS: tuple[tuple[str, str], ...] = (
    ("vit_h_14", "vit_h_14"),
    ("regnet_y_128gf", "regnet_y_128gf"),
    ("convnext_large", "convnext_large"),
    ("resnet50", "resnet50"),
    ("timm:vit_base_patch16_224", "vit_b_16"),
    ("timm:vit_large_patch16_224", "vit_l_16"),
    ("timm:swin_base_patch4_window7_224", "swin_b"),
    ("timm:convnext_base", "convnext_base"),
)

PTEXPLORE = """
import json, sys, time
t0 = time.perf_counter()
import ptexplore.summary as S
if sys.argv[1].startswith("timm:"):  # as torchinfo's run does, import timm first
    S.zoo.timm()
t1 = time.perf_counter()
s = S.summary(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"after_imports_s": t2 - t1, "imports_s": t1 - t0,
                  "macs": s.total_macs, "params": s.total_params,
                  "input": list(s.input_shape)}))
"""

TORCHINFO = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
import torch, torchinfo
name, shape = sys.argv[1], json.loads(sys.argv[2])
if name.startswith("timm:"):
    import timm
    build = lambda: timm.create_model(name[5:], pretrained=False)
else:
    from torchvision import models
    build = lambda: models.get_model(name, weights=None)
t1 = time.perf_counter()
model = build()
r = torchinfo.summary(model, input_size=tuple(shape), depth=3, verbose=0)
t2 = time.perf_counter()
print(json.dumps({"after_imports_s": t2 - t1, "imports_s": t1 - t0,
                  "macs": int(r.total_mult_adds), "params": int(r.total_params)}))
"""


def run_child(args: list[str]) -> tuple[str, float, float]:
    """Run one child and reap it ourselves, so its own peak RSS is exact (``wait4``)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args[-3:])} exited {proc.returncode}")
    return out, wall, usage.ru_maxrss / 1024


def measure(code: str, *argv: str) -> dict[str, Any]:
    out, wall, rss = run_child([sys.executable, "-c", code, *argv])
    data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    data.update(wall_s=wall, rss_mb=rss)
    return data


def published(name: str, ref: str, params: int, shape: list[int]) -> float | None:
    from ptexplore.models import catalog

    e = catalog.entry(ref)
    if e.published_params != params or [1, *e.default_input] != shape:
        return None  # not the same architecture (or not at the published input)
    return e.published_gmacs


def _r(x: float | None, spec: str = ".1f") -> str:
    return "--" if x is None else f"{x:{spec}}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", help="catalog names to run (default: all eight)")
    ap.add_argument("--skip-torchinfo", action="store_true")
    args = ap.parse_args(argv)
    chosen = [m for m in MODELS if not args.only or m[0] in args.only]
    rows = []
    for name, ref in chosen:
        p = measure(PTEXPLORE, name)
        t = None if args.skip_torchinfo else measure(TORCHINFO, name, json.dumps(p["input"]))
        pub = published(name, ref, p["params"], p["input"])
        rows.append((name, p, t, pub))
        print(
            f"{name}: ptexplore {p['after_imports_s']:.2f} s {p['rss_mb']:.0f} MB "
            f"{p['macs'] / 1e9:.3f} G"
            + (
                ""
                if t is None
                else f" | torchinfo {t['after_imports_s']:.2f} s {t['rss_mb']:.0f} MB "
                f"{t['macs'] / 1e9:.3f} G"
            )
            + f" | published {_r(pub, '.3f')}",
            flush=True,
        )
    _, base_s, base_mb = run_child(
        [sys.executable, "-c", "import torch, torchvision.models, ptexplore.summary"]
    )
    head = (
        f"{'model':<36}{'published':>10}{'ptx GMACs':>10}{'ti GMACs':>9}{'ti/pub':>8}"
        f"{'ptx s':>7}{'ti s':>7}{'ti/ptx':>7}{'ptx MB':>8}{'ti MB':>8}{'ptx +MB':>8}"
        f"{'ti +MB':>8}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for name, p, t, pub in rows:
        ptx_g = p["macs"] / 1e9
        ti_g = t["macs"] / 1e9 if t else None
        print(
            f"{name:<36}{_r(pub, '.3f'):>10}{ptx_g:>10.3f}{_r(ti_g, '.3f'):>9}"
            f"{_r(ti_g / pub if ti_g and pub else None, '.3f'):>8}"
            f"{p['after_imports_s']:>7.2f}{_r(t['after_imports_s'] if t else None, '.2f'):>7}"
            f"{_r(t['after_imports_s'] / p['after_imports_s'] if t else None, '.0f'):>7}"
            f"{p['rss_mb']:>8.0f}{_r(t['rss_mb'] if t else None, '.0f'):>8}"
            f"{p['rss_mb'] - base_mb:>8.0f}{_r(t['rss_mb'] - base_mb if t else None, '.0f'):>8}"
        )
    print(
        "\nptx = ptexplore.summary (meta build + FlopCounterMode); ti = torchinfo.summary "
        "(real build, real forward). s = the call after imports; MB = the process's peak "
        f"RSS; +MB = over the imports alone (torch, torchvision, ptexplore: {base_mb:.0f} MB, "
        f"{base_s:.1f} s; timm adds ~30 MB to both for its models)."
    )
    print("\npython -m ptexplore summary (the whole command: interpreter, imports, table):")
    for name in ("resnet50", "vit_h_14"):
        out, wall, rss = run_child([sys.executable, "-m", "ptexplore", "summary", name])
        ok = "equal" in out
        print(f"  {name:<10} {wall:5.2f} s  {rss:5.0f} MB peak RSS  published MACs {ok=}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

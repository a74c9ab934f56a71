"""Server CPU per rerun, per page: a rerun with no change, and a typical widget change.

One Streamlit process runs every learner's reruns under one GIL, so this per-rerun cost is
what caps a classroom. Each page is opened in AppTest (the same script runner the server
uses), warmed up, then rerun 8 times with nothing changed and 8 times with one widget
changed; the median CPU time of the whole process per rerun is reported.

The baseline is measured in the same run: the script checks out ``--baseline`` (default:
the commit before the lab framework) into a temporary git worktree and measures it with
the same interpreter, then measures this checkout. Each tree runs in its own process.

    .venv/bin/python bench/rerun_cost.py [--baseline 8b4b887] [--repeats 8] [--lang zh]

With ``--lang zh`` each page is also measured in Chinese (a row under it: this checkout in
English → in Chinese), the cost of looking every text up in the catalog.

Targets (issue 8): no change ≤ 20 ms on the tensor, view and model pages (≤ 35 ms on the
augmentation page, which re-sends its grid); a widget change ≤ 50 ms on the tensor, view
and model pages (small models).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "8b4b887"
TARGETS = {  # page: (no change, widget change) in ms
    "tensors": (20.0, 50.0),
    "view": (20.0, 50.0),
    "models": (20.0, 50.0),
    "augment": (35.0, None),
}

CHILD = r"""
import json, os, statistics, sys, time, warnings
tree, repeats, lang = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, tree)
os.chdir(tree)
warnings.filterwarnings("ignore")
import logging
logging.disable(logging.WARNING)
import ptexplore
assert ptexplore.__file__.startswith(tree), ptexplore.__file__
from streamlit.testing.v1 import AppTest

PAGES = {
    "tensors": "pages/1_Tensor_Lab.py",
    "view": "pages/2_View_Reshape_Lab.py",
    "models": "pages/3_Model_Explorer.py",
    "augment": "pages/4_Augmentation_Lab.py",
}
# a typical click on each page: two values the learner goes back and forth between
CHANGES = {
    "tensors": ("radio", "tensors.bridge", ["torch.tensor(a)", "torch.from_numpy(a)"]),
    "view": ("text_input", "view.shape", ["6, -1", "4, -1"]),
    "models": ("text_input", "models.filter", ["conv", ""]),
    "augment": ("button", "augment.reroll", None),
}


def cpu_ms(at, before=None):
    t0 = time.process_time()
    if before is not None:
        before()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return (time.process_time() - t0) * 1e3


out = {}
for name, page in PAGES.items():
    at = AppTest.from_file(os.path.join(tree, "app.py"), default_timeout=300)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page(page)
    at.run()
    kind, key, values = CHANGES[name]
    for _ in range(3):
        at.run()
    same = [cpu_ms(at) for _ in range(repeats)]

    def change(i):
        widget = getattr(at, kind)(key=key)
        if kind == "button":
            return lambda: widget.click()
        return lambda: widget.set_value(values[i % 2])

    for i in range(2):  # warm the caches of both values
        cpu_ms(at, change(i))
    changed = [cpu_ms(at, change(i)) for i in range(repeats)]
    out[name] = {"same": statistics.median(same), "change": statistics.median(changed)}
print(json.dumps(out))
"""


def measure(tree: Path, repeats: int, lang: str = "") -> dict[str, dict[str, float]]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(repeats), lang],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    if proc.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, dict[str, float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _row(
    label: str, b: dict[str, float], a: dict[str, float], t_same: float, t_change: float | None
) -> bool:
    """Print one row (``b`` → ``a``, the ratio b/a), whether ``a`` meets the targets."""
    good = a["same"] <= t_same and (t_change is None or a["change"] <= t_change)
    same = f"{b['same']:6.1f} → {a['same']:5.1f} ms ({b['same'] / a['same']:4.1f}×)"
    change = f"{b['change']:6.1f} → {a['change']:5.1f} ms ({b['change'] / a['change']:4.1f}×)"
    print(
        f"{label:9s} {same:>22s} {t_same:5.0f}ms {change:>22s} "
        f"{'' if t_change is None else f'{t_change:5.0f}ms':>7s}  {'OK' if good else 'MISSED'}"
    )
    return good


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default=BASELINE, help="git revision to compare against")
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument(
        "--lang", default="", help="also measure this checkout with ?lang= this (e.g. zh)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base_tree), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            before = measure(base_tree, args.repeats)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False
            )
    after = measure(ROOT, args.repeats)
    other = measure(ROOT, args.repeats, args.lang) if args.lang else None
    print(f"median server CPU per rerun (AppTest, {args.repeats} reruns), baseline {args.baseline}")
    print(f"{'page':9s} {'no change':>22s} {'target':>7s} {'widget change':>22s} {'target':>7s}")
    ok = True
    for page, (t_same, t_change) in TARGETS.items():
        ok &= _row(page, before[page], after[page], t_same, t_change)
        if other is not None:
            ok &= _row(f"  ?lang={args.lang}", after[page], other[page], t_same, t_change)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

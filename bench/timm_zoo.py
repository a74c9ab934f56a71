"""Every timm architecture on the meta device: how many open, trace and count.

    .venv/bin/python bench/timm_zoo.py [--jobs 2] [--limit N] [--out PATH]

For each ``timm.list_models()`` name, as the Model explorer does it:

* **open** — ``catalog.build_meta("timm:<name>")`` (``timm.create_model(name,
  pretrained=False)`` with every parameter and buffer on meta: nothing downloaded or
  allocated);
* **trace** — one forward pass on a meta input of the pretrained config's ``input_size``
  (``shapes.trace``);
* **count** — FlopCounterMode counted MACs (> 0), the per-module own MACs add up to the
  total and the parameter total equals ``sum(p.numel())``;
* **graph** — the Data flow tab's trace (``ptexplore.graph.trace_graph`` on the same meta
  build and input): a complete graph, a partial one (the forward stopped; the graph says
  at which op, in one sentence) or none (the tracer itself raised — a bug of ours).

Writes ``ptexplore/models/timm_status.json`` (read by ``ptexplore.models.zoo.status()``: the
picker and the tests show it) with every failure's stage and reason in one sentence, and
prints the counts and the reasons grouped. Each model runs under a 120 s alarm.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import re
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMEOUT_S = 120


class _Timeout(Exception):
    pass


def _alarm(_sig: int, _frame: Any) -> None:
    raise _Timeout(f"took more than {TIMEOUT_S} s")


def _reason(err: BaseException) -> str:
    """One sentence: the exception's type and first line (from the underlying error)."""
    cause = err.__cause__ if err.__cause__ is not None else err
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0].strip()}" if lines else type(cause).__name__
    text = re.sub(r"\s+", " ", text)
    if len(text) > 220:
        text = text[:217] + "…"
    return text if text.endswith((".", "…")) else text + "."


def measure(name: str) -> dict[str, Any]:
    warnings.filterwarnings("ignore")
    from ptexplore.models import catalog, shapes

    key = "timm:" + name
    out: dict[str, Any] = {"name": name, "stage": None, "reason": "", "params": None}
    t0 = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        e = catalog.entry(key)
        out["family"] = e.family
        out["input"] = list(e.default_input)
        try:
            model = catalog.build_meta(key).model
            tensors = [*model.parameters(), *model.buffers()]
            off = [t.device.type for t in tensors if t.device.type != "meta"]
            if off:
                raise RuntimeError(f"{len(off)} tensors stayed on {off[0]}, not meta")
            out["params"] = sum(p.numel() for p in model.parameters())
        except Exception as err:
            out.update(stage="open", reason=_reason(err))
            return out
        try:
            report = shapes.trace(key)
        except Exception as err:
            out.update(stage="trace", reason=_reason(err))
            return out
        own = sum(r.self_macs for r in report.rows)
        if report.total_macs <= 0:
            out.update(stage="count", reason="FlopCounterMode counted no MACs.")
        elif own != report.total_macs:
            out.update(
                stage="count",
                reason=f"Per-module MACs add up to {own:,}, not the total {report.total_macs:,}.",
            )
        elif report.total_params != out["params"]:
            out.update(stage="count", reason="The traced parameter total differs.")
        out["gmacs"] = report.total_macs / 1e9
        _graph(key, model, out)
    except Exception as err:  # entry() itself (the pretrained config)
        out.update(stage="open", reason=_reason(err))
    finally:
        signal.alarm(0)
        out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _graph(key: str, model: Any, out: dict[str, Any]) -> None:
    import torch

    from ptexplore.graph import NodeKind, build, to_dot, trace_graph
    from ptexplore.models import shapes

    t0 = time.perf_counter()
    try:
        x = torch.empty(shapes.input_shape_for(key, None), device="meta")
        g = trace_graph(model, (x,), name=key)
        to_dot(build(g, 2))
    except Exception as err:
        out.update(graph="none", graph_reason=_reason(err))
    else:
        out["graph"] = "complete" if g.complete else "partial"
        out["graph_reason"] = g.stopped or ""
        out["graph_nodes"] = len(g.nodes)
        if g.complete and g.count(NodeKind.OUTPUT) != 1:
            out.update(graph="none", graph_reason="A complete graph without its output node.")
    out["graph_seconds"] = round(time.perf_counter() - t0, 3)


def _group(reason: str) -> str:
    """A reason without its numbers and names, to group similar failures."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)
    text = re.sub(r"\d+", "N", text)
    return text[:120]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N names (a smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "ptexplore/models/timm_status.json")
    args = ap.parse_args(argv)

    import timm
    import torch

    from ptexplore.models import zoo

    names = list(zoo.names())
    if args.limit:
        names = names[: args.limit]
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    with concurrent.futures.ProcessPoolExecutor(max(1, args.jobs)) as pool:
        for i, r in enumerate(pool.map(measure, names, chunksize=4), 1):
            results.append(r)
            if r["stage"]:
                print(f"[{i}/{len(names)}] {r['name']}: {r['stage']}: {r['reason']}", flush=True)
            elif i % 50 == 0:
                print(f"[{i}/{len(names)}] … {time.perf_counter() - t0:.0f} s", flush=True)
    failed = {r["name"]: r for r in results if r["stage"]}
    opened = sum(1 for r in results if r["stage"] != "open")
    traced = sum(1 for r in results if r["stage"] not in ("open", "trace"))
    counted = sum(1 for r in results if not r["stage"])
    data = {
        "timm": timm.__version__,
        "torch": torch.__version__,
        "generated_by": "bench/timm_zoo.py",
        "seconds": round(time.perf_counter() - t0, 1),
        "total": len(results),
        "opened": opened,
        "traced": traced,
        "counted": counted,
        "failures": [
            {
                "name": r["name"],
                "family": r.get("family", ""),
                "stage": r["stage"],
                "reason": r["reason"],
            }
            for r in sorted(failed.values(), key=lambda r: (r["stage"], r["name"]))
        ],
        "params": {r["name"]: r["params"] for r in results if r["params"] is not None},
        "gmacs": {r["name"]: round(r["gmacs"], 6) for r in results if "gmacs" in r},
        "slowest": sorted(([r["name"], r["seconds"]] for r in results), key=lambda x: -float(x[1]))[
            :10
        ],
    }
    kinds = collections.Counter(r.get("graph", "not reached") for r in results)
    data["graph"] = {
        "complete": kinds["complete"],
        "partial": kinds["partial"],
        "none": kinds["none"],
        "not_reached": kinds["not reached"],
        "not_complete": [
            {
                "name": r["name"],
                "graph": r.get("graph", "not reached"),
                "reason": r.get("graph_reason", ""),
            }
            for r in results
            if r.get("graph") != "complete"
        ],
        "slowest": sorted(
            ([r["name"], r["graph_seconds"]] for r in results if "graph_seconds" in r),
            key=lambda x: -float(x[1]),
        )[:10],
        "over_1s": sum(1 for r in results if r.get("graph_seconds", 0) > 1.0),
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(
        f"\ntimm {timm.__version__}, torch {torch.__version__}: of {len(results)} "
        f"architectures {opened} open, {traced} trace and {counted} count on meta "
        f"({data['seconds']} s, {args.jobs} jobs) → {args.out}"
    )
    print(
        f"graph: {kinds['complete']} complete, {kinds['partial']} partial (stopped op named), "
        f"{kinds['none']} none, {kinds['not reached']} not reached; "
        f"{data['graph']['over_1s']} took over 1 s"
    )
    for r in data["graph"]["not_complete"]:
        print(f"  {r['name']}: {r['graph']}: {r['reason']}")
    groups: collections.Counter[tuple[str, str]] = collections.Counter(
        (r["stage"], _group(r["reason"])) for r in failed.values()
    )
    for (stage, reason), n in groups.most_common():
        examples = [r["name"] for r in failed.values() if _group(r["reason"]) == reason][:3]
        print(f"  {n:4d} × {stage}: {reason}  (e.g. {', '.join(examples)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

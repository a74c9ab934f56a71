"""``python -m ptexplore run`` opens the app; ``python -m ptexplore summary MODEL`` prints a
model's table (both also as the ``ptexplore`` script).

``run [--port 8501] [--address 127.0.0.1] [--models SPECS]`` serves the app for one
browser, as ``make run`` does (a class: ``python -m ptexplore.serve``).

MODEL is a catalog name (``resnet50``, ``example:Model``, ``timm:convnext_tiny`` or a bare
timm name), or an import path ``pkg.module:Name`` with optional JSON keyword arguments and
input (``'mypkg.nets:MyNet{"num_classes": 10}@1,3,128,128'``; the current folder is
importable). Errors print one sentence and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ptexplore import __version__, i18n
from ptexplore.errors import LessonError
from ptexplore.models import user
from ptexplore.pages import ROOT
from ptexplore.summary import FORMATS, summary


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ptexplore", description="ptexplore on the command line.")
    ap.add_argument("--version", action="version", version=f"ptexplore {__version__}")
    sub = ap.add_subparsers(dest="command")  # none: ``run`` with its defaults
    r = sub.add_parser("run", help="open the app in your browser (streamlit run, one learner)")
    r.add_argument("--port", type=int, default=8501, help="the port to serve on (default 8501)")
    r.add_argument(
        "--address", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    r.add_argument(
        "--models",
        default=None,
        help="your own models for the Model explorer, as PTEXPLORE_MODELS takes them "
        "('mypkg.nets:MyNet mypkg.nets:make_net{\"depth\": 4}@1,3,128,128')",
    )
    r.add_argument(
        "--lang",
        choices=[lang.value for lang in i18n.Lang],
        help="the interface's language (en, or zh for 简体中文; switchable in the sidebar)",
    )
    s = sub.add_parser(
        "summary",
        help="a torchinfo-style table with correct MACs, computed on the meta device",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("model", help="a catalog name or an import path pkg.module:Name")
    s.add_argument(
        "--input",
        metavar="1,3,224,224",
        help="the input shape, batch first (default: the model's own)",
    )
    s.add_argument("--depth", type=int, default=3, help="rows down to this depth (default 3)")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.add_argument("--num-classes", type=int, help="size of the classifier (when it takes one)")
    s.add_argument("--dtype", help="the input's dtype (default float32, or the model's own)")
    g = sub.add_parser(
        "graph",
        help="the forward data-flow graph (module calls and the ops between them), on meta",
    )
    g.add_argument("model", help="a catalog name (resnet50, vit_b_16, timm:…, example:Net)")
    g.add_argument("--input", metavar="1,3,224,224", help="the input shape, batch first")
    g.add_argument("--depth", type=int, default=2, help="open module calls to this depth (2)")
    g.add_argument("--no-fold", action="store_true", help="do not fold repeated blocks")
    g.add_argument("--format", choices=GRAPH_FORMATS, default="dot")
    g.add_argument("--num-classes", type=int, help="size of the classifier (when it takes one)")
    g.add_argument("-o", "--output", help="write here instead of standard output")
    return ap


GRAPH_FORMATS = ("dot", "svg", "png", "json")


def _graph(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ptexplore import graph

    try:
        shape = user.parse_input(args.input) if args.input else None
        g = graph.of_key(args.model, args.num_classes, shape=shape)
        view = graph.build(g, args.depth, fold=not args.no_fold)
        if args.format == "json":
            data: bytes = graph.to_json(view).encode()
        elif args.format == "dot":
            data = graph.to_dot(view).encode()
        else:
            data = graph.render(graph.to_dot(view), args.format)
    except LessonError as err:
        print(f"error: {err.message}\nfix: {err.fix}", file=sys.stderr)
        return 2
    if g.stopped is not None:
        print(f"note: {g.stopped}", file=sys.stderr)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def run_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line that serves the app."""
    app = ROOT / "app.py"
    if not app.is_file():
        raise LessonError(
            f"The app's pages are not in this install (no {app}).",
            fix="Install ptexplore from a wheel or its source folder (pip install .), or run "
            "it there with make run.",
        )
    if not 1 <= port <= 65535:
        raise LessonError(f"Port {port} is not between 1 and 65535.", fix="Try --port 8501.")
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", address, "--server.port", str(port),
    ]  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    try:
        cmd = run_command(args.port, args.address)
    except LessonError as err:
        print(f"error: {err.message}\nfix: {err.fix}", file=sys.stderr)
        return 2
    if args.models is not None:
        os.environ["PTEXPLORE_MODELS"] = args.models
    if args.lang is not None:
        os.environ[i18n.LANG_ENV] = args.lang
    os.chdir(ROOT)  # the app's .streamlit/config.toml is read from the working folder
    os.execv(sys.executable, cmd)  # Ctrl-C and the exit status are streamlit's own


def main(argv: Sequence[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.command is None:  # plain ``ptexplore`` / ``python -m ptexplore`` opens the app
        args = ap.parse_args(["run"])
    if args.command == "run":
        return _run(args)
    if args.command == "graph":
        return _graph(args)
    try:
        shape = user.parse_input(args.input) if args.input else None
        result = summary(
            args.model,
            input_size=shape,
            depth=args.depth,
            num_classes=args.num_classes,
            dtype=args.dtype,
        )
    except LessonError as err:
        print(f"error: {err.message}\nfix: {err.fix}", file=sys.stderr)
        return 2
    sys.stdout.write(result.render(args.format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

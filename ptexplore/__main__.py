"""``python -m ptexplore summary MODEL`` (also the ``ptexplore`` script).

MODEL is a catalog name (``resnet50``, ``example:Model``, ``timm:convnext_tiny`` or a bare
timm name), or an import path ``pkg.module:Name`` with optional JSON keyword arguments and
input (``'mypkg.nets:MyNet{"num_classes": 10}@1,3,128,128'``; the current folder is
importable). Errors print one sentence and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ptexplore import __version__
from ptexplore.errors import LessonError
from ptexplore.models import user
from ptexplore.summary import FORMATS, summary


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ptexplore", description="ptexplore on the command line.")
    ap.add_argument("--version", action="version", version=f"ptexplore {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
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
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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

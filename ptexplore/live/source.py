"""Take-home source: the definitions a lab's script needs, copied into the script itself.

A code panel runs at a learner's home with torch, torchvision, numpy and PIL only, so a
script never imports ptexplore: a class or function the lab wrote (a Dataset, a model) is
pasted into the script from the module that defines it — the same source the page runs —
with exactly the imports it needs, and every import of the script merged into one block.

:func:`definitions` follows the names a definition uses to the other top-level
definitions and imports of its module (so ``Instrumented`` brings ``Call``, and
``from torch.utils.data import get_worker_info``). Type-checker comments are dropped:
they are for ptexplore's checker, not for a learner.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

_TYPE_IGNORE = re.compile(r"\s*# type: ignore(\[[^\]]*\])?")


@dataclass(frozen=True, slots=True)
class Source:
    """Definitions copied from a module: the imports they need and their code."""

    imports: tuple[str, ...]
    code: str


@dataclass(frozen=True, slots=True)
class _Module:
    lines: tuple[str, ...]
    #: top-level name -> (first line, last line, names it uses), in file order
    defs: dict[str, tuple[int, int, frozenset[str]]]
    #: imported name -> the import statement that binds it
    imports: dict[str, str]


def _used(node: ast.AST) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))


@lru_cache(maxsize=16)
def _parse(module: ModuleType) -> _Module:
    text = inspect.getsource(module)
    lines = tuple(text.splitlines())
    defs: dict[str, tuple[int, int, frozenset[str]]] = {}
    imports: dict[str, str] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            for a in node.names:
                alias = f" as {a.asname}" if a.asname else ""
                imports[a.asname or a.name] = f"from {node.module} import {a.name}{alias}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                alias = f" as {a.asname}" if a.asname else ""
                imports[bound] = f"import {a.name}{alias}"
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            defs[node.name] = (first, node.end_lineno or node.lineno, _used(node))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    used = _used(node.value) if node.value is not None else frozenset()
                    defs[t.id] = (node.lineno, node.end_lineno or node.lineno, used)
    return _Module(lines, defs, imports)


def definitions(module: ModuleType, names: Iterable[str]) -> Source:
    """The source of ``names`` (top-level definitions of ``module``) and of every other
    top-level definition they use, in the module's order, with the imports they need."""
    m = _parse(module)
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in m.defs:
            raise KeyError(f"{module.__name__} defines no top-level {name!r}")
        wanted.add(name)
        todo += [u for u in m.defs[name][2] if u in m.defs and u != name]
    chosen = sorted((m.defs[n][0], n) for n in wanted)
    body = [_TYPE_IGNORE.sub("", ln) if "# type: ignore" in ln else ln for ln in m.lines]
    blocks: list[str] = []
    needed: set[str] = set()
    for _, name in chosen:
        first, last, used = m.defs[name]
        blocks.append("\n".join(body[first - 1 : last]))
        needed |= {m.imports[u] for u in used if u in m.imports}
    # one blank line between constants in a row, two around a class or a function
    out: list[str] = []
    for k, block in enumerate(blocks):
        if k:
            simple = not block.startswith(("class ", "def ", "@")) and not out[-1].startswith(
                ("class ", "def ", "@")
            )
            out.append("\n" if simple else "\n\n\n")
        out.append(block)
    return Source(tuple(sorted(needed)), "".join(out) + "\n")


def _top(statement: str) -> str:
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0]
    assert isinstance(node, ast.Import), statement
    return node.names[0].name.split(".")[0]


def _by_type(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions and variables."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def merge_imports(statements: Iterable[str]) -> str:
    """One import block, sorted the way isort/ruff sort it: the standard library's, a
    blank line, then the rest; ``import x`` lines before ``from x import …`` in each, the
    names of one module's ``from`` imports merged into one line."""
    plain: dict[bool, set[str]] = {True: set(), False: set()}
    froms: dict[bool, dict[str, set[str]]] = {True: {}, False: {}}
    for st in statements:
        for line in st.splitlines():
            line = line.strip()
            if not line:
                continue
            std = _top(line) in sys.stdlib_module_names
            node = ast.parse(line).body[0]
            if isinstance(node, ast.ImportFrom):
                names = froms[std].setdefault(node.module or "", set())
                names |= {f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names}
            else:
                plain[std].add(line)
    groups = []
    for std in (True, False):
        lines = sorted(plain[std], key=lambda s: s.removeprefix("import ").lower())
        for mod in sorted(froms[std], key=str.lower):
            bound = sorted(froms[std][mod], key=_by_type)
            one = f"from {mod} import {', '.join(bound)}"
            if len(one) > 100:
                one = f"from {mod} import (\n" + "".join(f"    {n},\n" for n in bound) + ")"
            lines.append(one)
        if lines:
            groups.append("\n".join(lines))
    return "\n\n".join(groups) + "\n"


def script(
    imports: Sequence[str],
    body: str,
    *,
    defined: Source | None = None,
    main_guard: bool = False,
) -> str:
    """A whole script: the merged imports, the pasted definitions, then ``body``.

    ``main_guard`` puts the body under ``if __name__ == "__main__":`` — what a script must
    do when DataLoader workers start with ``spawn`` or ``forkserver``: each worker imports
    the script (as ``__mp_main__``) to find the classes it unpickles, and must not run the
    body again. (The body is indented: it must hold no multi-line string whose text
    matters.)
    """
    head = merge_imports([*imports, *(defined.imports if defined else ())])
    parts = [head]
    if defined is not None:
        parts.append("\n" + defined.code)
    if main_guard:
        parts.append("\n" + 'if __name__ == "__main__":\n' + textwrap.indent(body, "    "))
    else:
        parts.append(("\n" if defined is not None else "") + body)
    return "\n".join(parts)

"""modules() / named_modules() / children() / named_children(), run for real and printed
exactly as ``for idx, item in enumerate(it): print(idx, '-', item)`` prints them."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from torch import nn

from ptexplore import compat
from ptexplore.i18n import N_, _

if TYPE_CHECKING:
    from ptexplore.models.catalog import Constructor


class IteratorKind(StrEnum):
    MODULES = "modules()"
    NAMED_MODULES = "named_modules()"
    CHILDREN = "children()"
    NAMED_CHILDREN = "named_children()"


#: what each iterator yields (English, marked: :func:`iterator_view` translates it)
EXPLAIN: dict[IteratorKind, str] = {
    IteratorKind.MODULES: N_(
        "Recursive, depth-first, starting with the model itself (item 0 is the whole model). "
        "A module object registered under two names is yielded once."
    ),
    IteratorKind.NAMED_MODULES: N_(
        "Same walk as modules(), but each item is a (name, module) tuple; the root's name is "
        "the empty string ''. Names join attribute names with dots: 'features.conv3'."
    ),
    IteratorKind.CHILDREN: N_(
        "One level only: the direct sub-modules, in the order they were assigned in __init__. "
        "Not the model itself, not grandchildren."
    ),
    IteratorKind.NAMED_CHILDREN: N_("children() with names: (attribute name, module) tuples."),
}


@dataclass(frozen=True, slots=True)
class IterItem:
    index: int
    name: str | None  # None for the unnamed iterators
    class_name: str
    text: str  # exactly what print(idx, '-', item) wrote, without the trailing newline

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + 1


@dataclass(frozen=True, slots=True)
class IteratorView:
    kind: IteratorKind
    items: tuple[IterItem, ...]
    explanation: str
    #: how many entries the walk has with ``remove_duplicate=False`` (shared modules repeated)
    with_duplicates: int


def _iterate(model: nn.Module, kind: IteratorKind) -> Iterable[object]:
    match kind:
        case IteratorKind.MODULES:
            return model.modules()
        case IteratorKind.NAMED_MODULES:
            return model.named_modules()
        case IteratorKind.CHILDREN:
            return model.children()
        case IteratorKind.NAMED_CHILDREN:
            return model.named_children()


def printed(idx: int, item: object) -> str:
    buf = io.StringIO()
    print(idx, "-", item, file=buf)
    return buf.getvalue().removesuffix("\n")


def iterator_view(model: nn.Module, kind: IteratorKind) -> IteratorView:
    items: list[IterItem] = []
    for idx, item in enumerate(_iterate(model, kind)):
        if isinstance(item, tuple):
            name, module = item
            items.append(IterItem(idx, str(name), type(module).__name__, printed(idx, item)))
        else:
            assert isinstance(item, nn.Module)
            items.append(IterItem(idx, None, type(item).__name__, printed(idx, item)))
    if kind in (IteratorKind.MODULES, IteratorKind.NAMED_MODULES):
        dup = sum(1 for _x in model.named_modules(remove_duplicate=False))
    else:
        dup = len(compat.own_modules(model))
    return IteratorView(kind, tuple(items), _(EXPLAIN[kind]), dup)


def truncate(text: str, max_lines: int) -> str:
    """The first ``max_lines`` lines and a note of how many were left out."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text
    return "\n".join(lines[:max_lines]) + f"\n  … ({len(lines) - max_lines} more lines)"


def code(kind: IteratorKind, constructor: Constructor) -> str:
    head, expr = constructor.head(), constructor.expr
    loop_var = "(name, m)" if kind.value.startswith("named") else "m"
    item = "(name, m)" if kind.value.startswith("named") else "m"
    return (
        f"{head}\nmodel = {expr}\n"
        f"for idx, {loop_var} in enumerate(model.{kind.value.removesuffix('()')}()):\n"
        f"    print(idx, '-', {item})\n"
    )

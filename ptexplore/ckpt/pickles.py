"""Bound a checkpoint's pickle before torch's weights-only unpickler reads it.

torch's weights-only unpickler is safe against code execution, not against cost: it is
pure Python (hostile opcodes cost it up to ~1.5 s per MB), and even Python's own C
unpickler can be frozen or crashed by a few hundred bytes: a dict key that is a tuple of
tuples sharing their halves (``BINPUT``/``BINGET``) costs 2**depth to hash, and a key
nested a million tuples deep overflows the C stack when hashed (measured here: 127 bytes
hashed 2**24 nodes in 0.12 s; a 2 MB pickle segfaulted the interpreter). So a pickle is
read in two passes before torch sees it:

1. :func:`scan`, a pure-Python walk over the opcodes torch's unpickler supports (any other
   opcode is refused, as torch would), which builds no objects. It keeps for every stack
   slot only the size of the tuple tree it holds and its depth, and charges every place
   where the real unpickler hashes or walks a value (dict keys, call arguments, BUILD
   state, persistent ids) against a work budget. It checks memo indices (the C
   unpickler grows its memo array to the largest index), bounds the nesting depth, the
   containers and memo entries built (each a garbage-collected object) and the storage
   references, counts distinct globals, and finds where the pickle ends.
2. :func:`census`, the same bytes through a C-speed :class:`pickle.Unpickler` subclass
   that imports nothing: ``find_class`` returns an inert stub class and records the global,
   ``persistent_load`` returns a stub and records the declared storage, calls and BUILDs on
   stubs only record their arguments. From that it counts tensors, totals what torch would
   allocate outside the storages (``bytearray(n)``, ``FloatStorage(n)``, quantized tensors,
   dtype casts), bounds the work of the few builtins that iterate their argument
   (``set``, ``Counter``…). Stub instances hash by identity and record without hashing,
   so nothing the census runs costs more than the scan allowed.
"""

from __future__ import annotations

import io
import math
import pickle
import struct
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from ptexplore import compat
from ptexplore.ckpt.formats import damaged, too_much
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    CKPT_MAX_DEPTH,
    CKPT_MAX_PICKLE_BYTES,
    CKPT_MAX_TENSORS,
    CKPT_OBJECTS_PER_TENSOR,
)
from ptexplore.text import code_span

# ------------------------------------------------------------------------------- facts

#: Element size of each storage class torch pickles (``torch.FloatStorage`` → 4).
STORAGE_ITEMSIZE: dict[str, int] = {
    name: dtype.itemsize for dtype, name in compat.storage_type_names().items()
}
#: The largest element of any dtype (complex128): what an allocation of unknown dtype costs.
_WIDEST = 16
#: Encodings ``pickle`` uses for bytes in protocol 2 (``_codecs.encode(text, 'latin1')``).
_BYTES_ENCODINGS = frozenset({"latin1", "latin-1", "iso-8859-1", "utf-8", "utf8", "ascii"})


def allowed_globals() -> frozenset[str]:
    """Every ``module.name`` torch's weights-only unpickler imports (its own allowlist plus
    what this process added with ``torch.serialization.add_safe_globals``)."""
    return compat.weights_only_allowed_globals()


# --------------------------------------------------------------------- pass 1: the scan


@dataclass(frozen=True, slots=True)
class Scan:
    """What the opcode walk found: where the pickle ends and what it may cost."""

    start: int
    end: int  # offset just past STOP
    ops: int
    references: int  # BINPERSID opcodes (storage references)
    globals: frozenset[str]
    work: int  # hashed/walked values charged
    containers: int  # tuples, lists, dicts, sets, call results and storages built
    depth: int  # nesting depth of the pickled object


# opcodes torch's weights-only unpickler supports (torch/_weights_only_unpickler.py)
_GLOBAL, _NEWOBJ, _REDUCE, _BUILD = ord("c"), 0x81, ord("R"), ord("b")
_APPEND, _APPENDS, _SETITEM, _SETITEMS = ord("a"), ord("e"), ord("s"), ord("u")
_MARK, _TUPLE, _TUPLE1, _TUPLE2, _TUPLE3 = ord("("), ord("t"), 0x85, 0x86, 0x87
_NONE, _NEWFALSE, _NEWTRUE = ord("N"), 0x89, 0x88
_EMPTY_TUPLE, _EMPTY_LIST, _EMPTY_DICT, _EMPTY_SET = ord(")"), ord("]"), ord("}"), 0x8F
_BININT, _BININT1, _BININT2, _BINFLOAT = ord("J"), ord("K"), ord("M"), ord("G")
_BINUNICODE, _SHORT_BINSTRING, _BINPERSID = ord("X"), ord("U"), ord("Q")
_BINGET, _LONG_BINGET, _BINPUT, _LONG_BINPUT = ord("h"), ord("j"), ord("q"), ord("r")
_LONG1, _PROTO, _STOP = 0x8A, 0x80, ord(".")
#: operand bytes of the fixed-size opcodes that push one scalar
_SCALAR_ARG = {_BININT: 4, _BININT1: 1, _BININT2: 2, _BINFLOAT: 8}
#: A stack slot is an int: (size of the tuple tree it holds << 8) | its nesting depth.
#: Hashing stops at a list or a dict, so their size is 1 whatever they hold. Depth is
#: tracked as containers are filled; pickle fills a container before putting it in
#: another, so that is exact for what pickle.dump writes (only a hand-made pickle that
#: grows a container already inside another gets past it, and deep nesting costs nothing
#: torch's iterative unpickler or this package cannot bear: hashing recurses only through
#: tuples, whose depth is exact since they are immutable).
_LEAF = 1 << 8
_PUTS = frozenset({_BINPUT, _LONG_BINPUT})
_PUSH_LEAF = frozenset({_NONE, _NEWFALSE, _NEWTRUE})
_PUSH_EMPTY = frozenset({_EMPTY_TUPLE, _EMPTY_LIST, _EMPTY_DICT, _EMPTY_SET})
_SMALL_TUPLES = frozenset({_TUPLE1, _TUPLE2, _TUPLE3})
_CALLS = frozenset({_REDUCE, _NEWOBJ})
_FILLS = frozenset({_SETITEMS, _APPENDS})
_SHORT_SIZED = frozenset({_SHORT_BINSTRING, _LONG1})  # one length byte, then the bytes


def _name(what: str) -> str:
    """``its pickle (data.pkl)``; ``what`` is English, marked with ``N_`` where it is named."""
    return _("its pickle ({what})").format(what=_(what))


def scan(data: bytes | memoryview, start: int, *, what: str, limit: int) -> Scan:
    """Walk one pickle starting at ``data[start]``, building nothing; refuse (InputError)
    anything torch's unpickler would refuse or whose cost is not bounded.

    ``limit`` is the most bytes the pickle may take; ``what`` names it in messages.
    """
    buf = bytes(data[start : start + limit + 1])
    n = len(buf)
    unpack_from = struct.unpack_from
    budget = CKPT_MAX_PICKLE_BYTES
    max_objects = CKPT_OBJECTS_PER_TENSOR * CKPT_MAX_TENSORS
    max_globals = len(allowed_globals())
    stack: list[int] = []
    marks: list[int] = []
    memo: dict[int, int] = {}
    names: set[str] = set()
    pos = refs = work = ops = made = 0
    leaf, empty = _LEAF, _LEAF | 1
    try:
        while pos < n:
            op = buf[pos]
            pos += 1
            ops += 1
            if op in _PUTS:
                if op == _BINPUT:
                    idx = buf[pos]
                    pos += 1
                else:
                    idx = unpack_from("<I", buf, pos)[0]
                    pos += 4
                if idx > len(memo):  # pickle numbers its memo 0, 1, 2…
                    raise damaged(
                        _("{pickle} stores memo slot {idx:,} out of order").format(
                            pickle=_name(what), idx=idx
                        )
                    )
                memo[idx] = stack[-1]
                if len(memo) > max_objects:
                    raise too_much(
                        _("{pickle} memoizes more than {most:,} objects").format(
                            pickle=_name(what), most=max_objects
                        )
                    )
            elif op == _BINGET:
                stack.append(memo[buf[pos]])
                pos += 1
            elif op == _LONG_BINGET:
                stack.append(memo[unpack_from("<I", buf, pos)[0]])
                pos += 4
            elif op == _BINUNICODE:
                pos += 4 + unpack_from("<I", buf, pos)[0]
                stack.append(leaf)
            elif op in _SCALAR_ARG:
                pos += _SCALAR_ARG[op]
                stack.append(leaf)
            elif op == _MARK:
                marks.append(len(stack))
            elif op in _PUSH_LEAF:
                stack.append(leaf)
            elif op in _PUSH_EMPTY:
                stack.append(empty)
                made += 1
            elif op in _SMALL_TUPLES:
                k = op - _TUPLE1 + 1
                items = stack[-k:]
                if len(items) != k:
                    raise IndexError
                del stack[-k:]
                stack.append(_tuple_of(items, budget, what))
                made += 1
            elif op == _TUPLE:
                m = marks.pop()
                items = stack[m:]
                del stack[m:]
                stack.append(_tuple_of(items, budget, what))
                made += 1
            elif op in _CALLS:
                args = stack.pop()
                work += args >> 8
                if op == _NEWOBJ:
                    stack.pop()
                    stack.append(_LEAF | (args & 0xFF))
                else:
                    stack[-1] = _LEAF | (args & 0xFF)  # a call sits where its args did
                made += 1
            elif op == _BUILD:
                state = stack.pop()
                work += state >> 8
                stack[-1] = _LEAF | _deeper(stack[-1], state, what)
            elif op == _BINPERSID:
                work += stack[-1] >> 8
                stack[-1] = leaf
                refs += 1
                made += 1
                if refs > CKPT_MAX_TENSORS:
                    raise too_much(
                        _("{pickle} references more than {most:,} storages").format(
                            pickle=_name(what), most=CKPT_MAX_TENSORS
                        )
                    )
            elif op in _FILLS:
                m = marks.pop()
                items = stack[m:]
                del stack[m:]
                if op == _SETITEMS:
                    if len(items) % 2:
                        raise damaged(
                            _("{pickle} has a SETITEMS with an odd number of items").format(
                                pickle=_name(what)
                            )
                        )
                    work += sum(k >> 8 for k in items[::2])
                target = stack[-1]
                for v in items:
                    target = _deeper(target, v, what)
                stack[-1] = _LEAF | target
            elif op == _SETITEM:
                v = stack.pop()
                k = stack.pop()
                work += k >> 8
                stack[-1] = _LEAF | _deeper(_deeper(stack[-1], k, what), v, what)
            elif op == _APPEND:
                v = stack.pop()
                stack[-1] = _LEAF | _deeper(stack[-1], v, what)
            elif op == _GLOBAL:
                nl1 = buf.index(b"\n", pos)
                nl2 = buf.index(b"\n", nl1 + 1)
                full = f"{buf[pos:nl1].decode('utf-8')}.{buf[nl1 + 1 : nl2].decode('utf-8')}"
                pos = nl2 + 1
                names.add(full)
                if len(names) > max_globals:
                    raise damaged(
                        _(
                            "{pickle} names more than {most} different globals, more "
                            "than torch's weights-only loader knows"
                        ).format(pickle=_name(what), most=max_globals)
                    )
                stack.append(leaf)
            elif op in _SHORT_SIZED:
                pos += 1 + buf[pos]
                stack.append(leaf)
            elif op == _PROTO:
                pos += 1
            elif op == _STOP:
                root = stack.pop()
                if pos > limit:
                    break
                return Scan(
                    start, start + pos, ops, refs, frozenset(names), work, made, root & 0xFF
                )
            else:
                raise damaged(
                    _(
                        "{pickle} uses pickle opcode {op} at byte {at:,}, which torch's "
                        "weights-only loader does not support"
                    ).format(
                        pickle=_name(what), op=code_span(repr(bytes([op]))), at=start + pos - 1
                    )
                )
            if work > budget:
                raise too_much(
                    _(
                        "unpickling {pickle} would hash or walk more than {most:,} values "
                        "(a checkpoint's pickle touches each value about once)"
                    ).format(pickle=_name(what), most=budget)
                )
            if made > max_objects:
                raise too_much(
                    _(
                        "{pickle} builds more than {most:,} containers (torch.save "
                        "writes about 8 per tensor)"
                    ).format(pickle=_name(what), most=max_objects)
                )
    except InputError:
        raise
    except (IndexError, KeyError, ValueError, struct.error, UnicodeDecodeError) as err:
        raise damaged(
            _(
                "{pickle} is malformed near byte {at:,} ({error} while reading opcode {ops:,})"
            ).format(pickle=_name(what), at=start + pos, error=type(err).__name__, ops=ops)
        ) from err
    if n > limit:
        raise too_much(
            _(
                "{pickle} is longer than {mb:.1f} MB (torch.save writes ~100 "
                "bytes per tensor: efficientnet_b7 with its Adam state takes 0.3 MB)"
            ).format(pickle=_name(what), mb=limit / 2**20)
        )
    raise damaged(
        _("{pickle} ends before its STOP opcode (the file is cut short?)").format(
            pickle=_name(what)
        )
    )


def _deeper(target: int, item: int, what: str) -> int:
    """The depth of ``target`` once ``item`` is inside it (refused past CKPT_MAX_DEPTH)."""
    d = max(target & 0xFF, (item & 0xFF) + 1)
    if d > CKPT_MAX_DEPTH:
        raise too_much(
            _("{pickle} nests containers more than {most} deep").format(
                pickle=_name(what), most=CKPT_MAX_DEPTH
            )
        )
    return d


def _tuple_of(items: list[int], budget: int, what: str) -> int:
    size = 1
    depth = 0
    for v in items:
        size += v >> 8
        d = v & 0xFF
        if d > depth:
            depth = d
    depth += 1
    if depth > CKPT_MAX_DEPTH:
        raise too_much(
            _("{pickle} nests containers more than {most} deep").format(
                pickle=_name(what), most=CKPT_MAX_DEPTH
            )
        )
    return (min(size, budget + 1) << 8) | depth


# ------------------------------------------------------------------- pass 2: the census


@dataclass(frozen=True, slots=True)
class StorageDecl:
    """One storage a pickle declares through a persistent id."""

    key: str
    type_name: str  # "FloatStorage", or "UntypedStorage"
    itemsize: int
    numel: int
    #: legacy stream only: (view key, offset, size) in elements, or None
    view: tuple[str, int, int] | None = None

    @property
    def nbytes(self) -> int:
        return self.numel * self.itemsize


@dataclass(frozen=True, slots=True)
class Census:
    """What the pickle would build, counted without building it."""

    end: int
    globals: frozenset[str]
    storages: dict[str, StorageDecl]  # by key
    references: int
    tensors: int
    #: bytes torch would allocate beyond the storages (bytearray(n), FloatStorage(n)…)
    allocates: int
    work: int
    depth: int
    #: the stub tree the census built (stubs for every global, plain values otherwise),
    #: kept only when asked (``keep_root``): small pickles whose value is read
    root: Any = None

    @property
    def unsafe_globals(self) -> tuple[str, ...]:
        return tuple(sorted(self.globals - allowed_globals()))


class _Made:
    """What calling (REDUCE/NEWOBJ) a stub global gave: its arguments, BUILD state and
    items, recorded, never acted on."""

    __slots__ = ("args", "items", "listed", "source", "state")

    def __init__(self, source: type[_Global], args: tuple[Any, ...]) -> None:
        self.source = source
        self.args = args
        self.state: Any = None
        self.items: list[tuple[Any, Any]] = []
        self.listed: list[Any] = []

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def append(self, item: Any) -> None:
        self.listed.append(item)

    def extend(self, items: Any) -> None:
        self.listed.extend(items)


class _Storage:
    """What ``persistent_load`` gave: a declared storage."""

    __slots__ = ("decl",)

    def __init__(self, decl: StorageDecl) -> None:
        self.decl = decl


class _Global:
    """Base of the stub classes ``find_class`` returns: calling one records the call."""

    census: ClassVar[_Counter]
    module: ClassVar[str]
    name: ClassVar[str]

    def __new__(cls, *args: Any) -> Any:  # REDUCE and NEWOBJ land here
        return cls.census.made(cls, args)

    @classmethod
    def full(cls) -> str:
        return f"{cls.module}.{cls.name}"


_TENSOR_REBUILDS = frozenset(
    {
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    }
)
#: tensor kinds a model's state_dict never holds; refused (smaller attack surface)
_REFUSED_REBUILDS = {
    "torch._utils._rebuild_nested_tensor": N_("a nested tensor"),
    "torch._utils._rebuild_wrapper_subclass": N_("a tensor subclass without storage"),
    "torch._utils._rebuild_device_tensor_from_numpy": N_("a tensor rebuilt from a NumPy array"),
}
#: builtins that iterate (and hash) their argument
_ITERATING = frozenset(
    {"builtins.set", "collections.Counter", "collections.OrderedDict", "torch.Size"}
)
_SCALARS = (type(None), bool, int, float, str, bytes, _Made, _Storage)


def _is_alloc_class(full: str) -> bool:
    return full.startswith(("torch.", "torch.cuda.", "torch.sparse.")) and (
        full.endswith(("Storage", "Tensor"))
    )


class _Counter:
    """The census's state while the C unpickler runs (one per census: thread-safe)."""

    def __init__(self, *, legacy: bool, alloc_cap: int) -> None:
        self.legacy = legacy
        self.alloc_cap = alloc_cap
        self.classes: dict[tuple[str, str], type[_Global]] = {}
        self.storages: dict[str, StorageDecl] = {}
        self.references = 0
        self.tensors = 0
        self.allocates = 0
        self.work = 0

    # -- the unpickler's hooks

    def find_class(self, module: str, name: str) -> type[_Global]:
        key = (module, name)
        cls = self.classes.get(key)
        if cls is None:
            attrs = {"census": self, "module": module, "name": name, "__slots__": ()}
            cls = cast(type[_Global], type("_Global", (_Global,), attrs))
            self.classes[key] = cls
        return cls

    def persistent_load(self, pid: Any) -> _Storage:
        self.references += 1
        if self.references > CKPT_MAX_TENSORS:
            raise too_much(
                _("its pickle references more than {most:,} storages").format(most=CKPT_MAX_TENSORS)
            )
        decl = self._decl(pid)
        known = self.storages.get(decl.key)
        if known is None:
            self.storages[decl.key] = decl
        elif (known.itemsize, known.numel) != (decl.itemsize, decl.numel):
            raise damaged(
                _("storage {key} is declared twice with different sizes").format(
                    key=code_span(decl.key)
                )
            )
        return _Storage(decl)

    def made(self, cls: type[_Global], args: tuple[Any, ...]) -> _Made:
        full = cls.full()
        self._account(full, args, depth=0)
        return _Made(cls, args)

    # -- checks

    def _decl(self, pid: Any) -> StorageDecl:
        fields = 6 if self.legacy else 5
        if not (isinstance(pid, tuple) and len(pid) == fields):
            raise damaged(_("its pickle has a persistent id that is not torch's storage tuple"))
        kind, storage_type, key, _location, numel = pid[:5]
        if isinstance(kind, bytes):
            kind = kind.decode("ascii", errors="replace")
        if kind != "storage":
            raise damaged(
                _("its pickle loads a persistent {kind}, not a storage").format(
                    kind=code_span(str(kind))
                )
            )
        if not (isinstance(storage_type, type) and issubclass(storage_type, _Global)):
            raise damaged(_("a storage's type in its pickle is not a torch storage class"))
        full = storage_type.full()
        itemsize = (
            1
            if full == "torch.storage.UntypedStorage"
            else STORAGE_ITEMSIZE.get(storage_type.name)
            if storage_type.module in ("torch", "torch.cuda")
            else None
        )
        if itemsize is None:
            raise damaged(
                _("a storage's type, {type}, is not a torch storage class").format(
                    type=code_span(full)
                )
            )
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise damaged(_("a storage in its pickle has no valid key and size"))
        view = None
        if self.legacy and pid[5] is not None:
            v = pid[5]
            if not (
                isinstance(v, tuple)
                and len(v) == 3
                and isinstance(v[0], str)
                and all(isinstance(x, int) and x >= 0 for x in v[1:])
                and v[1] + v[2] <= numel
            ):
                raise damaged(
                    _("storage {key} declares a view outside itself").format(key=code_span(key))
                )
            view = (v[0], v[1], v[2])
        return StorageDecl(key, storage_type.name, itemsize, numel, view)

    def _charge(self, amount: int) -> None:
        self.work += amount
        if self.work > CKPT_MAX_PICKLE_BYTES:
            raise too_much(
                _(
                    "unpickling it would walk more than {most:,} values "
                    "inside set()/Counter()/bytes calls"
                ).format(most=CKPT_MAX_PICKLE_BYTES)
            )

    def _allocate(self, nbytes: int, full: str) -> None:
        self.allocates += nbytes
        if self.allocates > self.alloc_cap:
            raise too_much(
                _(
                    "its pickle calls {call} in a way that would allocate "
                    "{mb:,.0f} MB outside its storages (at most {cap:,.0f} MB)"
                ).format(
                    call=code_span(full), mb=self.allocates / 2**20, cap=self.alloc_cap / 2**20
                )
            )

    def _account(self, full: str, args: tuple[Any, ...], *, depth: int) -> None:
        if full in _REFUSED_REBUILDS:
            raise damaged(
                _("it holds {what} ({call}); a model's state_dict holds plain tensors").format(
                    what=_(_REFUSED_REBUILDS[full]), call=code_span(full)
                )
            )
        if full in _TENSOR_REBUILDS:
            self.tensors += 1
            if self.tensors > CKPT_MAX_TENSORS:
                raise too_much(
                    _("it holds more than {most:,} tensors").format(most=CKPT_MAX_TENSORS)
                )
        if full.startswith("torch._utils._rebuild_tensor"):
            _check_view(args)
        elif full == "torch._utils._rebuild_qtensor":
            size = args[2] if len(args) > 2 else ()
            storage = args[0] if args else None
            itemsize = storage.decl.itemsize if isinstance(storage, _Storage) else _WIDEST
            self._allocate(_numel(size) * itemsize, full)
            _check_view(args)
        elif full == "torch._utils._rebuild_device_tensor_from_cpu_tensor":
            self._allocate(_logical_numel(args[0] if args else None) * _WIDEST, full)
        elif full == "torch._tensor._rebuild_from_type_v2":
            func = args[0] if args else None
            if isinstance(func, type) and issubclass(func, _Global) and depth < 2:
                inner = args[2] if len(args) > 2 and isinstance(args[2], tuple) else ()
                self._account(func.full(), inner, depth=depth + 1)
        elif full == "builtins.bytearray":
            if args and isinstance(args[0], int) and not isinstance(args[0], bool):
                self._allocate(max(args[0], 0), full)
            elif args:
                self._charge(_length(args[0]))
        elif full == "_codecs.encode":
            encoding = args[1] if len(args) > 1 else "utf-8"
            if not isinstance(encoding, str) or encoding.lower() not in _BYTES_ENCODINGS:
                raise damaged(
                    _(
                        "its pickle encodes text with {encoding}; pickle writes bytes with latin1"
                    ).format(encoding=code_span(str(encoding)))
                )
            self._charge(_length(args[0]) if args else 0)
        elif full in _ITERATING or full == "builtins.complex":
            for a in args:
                self._charge(_flat_length(a, full))
        elif _is_alloc_class(full):
            self._allocate(_constructor_bytes(args), full)


def _length(x: Any) -> int:
    return len(x) if isinstance(x, str | bytes | bytearray | tuple | list | dict) else 1


def _flat_length(x: Any, full: str) -> int:
    """Elements an iterating builtin touches; refused when they are nested containers
    (hashing those has no bound a census can see)."""
    if isinstance(x, _SCALARS):
        return _length(x)
    if isinstance(x, dict):
        x = list(x)
    if isinstance(x, list | tuple | set):
        total = len(x) + 1
        for item in x:
            if isinstance(item, tuple):
                if not all(isinstance(i, _SCALARS) for i in item):
                    raise damaged(
                        _(
                            "its pickle calls {call} on nested containers; torch.save "
                            "never writes that for weights"
                        ).format(call=code_span(full))
                    )
                total += len(item)
            elif isinstance(item, list | dict | set):
                total += len(item)
        return total
    return 1


def _numel(size: Any) -> int:
    if isinstance(size, int) and not isinstance(size, bool):
        return max(size, 0)
    if isinstance(size, tuple | list) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in size
    ):
        return math.prod(max(s, 0) for s in size)
    if isinstance(size, _Made) and size.source.full() == "torch.Size" and size.args:
        return _numel(size.args[0])
    return 0


def _constructor_bytes(args: tuple[Any, ...]) -> int:
    """What ``torch.FloatTensor(*args)`` / ``FloatStorage(*args)`` would allocate, at the
    widest element size: sizes given as ints (or one tuple of ints), or data as a list."""
    ints = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
    if ints:
        return math.prod(max(i, 0) for i in ints) * _WIDEST
    total = 0
    for a in args:
        if isinstance(a, tuple | list) or (isinstance(a, _Made) and a.source.name == "Size"):
            total += max(_numel(a), len(a) if isinstance(a, tuple | list) else 0) * _WIDEST
    return total


def _logical_numel(t: Any) -> int:
    """Elements of a rebuilt tensor stub as its size says (strides may repeat storage)."""
    if isinstance(t, _Made):
        full = t.source.full()
        if full.startswith("torch._utils._rebuild_tensor") and len(t.args) > 2:
            return _numel(t.args[2])
        if full.startswith("torch._utils._rebuild_parameter") and t.args:
            return _logical_numel(t.args[0])
    return 0


def _check_view(args: tuple[Any, ...]) -> None:
    """A rebuilt tensor must lie inside its storage (torch checks this too, later)."""
    if len(args) < 4 or not isinstance(args[0], _Storage):
        return
    decl, offset, size, stride = args[0].decl, args[1], args[2], args[3]
    if (
        type(offset) is not int
        or type(size) is not tuple
        or type(stride) is not tuple
        or len(size) != len(stride)
        or offset < 0
    ):
        raise _bad_view(decl, _("has no valid offset, size and stride"))
    last = offset
    empty = False
    for n, step in zip(size, stride, strict=True):
        if type(n) is not int or type(step) is not int or n < 0 or step < 0:
            raise _bad_view(decl, _("has a size or stride that is not a whole number ≥ 0"))
        if n == 0:
            empty = True
        last += (n - 1) * step
    if not empty and last >= decl.numel:
        raise _bad_view(
            decl,
            _("reaches element {last:,} of a storage of {numel:,}").format(
                last=last, numel=decl.numel
            ),
        )


def _bad_view(decl: StorageDecl, what: str) -> InputError:
    return damaged(_("a tensor on storage {key} {what}").format(key=code_span(decl.key), what=what))


class _CensusUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, counter: _Counter) -> None:
        super().__init__(file, encoding="utf-8")
        self._counter = counter

    def find_class(self, module: str, name: str) -> Any:
        return self._counter.find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self._counter.persistent_load(pid)


def census(
    data: bytes | memoryview,
    start: int,
    *,
    what: str,
    limit: int = CKPT_MAX_PICKLE_BYTES,
    legacy: bool = False,
    alloc_cap: int,
    keep_root: bool = False,
) -> Census:
    """:func:`scan` the pickle at ``data[start]``, then take its census (see the module
    docstring). Raises :class:`InputError` for anything unbounded or malformed."""
    s = scan(data, start, what=what, limit=limit)
    counter = _Counter(legacy=legacy, alloc_cap=alloc_cap)
    body = io.BytesIO(bytes(data[s.start : s.end]))
    try:
        root = _CensusUnpickler(body, counter).load()
    except InputError:
        raise
    except Exception as err:  # the scan bounded it; whatever else breaks, it is damaged
        raise damaged(
            _("{pickle} does not unpickle ({error})").format(
                pickle=_name(what), error=type(err).__name__
            )
        ) from err
    return Census(
        end=s.end,
        globals=s.globals,
        storages=counter.storages,
        references=counter.references,
        tensors=counter.tensors,
        allocates=counter.allocates,
        work=s.work + counter.work,
        depth=s.depth,
        root=root if keep_root else None,
    )

"""One process-wide cache for frozen results every session may read (never mutate).

It replaces ``st.cache_resource`` on the hot path: Streamlit's cache inspects the
function's signature and hashes every argument with its own hasher on every call — about
0.3 ms per call, a tenth of the model explorer's rerun, measured with py-spy under load
(``bench/load.py --profile``). Here a call with the same arguments is one dict lookup
under a lock. Arguments are the key, so they must be hashable (str, int, tuples);
parameters whose names start with ``_`` are left out of the key, as Streamlit does (pass
the bytes with their digest); the rerun's language is part of every key. A miss computes
outside the lock (two sessions may compute the same value once each; the first stored
wins) and, with ``spinner`` (English, marked ``N_()``), says what it does in the rerun's
language.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from ptexplore import i18n

P = ParamSpec("P")
R = TypeVar("R")


def shared(
    max_entries: int, *, spinner: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep the last ``max_entries`` results of the decorated pure function."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        names = list(inspect.signature(fn).parameters)
        skip = frozenset(i for i, n in enumerate(names) if n.startswith("_"))
        lock = threading.Lock()
        store: OrderedDict[Hashable, Any] = OrderedDict()

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key: Hashable = (
                i18n.current(),  # a result may hold text a learner reads
                tuple(a for i, a in enumerate(args) if i not in skip),
                tuple(sorted((k, v) for k, v in kwargs.items() if not k.startswith("_"))),
            )
            with lock:
                if key in store:
                    store.move_to_end(key)
                    hit: R = store[key]
                    return hit
            if spinner is None:
                value = fn(*args, **kwargs)
            else:
                with st.spinner(i18n._(spinner)):  # marked N_(), said in the rerun's language
                    value = fn(*args, **kwargs)
            with lock:
                value = store.setdefault(key, value)
                store.move_to_end(key)
                while len(store) > max_entries:
                    store.popitem(last=False)
            return value

        wrapper.clear = store.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate

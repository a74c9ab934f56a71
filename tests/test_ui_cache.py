"""The process-wide cache of frozen results: one computation per key, LRU eviction, and
``_``-parameters left out of the key (as ``st.cache_resource`` does)."""

from __future__ import annotations

import threading

from ptexplore.ui.cache import shared


def test_same_arguments_compute_once_and_return_the_same_object() -> None:
    calls: list[tuple[str, int]] = []

    @shared(2)
    def build(key: str, n: int, _data: bytes = b"") -> tuple[str, int]:
        calls.append((key, n))
        return (key, n)

    a = build("a", 1, b"x")
    assert build("a", 1, b"other bytes") is a  # _data is not part of the key
    build("b", 2)
    build("c", 3)  # evicts the least recently used ("a")
    assert build("b", 2) == ("b", 2) and len(calls) == 3
    build("a", 1)
    assert calls == [("a", 1), ("b", 2), ("c", 3), ("a", 1)]


def test_many_threads_read_one_value() -> None:
    @shared(4)
    def value(k: int) -> object:
        return object()

    first = value(1)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(value(1))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(v is first for v in seen)

"""The process-wide cache of frozen results: one computation per key, LRU eviction, and
``_``-parameters left out of the key (as ``st.cache_resource`` does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

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


def test_the_spinner_says_what_it_does_in_the_reruns_language(monkeypatch: Any) -> None:
    """The marked English ``spinner`` is looked up when the miss runs: a Chinese rerun
    shows the catalog's Chinese (it showed the English)."""
    import contextlib

    import ptexplore.ui.cache as cache
    from ptexplore import i18n
    from ptexplore.i18n import Lang

    said: list[str] = []

    @contextlib.contextmanager
    def spinner(text: str) -> Iterator[None]:
        said.append(text)
        yield

    monkeypatch.setattr(cache.st, "spinner", spinner)
    english = "Tracing a forward pass on meta tensors…"

    @shared(2, spinner=i18n.N_(english))
    def trace(k: int) -> int:
        return k

    trace(1)
    with i18n.language(Lang.ZH):
        trace(1)  # a Chinese rerun misses too: the language is part of the key
    assert said[0] == english
    assert said[1] == i18n.catalog(Lang.ZH)[english] and said[1] != english

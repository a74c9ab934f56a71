"""Every tab of every page in 简体中文: it runs, shows no English sentence (code, names and
torch's own messages aside), and its code panels print exactly what they print in English.

One AppTest session per page walks its tabs: each tab runs in Chinese, then the same
session switches to English and runs it again (the language is part of every result's
key, so the English run recomputes), and the code blocks of both runs are compared.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ptexplore import pages
from ptexplore.ui import augment, autograd, checkpoints, data, models, tensors, view
from tests.conftest import open_page
from tests.i18n_tools import english_left

#: (page, its sections), in sidebar order
LABS: list[tuple[pages.PageInfo, tuple[Any, ...]]] = [
    (pages.TENSORS, tuple(tensors.SECTIONS)),
    (pages.VIEW, (view.SECTION,)),
    (pages.MODELS, tuple(models.SECTIONS)),
    (pages.AUGMENT, tuple(augment.SECTIONS)),
    (pages.AUTOGRAD, tuple(autograd.SECTIONS)),
    (pages.CHECKPOINTS, tuple(checkpoints.SECTIONS)),
    (pages.DATA, tuple(data.SECTIONS)),
]


def _codes(at: AppTest) -> list[Any]:
    """The code panels; a JSON one (a safetensors header) as its data: safetensors writes
    ``__metadata__`` in no fixed order, so the same save differs byte-wise run to run."""
    out: list[Any] = []
    for c in at.code:
        try:
            out.append(json.loads(c.value) if c.language == "json" else c.value)
        except ValueError:
            out.append(c.value)
    return out


def _run(at: AppTest) -> None:
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _switch(at: AppTest, lang: str) -> None:
    at.session_state["shared.lang"] = lang
    _run(at)


def _open(at: AppTest, page: pages.PageInfo, section: Any, several: bool) -> None:
    if several:
        at.session_state[f"{page.key}.tab"] = section.label or section.name
    _run(at)


def test_the_landing_page_is_all_chinese() -> None:
    at = open_page(None, lang="zh")
    assert english_left(at) == []


@pytest.mark.parametrize(("page", "sections"), LABS, ids=[p.key for p, _s in LABS])
def test_every_tab_in_chinese_prints_the_same_code_output(
    page: pages.PageInfo, sections: tuple[Any, ...]
) -> None:
    at = open_page(page.file, lang="zh")
    several = len(sections) > 1
    left: dict[str, list[str]] = {}
    for section in sections:
        _open(at, page, section, several)
        zh = _codes(at)
        found = english_left(at)
        if found:
            left[section.name] = found
        _switch(at, "en")
        assert _codes(at) == zh, f"{page.key}.{section.name}: the code panels differ"
        _switch(at, "zh")
    assert not left, f"English left on {page.key} in Chinese: {left}"


def test_a_lesson_in_chinese_quotes_torchs_own_words() -> None:
    """The explanation and the fix are translated; what torch said stays as torch said it."""
    at = open_page(pages.VIEW.file, lang="zh")
    at.text_input(key="view.shape").set_value("5, -1")
    _run(at)
    (said,) = [e.value for e in at.error]
    assert "shape '[5, -1]' is invalid for input of size 24" in said  # torch's RuntimeError
    assert "**修正：**" in said and "24 / 5" in said
    assert english_left(at) == ["Error: cannot reshape array of size"]  # numpy's, in the output
    at = open_page(pages.TENSORS.file, lang="zh")
    at.selectbox(key="tensors.layout").set_value("reversed view (a[::-1])")
    _run(at)
    (said,) = [e.value for e in at.error]
    assert "被拒绝：At least one stride in the given numpy array is negative" in said
    assert "**修正：**" in said

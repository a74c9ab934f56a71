"""The README's library example runs as written and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re

from tests.conftest import ROOT


def test_readme_library_example_runs() -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python example"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(blocks[0], "README.md", "exec"), {})
    out = buf.getvalue()
    assert "68 11689512" in out
    assert "[1, 1000] 1.814 GMACs" in out
    assert "0 - Conv2d(3, 64, kernel_size=(7, 7)" in out
    assert "model module. (10, 4) True" in out
    assert "streamlit" not in blocks[0]

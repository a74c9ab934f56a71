"""The design card's rules, checked: only ptexplore/ui imports streamlit; pages stay thin."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

PKG = ROOT / "ptexplore"


def _imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_ui_imports_streamlit() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in PKG.rglob("*.py")
        if "ui" not in p.relative_to(PKG).parts[:1]
        and "streamlit" in _imports(str(p.relative_to(ROOT)))
    ]
    assert offenders == []


def test_library_imports_without_streamlit() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in PKG.rglob("*.py")
        if p.relative_to(PKG).parts[0] != "ui" and p.name != "__init__.py"
    )
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules)
    code += "print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_pages_are_thin_and_named_for_the_learning_path() -> None:
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert [p.name.split("_", 1)[0] for p in pages] == [str(i) for i in range(1, len(pages) + 1)]
    for p in pages:
        text = p.read_text()
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert len(lines) <= 80, f"{p.name}: {len(lines)} lines; logic belongs in ptexplore/"
        assert "page_setup(" in text

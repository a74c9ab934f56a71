"""The design card's rules, checked: only ptexplore/ui imports streamlit; pages are thin
calls of the lab skeleton; no import cycle inside ptexplore; one key convention."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_every_page_is_one_call_of_the_lab_skeleton() -> None:
    """widgets → config → library → result → render → code lives in ptexplore.ui.lab:
    a page imports it, calls lab_page once, and touches Streamlit nowhere else."""
    for p in sorted((ROOT / "pages").glob("*.py")):
        tree = ast.parse(p.read_text())
        calls = [
            n.func.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        ]
        assert calls.count("lab_page") == 1, p.name
        assert "streamlit" not in _imports(str(p.relative_to(ROOT))), p.name
        assert any(
            isinstance(n, ast.ImportFrom) and n.module == "ptexplore.ui.lab" for n in ast.walk(tree)
        ), p.name


def _module_imports(path: Path) -> set[str]:
    """Every ptexplore module this file imports, at any depth (lazy imports included)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ptexplore")}
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ptexplore")
        ):
            found.add(node.module)
            for alias in node.names:  # "from ptexplore.ui import models" imports a module
                sub = f"{node.module}.{alias.name}"
                if (PKG.parent / (sub.replace(".", "/") + ".py")).exists():
                    found.add(sub)
    return found


def test_no_import_cycle_inside_ptexplore() -> None:
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PKG.rglob("*.py")
    }
    graph = {
        m: {d for d in _module_imports(p) if d in modules and d != m} for m, p in modules.items()
    }
    # a package's __init__ importing its own submodules is not a cycle worth reporting
    for m in graph:
        graph[m] = {
            d for d in graph[m] if not (modules[m].name == "__init__.py" and d.startswith(m))
        }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = [*path[path.index(d) :], d]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if d not in state:
                visit(d)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_widget_and_state_keys_follow_page_dot_name() -> None:
    """No literal key outside the convention: keys come from PageState (``"<page>.<name>"``)."""
    offenders = []
    for p in (PKG / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "key":
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    offenders.append(f"{p.name}: key={value.value!r}")
    assert offenders == []

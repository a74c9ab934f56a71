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


# ------------------------------------------------------------------ package layers


def _layers() -> dict[str, str]:
    """``unit → layer`` from the ```layers block of ARCHITECTURE.md (the map is the rule)."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    block = text.split("```layers\n", 1)[1].split("```", 1)[0]
    units: dict[str, str] = {}
    for line in block.strip().splitlines():
        layer, _, names = line.partition(":")
        for name in names.split():
            assert name not in units, f"{name} is in two layers"
            units[name] = layer.strip()
    return units


ORDER = {"foundation": 0, "domain": 1, "entry": 2, "ui": 2}


def _unit(module: str) -> str:
    """``ptexplore.models.catalog`` → ``models``; ``ptexplore`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _unit_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _all(package: str) -> set[str]:
    init = PKG / package / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(e) for e in node.value.elts}  # type: ignore[attr-defined]
    return set()


def _ptexplore_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) for every ptexplore import in the file."""
    out: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("ptexplore")]
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ptexplore")
        ):
            out.append((node.module, [a.name for a in node.names], node.lineno))
    return out


def test_every_module_is_in_a_layer_and_every_package_has_an_init() -> None:
    units = _layers()
    found = {_unit_of(p) for p in PKG.rglob("*.py")}
    assert sorted(found - set(units)) == [], "add them to ARCHITECTURE.md's layers block"
    assert sorted(set(units) - found) == [], "ARCHITECTURE.md names units that do not exist"
    missing = [
        str(d.relative_to(ROOT))
        for d in PKG.rglob("*")
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
        if not (d / "__init__.py").exists()
    ]
    assert missing == []


def _check(
    units: dict[str, str],
    graph: dict[str, set[str]],
    where: str,
    line: int,
    me: str,
    dep: str,
    module: str,
    names: list[str],
) -> list[str]:
    """What is wrong with ``me`` importing ``names`` from ``module`` (unit ``dep``)."""
    problems: list[str] = []
    graph[me].add(dep)
    mine, theirs = units[me], units[dep]
    if (theirs in ("ui", "entry") and mine != theirs) or (
        mine != "ui" and ORDER[theirs] > ORDER[mine]
    ):
        problems.append(f"{where}:{line} {mine} imports {theirs} {module}")
    if mine == "domain" and theirs == "domain":
        public = _all(dep)
        if module != f"ptexplore.{dep}" or not set(names) <= public:
            problems.append(
                f"{where}:{line} reaches into {module} ({', '.join(names)}): "
                f"import names from ptexplore.{dep}'s __all__"
            )
    # ``_`` is gettext's name for "translate" (ptexplore.i18n), public by convention
    private = [n for n in names if n.startswith("_") and n not in ("__version__", "_")]
    private += [p for p in module.split(".") if p.startswith("_") and p != "__main__"]
    if private:
        problems.append(f"{where}:{line} imports private {private} from {module}")
    return problems


def test_layers_at_package_level() -> None:
    """foundation ← domain ← ui / entry; a domain package uses another only through the
    names its ``__init__`` exports; no package cycle; no private name across packages."""
    units = _layers()
    graph: dict[str, set[str]] = {u: set() for u in units}
    problems: list[str] = []
    for path in PKG.rglob("*.py"):
        me = _unit_of(path)
        where = str(path.relative_to(ROOT))
        for module, names, line in _ptexplore_imports(path):
            if module == "ptexplore":  # from ptexplore import live, __version__
                deps = [(n if n in units else "__init__", [n]) for n in names]
            else:
                deps = [(_unit(module), names)]
            for dep, imported in deps:
                if dep != me:
                    problems += _check(units, graph, where, line, me, dep, module, imported)
    assert problems == []

    state: dict[str, int] = {}

    def visit(u: str, path: list[str]) -> None:
        state[u] = 1
        for d in sorted(graph[u]):
            if state.get(d) == 1:
                raise AssertionError("package cycle: " + " → ".join([*path, u, d]))
            if d not in state:
                visit(d, [*path, u])
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u, [])


def test_pages_import_only_the_ui_and_the_page_registry() -> None:
    for p in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for module, _names, _line in _ptexplore_imports(p):
            # the page's title and its intro text, marked for the catalog (N_)
            allowed = ("ptexplore.pages", "ptexplore.i18n")
            assert module.startswith("ptexplore.ui") or module in allowed, (p, module)


# ------------------------------------------------------------------ one lab shape


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def test_every_tab_is_a_section_run_by_the_framework() -> None:
    """Pages pass sections to lab_page; no ui module draws code panels or tabs itself."""
    import inspect

    from ptexplore.ui import lab

    assert set(inspect.signature(lab.lab_page).parameters) == {
        "page",
        "sections",
        "intro",
        "setup",
    }
    for p in sorted((ROOT / "pages").glob("*.py")):
        (call,) = [c for c in _calls(ast.parse(p.read_text())) if _name(c) == "lab_page"]
        assert {k.arg for k in call.keywords} <= {"sections", "intro", "setup"}, p.name
        assert "sections" in {k.arg for k in call.keywords}, p.name
    offenders = []
    for path in (PKG / "ui").rglob("*.py"):
        if path.name in {"lab.py", "render.py", "state.py"}:
            continue
        for c in _calls(ast.parse(path.read_text())):
            if _name(c) in {"code_panel", "run_tabs", "run_section", "run_sections", "tabs"}:
                offenders.append(f"{path.relative_to(ROOT)}:{c.lineno} {_name(c)}")
    assert offenders == []


def test_every_page_runs_sections() -> None:
    """Each page's sections, as the page module hands them to lab_page, are Sections."""
    import importlib

    from ptexplore.ui.lab import Section

    for p in sorted((ROOT / "pages").glob("*.py")):
        (call,) = [c for c in _calls(ast.parse(p.read_text())) if _name(c) == "lab_page"]
        value = next(k.value for k in call.keywords if k.arg == "sections")
        text = ast.unparse(value)
        module, _, attr = text.strip("[]").partition(".")
        ui = importlib.import_module(f"ptexplore.ui.{module}")
        sections = getattr(ui, attr)
        sections = sections if isinstance(sections, (list, tuple)) else [sections]
        assert sections and all(isinstance(s, Section) for s in sections), p.name
        if len(sections) > 1:
            labels = [s.label for s in sections]
            assert all(labels) and len(set(labels)) == len(labels), p.name
        assert len({s.name for s in sections}) == len(sections), p.name


def test_one_cache_for_shared_results_and_one_for_the_session() -> None:
    """No st.cache_resource / st.cache_data / functools.cache in ui/: shared frozen results
    go through ui.cache.shared, per-session ones through the framework's memo."""
    banned = {"cache_resource", "cache_data", "cache", "lru_cache"}
    offenders = []
    for path in (PKG / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else None
            )
            if name in banned:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")  # type: ignore[attr-defined]
    assert offenders == []


def test_ui_modules_are_rooms_of_at_most_about_400_lines() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for p in (PKG / "ui").rglob("*.py")
    }
    assert {p: n for p, n in sizes.items() if n > 420} == {}


def test_the_readme_links_the_map() -> None:
    assert "](ARCHITECTURE.md)" in (ROOT / "README.md").read_text()

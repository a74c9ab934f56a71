"""The 简体中文 interface: the catalog is complete and clean, no learner text bypasses it,
the language follows the session (link, sidebar, server default) into sandboxed jobs."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po as babel_read_po

from ptexplore import i18n, isolate
from ptexplore.i18n import Lang
from tests import sandbox_jobs as jobs
from tests.conftest import open_page
from tests.i18n_tools import ROOT, SOURCES, _files, english_in, extract, missing

UI = ROOT / "ptexplore" / "ui"


# ------------------------------------------------------------------------ the catalog


def _babel_entries() -> list[tuple[Path, object]]:
    with i18n.CATALOG.open("rb") as f:
        cat = babel_read_po(f)
    return [(i18n.CATALOG, m) for m in cat if m.id]


def test_the_reader_reads_what_babel_reads() -> None:
    with i18n.CATALOG.open("rb") as f:
        cat = babel_read_po(f)
    theirs = {m.id: (m.string, m.fuzzy) for m in cat if m.id}
    assert i18n.read_po(i18n.CATALOG) == theirs


def test_every_marked_string_has_a_chinese_translation() -> None:
    # Babel's extractor misses a call inside an f-string on Python 3.11: the AST does not
    have = i18n.catalog(Lang.ZH)
    unseen = [
        f"{path.relative_to(ROOT)}:{call.lineno}: {call.args[0].value!r}"
        for path in _files(SOURCES)
        for call in _gettext_calls(ast.parse(path.read_text(encoding="utf-8")))
        if call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
        and call.args[0].value not in have
    ]
    assert not unseen, "untranslated:\n" + "\n".join(unseen[:40])
    left = missing()
    assert not left, "untranslated (python -m tests.i18n_tools stub …):\n" + "\n".join(
        f"{where[0]}: {msgid!r}" for msgid, where in list(left.items())[:40]
    )


_FIELD = re.compile(r"\{[^{}]*\}")
_PRINTF = re.compile(r"%[sdrif]|%\.\d+f")
_SPAN = re.compile(r"`[^`]+`")


def test_no_translation_is_empty_or_fuzzy_and_each_keeps_placeholders_and_code() -> None:
    problems = []
    for path, m in _babel_entries():
        msgid, msgstr = str(m.id), str(m.string)  # type: ignore[attr-defined]
        where = f"{path.name}: {msgid[:60]!r}"
        if m.fuzzy or not msgstr.strip():  # type: ignore[attr-defined]
            problems.append(f"{where}: fuzzy or empty")
            continue
        if Counter(_FIELD.findall(msgid)) != Counter(_FIELD.findall(msgstr)):
            problems.append(f"{where}: placeholders {_FIELD.findall(msgstr)}")
        if Counter(_PRINTF.findall(msgid)) != Counter(_PRINTF.findall(msgstr)):
            problems.append(f"{where}: %-placeholders differ")
        if set(_SPAN.findall(msgid)) != set(_SPAN.findall(msgstr)):
            problems.append(
                f"{where}: code spans {set(_SPAN.findall(msgid)) ^ set(_SPAN.findall(msgstr))}"
            )
    assert not problems, "\n".join(problems[:40])


def test_an_entry_is_in_the_catalog_once_and_still_in_the_code(tmp_path: Path) -> None:
    twice = tmp_path / "twice.po"
    twice.write_text('msgid "Run"\nmsgstr "运行"\n\nmsgid "Run"\nmsgstr "跑"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="'Run' is in the catalog twice"):
        i18n.read_po(twice)
    used = extract()
    gone = [k for k in i18n.read_po(i18n.CATALOG) if k not in used]
    assert not gone, "translations of text no longer in the code:\n" + "\n".join(gone[:20])


def test_the_glossary_holds_the_terms_the_issue_names() -> None:
    terms = {zh for _en, zh, _note in i18n.glossary()}
    for word in (
        "张量",
        "视图",
        "步长",
        "梯度",
        "叶子节点",
        "计算图",
        "数据增强",
        "检查点",
        "状态字典",
    ):
        assert word in terms


def test_the_about_box_shows_the_glossary_as_it_is_written() -> None:
    at = open_page(None, lang="zh")
    terms = next(m.value for m in at.sidebar.markdown if m.value.startswith("- tensor → "))
    assert "- tensor → **张量**" in terms.splitlines()
    assert "- leaf tensor → **叶子节点** — requires\\_grad=True 且不由运算产生的张量" in terms
    assert len(terms.splitlines()) == len(i18n.glossary())  # a line per term


# ------------------------------------------------------------- the code marks its text


def _gettext_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("_", "N_")
    ]


def _binds_underscore(tree: ast.AST) -> list[int]:
    """Lines that bind the name ``_`` (``x, _ = …``, ``for _ in``, ``except E as _``): in a
    module that imports gettext's ``_`` that shadows it — a function that does it anywhere
    makes ``_`` local there, and its ``_("…")`` calls a tuple item or fails."""
    lines = []
    for n in ast.walk(tree):
        stored = isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
        if stored or (isinstance(n, ast.ExceptHandler) and n.name == "_"):
            lines.append(n.lineno)
    return lines


def test_no_module_that_translates_rebinds_the_underscore() -> None:
    bad = []
    for path in _files(SOURCES):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_it = any(
            isinstance(n, ast.ImportFrom)
            and n.module == "ptexplore.i18n"
            and any(a.name == "_" and a.asname is None for a in n.names)
            for n in ast.walk(tree)
        )
        if imports_it:
            bad += [f"{path.relative_to(ROOT)}:{line}" for line in _binds_underscore(tree)]
    assert not bad, "rename these throwaway names (e.g. `_n`):\n" + "\n".join(bad)


def test_gettext_takes_one_fixed_string() -> None:
    """``_(f"…")`` or ``_("a" + b)`` could never be in the catalog; ``N_`` takes only a
    literal, ``_`` a literal or a marked value (a name, an attribute, a call's result)."""
    bad = []
    for path in _files(SOURCES):
        for call in _gettext_calls(ast.parse(path.read_text(encoding="utf-8"))):
            arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            assert isinstance(call.func, ast.Name)
            formatted = (
                isinstance(arg, ast.Call)
                and isinstance(arg.func, ast.Attribute)
                and arg.func.attr == "format"
            )
            ok = literal or (
                call.func.id == "_"
                and isinstance(arg, ast.Name | ast.Attribute | ast.Subscript | ast.Call)
                and not formatted
            )
            if not ok:
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not bad, bad


#: Streamlit calls whose text arguments a learner reads.
_TEXT_CALLS = frozenset(
    [
        "markdown",
        "caption",
        "write",
        "info",
        "warning",
        "error",
        "success",
        "toast",
        "title",
        "header",
        "subheader",
        "button",
        "download_button",
        "link_button",
        "page_link",
        "toggle",
        "checkbox",
        "radio",
        "selectbox",
        "multiselect",
        "select_slider",
        "slider",
        "number_input",
        "text_input",
        "text_area",
        "file_uploader",
        "expander",
        "tabs",
        "metric",
        "spinner",
        "popover",
        "segmented_control",
        "pills",
        "form_submit_button",
        "status",
        "chat_input",
        "color_picker",
        "date_input",
        "time_input",
        "feedback",
        "TextColumn",
        "NumberColumn",
        "CheckboxColumn",
        "SelectboxColumn",
        "Column",
        "ProgressColumn",
        "LineChartColumn",
        "BarChartColumn",
        "ListColumn",
        "LinkColumn",
        "ImageColumn",
    ]
)
#: keyword arguments that are text (``options`` only without a ``format_func``)
_TEXT_KEYWORDS = frozenset(("label", "help", "caption", "placeholder", "body", "text"))
#: text that is the same in both languages (names, symbols)
ALLOWED = frozenset(("### 🔦 ptexplore", "Language · 语言"))


def _prose(node: ast.AST) -> list[str]:
    """The English literals in an argument: a string constant (unless it is all code),
    the literal parts of an f-string, both sides of ``+`` and of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if text in ALLOWED or re.fullmatch(r"\s*(`[^`]*`\s*)+", text):
            return []
        return [text] if re.search(r"[A-Za-z]{2,}", _SPAN.sub("", text)) else []
    if isinstance(node, ast.JoinedStr):
        parts = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return [parts] if re.search(r"[A-Za-z]{2,}", _SPAN.sub("", parts)) else []
    if isinstance(node, ast.BinOp):
        return _prose(node.left) + _prose(node.right)
    if isinstance(node, ast.IfExp):
        return _prose(node.body) + _prose(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return [t for e in node.elts for t in _prose(e)]
    return []


def literals_bypassing_the_catalog(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name not in _TEXT_CALLS:
            continue
        receiver = node.func.value
        if name == "write" and not (isinstance(receiver, ast.Name) and receiver.id == "st"):
            continue  # a file's write(), not st.write
        args: list[ast.AST] = list(node.args)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        args += [v for k, v in keywords.items() if k in _TEXT_KEYWORDS]
        if "options" in keywords and "format_func" not in keywords:
            args.append(keywords["options"])
        if (
            name
            in (
                "radio",
                "selectbox",
                "multiselect",
                "select_slider",
                "segmented_control",
                "pills",
            )
            and len(node.args) > 1
            and "format_func" in keywords
        ):
            args.remove(node.args[1])  # English option values, shown translated
        found += [(node.lineno, text) for arg in args for text in _prose(arg)]
    return found


def test_no_literal_in_the_ui_bypasses_the_catalog() -> None:
    bad = []
    for path in sorted(UI.rglob("*.py")):
        for line, text in literals_bypassing_the_catalog(path.read_text(encoding="utf-8")):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {text[:70]!r}")
    assert not bad, "wrap these in _() (or N_() where defined):\n" + "\n".join(bad)


def test_the_check_finds_what_it_must() -> None:
    src = (
        'st.caption("Plain English")\n'
        'st.button(f"Run {n} times")\n'
        'col.metric(label="Speed", value=x)\n'
        'st.markdown("**Fix:** " + fix)\n'
        'st.radio("Pick", ["a b", "c d"])\n'
        'st.caption(_("Fine"))\n'
        'st.code("print(1)")\n'
        'st.markdown("`x.view(6)`")\n'
        'st.radio(_("Pick"), ["keep", "these"], format_func=_)\n'
        'f.write("not streamlit")\n'
    )
    assert [line for line, _t in literals_bypassing_the_catalog(src)] == [1, 2, 3, 4, 5]


def test_english_runs_are_found_and_code_is_not() -> None:
    assert english_in("形状是 `x.view(6)`，stride 为 (3, 1)") == []
    assert english_in("这是 the old text left over") == ["the old text left over"]
    assert english_in("model.features.0 的 named_parameters() 有 2 个") == []


# ------------------------------------------------------------ the language of a session


def test_a_language_is_read_from_text_and_from_the_server() -> None:
    assert [i18n.parse_lang(t) for t in ("zh", "zh-CN", "zh_CN", "EN", "fr", "", None)] == [
        Lang.ZH,
        Lang.ZH,
        Lang.ZH,
        Lang.EN,
        None,
        None,
        None,
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(i18n.LANG_ENV, "zh")
        assert i18n.default() is Lang.ZH and i18n.current() is Lang.ZH
        mp.setenv(i18n.LANG_ENV, "klingon")
        assert i18n.default() is Lang.EN


def test_text_is_looked_up_in_the_language_of_the_context() -> None:
    assert i18n._("Tensor lab") == "Tensor lab"
    with i18n.language(Lang.ZH):
        assert i18n._("Tensor lab") == "张量实验室"
        assert i18n._("not in the catalog") == "not in the catalog"
        assert i18n.N_("Tensor lab") == "Tensor lab"
    assert i18n.current() is Lang.EN


def test_a_sandboxed_job_runs_in_its_callers_language() -> None:
    with i18n.language(Lang.ZH):
        assert isolate.job("a lesson").call(jobs.translated, "Tensor lab") == "张量实验室"
    assert isolate.job("a lesson").call(jobs.translated, "Tensor lab") == "Tensor lab"


def test_the_link_sets_the_language_and_the_sidebar_switches_it() -> None:
    at = open_page(None, lang="zh")
    assert at.title[0].value == "🔦 ptexplore — 看见 PyTorch"
    assert at.session_state["shared.lang"] == "zh"
    at.switch_page("pages/2_View_Reshape_Lab.py").run()
    assert at.title[0].value == "🧮 view() / reshape 实验室"  # the session keeps it
    at.session_state["shared.lang"] = "en"
    at.run()
    assert at.title[0].value == "🧮 view() / reshape lab"
    assert "lang" not in at.query_params  # English is this server's default


def test_a_page_without_a_link_opens_in_the_servers_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    at = open_page(None)
    assert at.title[0].value == "🔦 ptexplore — 看见 PyTorch"
    at = open_page(None, lang="en")
    assert at.title[0].value == "🔦 ptexplore — see PyTorch"
    assert at.query_params["lang"] == "en"  # not the default here: the link says so

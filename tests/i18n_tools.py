"""The catalog's tools, for the tests and for whoever translates (Babel does the reading).

    python -m tests.i18n_tools missing [PATH ...]   # marked strings with no Chinese yet
    python -m tests.i18n_tools stub PATH ... >> ptexplore/locale/zh_CN/LC_MESSAGES/ptexplore.po
    python -m tests.i18n_tools leaks PAGE_FILE      # English left on a page run in Chinese
    python -m tests.i18n_tools sort                 # the catalog in the order the code uses it

``PATH`` is a file or folder of the app (``ptexplore/ui/view``, ``pages/2_View_Reshape_Lab.py``);
without one, the whole app. :func:`english_left` is what the page tests use.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_file

from ptexplore import i18n

ROOT = Path(__file__).resolve().parent.parent
#: Where learner text lives: the package, the pages, the landing page's entry point.
SOURCES = ("ptexplore", "pages", "app.py")
KEYWORDS = {"_": None, "N_": None}


def _files(paths: Iterable[str]) -> Iterator[Path]:
    for p in paths:
        path = ROOT / p
        if path.is_dir():
            yield from sorted(q for q in path.rglob("*.py") if "__pycache__" not in q.parts)
        elif path.suffix == ".py":
            yield path


def extract(paths: Iterable[str] = SOURCES) -> dict[str, list[str]]:
    """Every marked string (``_("…")``, ``N_("…")``) → where it is (``file:line``)."""
    found: dict[str, list[str]] = {}
    for path in _files(paths):
        for line, message, _comments, _context in extract_from_file(
            "python", path, keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def missing(paths: Iterable[str] = SOURCES) -> dict[str, list[str]]:
    """The marked strings the catalog has no (non-fuzzy, non-empty) Chinese for."""
    i18n.catalog.cache_clear()
    have = i18n.catalog(i18n.Lang.ZH)
    return {m: where for m, where in extract(paths).items() if m not in have}


def _quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return out.replace("\t", "\\t")


def po_entry(msgid: str, msgstr: str = "", where: Iterable[str] = ()) -> str:
    refs = "".join(f"#: {w}\n" for w in where)
    return f'{refs}msgid "{_quote(msgid)}"\nmsgstr "{_quote(msgstr)}"\n'


#: An English sentence left on a Chinese page: three English words in a row (code spans,
#: code blocks, links' targets and identifiers taken out first).
_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){2,}")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_IDENT = re.compile(r"\b\w+[._]\w[\w.]*(?:\(\))?|\b\w+\(\)|https?://\S+")
#: Names that are the same in both languages (model and library names, file formats).
NAMES = re.compile(
    r"Model explorer|Tensor lab|DataLoader lab|Augmentation lab|Autograd lab|Checkpoint lab|"
    r"Stefan van der Walt|Rachel Michetti|Noto Sans|English|Linux|macOS|Windows|"
    r"Fashion|Pascal VOC|scikit-image|TorchVision|torchvision|PyTorch|Streamlit"
)

#: proto fields that are text a learner reads (labels, help, bodies, captions, options)
_TEXT_FIELDS = frozenset(
    {
        "body",
        "label",
        "help",
        "caption",
        "placeholder",
        "options",
        "text",
        "title",
    }
)
#: element types whose text is code or data, never prose
_CODE_TYPES = frozenset({"code", "json", "arrow_data_frame", "html", "latex", "plotly_chart"})


def _repeated(desc: Any) -> bool:
    flag = getattr(desc, "is_repeated", None)  # protobuf ≥ 5.x; older ones have .label
    return bool(flag) if flag is not None else desc.label == desc.LABEL_REPEATED


def _texts(message: Any, out: list[str]) -> None:
    for desc, value in message.ListFields():
        if desc.type == desc.TYPE_MESSAGE:
            items = value if _repeated(desc) else [value]
            for item in items:
                if hasattr(item, "ListFields"):
                    _texts(item, out)
        elif desc.type == desc.TYPE_STRING and desc.name in _TEXT_FIELDS:
            out.extend(value if _repeated(desc) else [value])


def page_texts(at: Any) -> list[str]:
    """The prose a rendered AppTest shows: every element's labels, help, bodies and
    options (code, JSON, tables, HTML and charts left out)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind not in _CODE_TYPES and hasattr(proto, "ListFields"):
            _texts(proto, out)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    for frame in at.dataframe:  # table headers (cells are data: names, numbers, code)
        out.extend(str(c) for c in frame.value.columns)
    for node in at.get("plotly_chart"):
        out.extend(_figure_texts(json.loads(node.proto.spec)))
    return out


def _figure_texts(spec: dict[str, Any]) -> list[str]:
    """A plotly figure's titles, axis titles, annotations, legend and trace names."""
    out: list[str] = []

    def title(obj: Any) -> None:
        if isinstance(obj, dict):
            t = obj.get("title")
            text = t.get("text") if isinstance(t, dict) else t
            if isinstance(text, str):
                out.append(text)

    layout = spec.get("layout", {})
    title(layout)
    title(layout.get("legend"))
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis", "coloraxis")):
            title(value)
            title(value.get("colorbar") if isinstance(value, dict) else None)
    out.extend(a["text"] for a in layout.get("annotations", []) if isinstance(a.get("text"), str))
    for trace in spec.get("data", []):
        if isinstance(trace.get("name"), str):
            out.append(trace["name"])
        title(trace.get("colorbar"))
    return out


def english_in(text: str) -> list[str]:
    """The English runs of three words or more in ``text`` (code and names removed)."""
    text = NAMES.sub(" ", _IDENT.sub(" ", _CODE.sub(" ", text)))
    return [m.group(0) for m in _WORDS.finditer(text)]


def english_left(at: Any) -> list[str]:
    """Every English run on a page an AppTest rendered in Chinese (``[]`` when none)."""
    left: list[str] = []
    for text in page_texts(at):
        left.extend(english_in(text))
    return sorted(set(left))


HEADER = """# ptexplore's 简体中文 interface: one entry per English text the app marks (_() / N_()),
# grouped by the file that uses it first. Keep {placeholders}, `code spans`, numbers and
# markdown exactly; terms: ../../glossary.tsv. New text: python -m tests.i18n_tools stub
msgid ""
msgstr ""
"Project-Id-Version: ptexplore\\n"
"Language: zh_CN\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"""


def sort() -> list[str]:
    """Rewrite ``ptexplore.po`` in the order the code uses the text (grouped by file),
    dropping entries no longer in the code; returns those dropped. Entries still without a
    translation are kept (empty) for the translator."""
    entries = i18n.read_po(i18n.CATALOG)
    used = extract()
    obsolete = [m for m in entries if m not in used]
    out = [HEADER]
    group = None
    for msgid, where in used.items():
        if msgid not in entries:
            continue
        file = where[0].rsplit(":", 1)[0]
        if file != group:
            out.append(f"# --- {file}\n")
            group = file
        msgstr, fuzzy = entries[msgid]
        out.append(("#, fuzzy\n" if fuzzy else "") + po_entry(msgid, msgstr) + "\n")
    i18n.CATALOG.write_text("".join(out), encoding="utf-8")
    return obsolete


def main(argv: list[str]) -> int:
    cmd, *paths = argv or ["missing"]
    if cmd == "missing":
        for msgid, where in missing(paths or SOURCES).items():
            print(f"{where[0]}: {msgid!r}")
        return 0
    if cmd == "stub":
        for msgid, where in missing(paths or SOURCES).items():
            print(po_entry(msgid, "", where))
        return 0
    if cmd == "sort":
        for msgid in sort():
            print("dropped (no longer in the code):", repr(msgid))
        return 0
    if cmd == "leaks":
        from tests.conftest import open_page

        i18n.catalog.cache_clear()
        for page in paths:
            at = open_page(None if page == "app.py" else page, lang="zh")
            for run in english_left(at):
                print(f"{page}: {run}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

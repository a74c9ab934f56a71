"""The tables the Checkpoint lab shows (pure: pandas, no Streamlit): a zip's entries, a
safetensors header, a file's structure and tensors, a checkpoint against a model key by
key, torch's load error row by row.

Column headers are in the learner's language (built per result, in its language); a name
that is code (``dtype``, ``shape``, ``data_offsets``, ``numel``, ``missing_keys``) stays as
it is.
"""

from __future__ import annotations

import pandas as pd

from ptexplore.checkpoints.compare import Comparison, Status
from ptexplore.checkpoints.inspector import Inspection, Kind
from ptexplore.checkpoints.recipes import LoadResult
from ptexplore.ckpt.layout import LegacyLayout, SafetensorsLayout, ZipLayout
from ptexplore.i18n import N_, _

#: the structure table's columns the page shows, in order (English: ``_()`` each)
STRUCTURE_SHOWN = (N_("path"), N_("type"), N_("holds"), N_("value"))


def shape(s: tuple[int, ...] | None) -> str:
    return "" if s is None else str(list(s))


def zip_entries(layout: ZipLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("entry"): [f"{layout.top}/{e.name}" for e in layout.entries],
            _("data at byte"): [e.offset for e in layout.entries],
            _("bytes"): [e.length for e in layout.entries],
            _("compression"): [_("stored (none)")] * len(layout.entries),
            _("holds"): [e.what for e in layout.entries],
        }
    )


def safetensors_header(layout: SafetensorsLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("tensor"): [t.name for t in layout.tensors],
            "dtype": [t.dtype for t in layout.tensors],
            "shape": [str(list(t.shape)) for t in layout.tensors],
            "data_offsets": [f"[{t.begin}, {t.end}]" for t in layout.tensors],
            _("in the file at byte"): [t.file_offset for t in layout.tensors],
        }
    )


def structure(i: Inspection) -> pd.DataFrame:
    top = _("(file)")
    return pd.DataFrame(
        {
            _("path"): [("  " * e.depth) + (e.path.rsplit(".", 1)[-1] or top) for e in i.entries],
            _("full path"): [e.path or top for e in i.entries],
            _("type"): [e.type_name for e in i.entries],
            _("holds"): [e.summary if e.kind is not Kind.VALUE else "" for e in i.entries],
            _("value"): [e.summary if e.kind is Kind.VALUE else "" for e in i.entries],
        }
    )


def tensors(i: Inspection) -> pd.DataFrame:
    rows = i.tensors
    top = _("(top level)")
    return pd.DataFrame(
        {
            _("in"): [t.where or top for t in rows],
            _("name"): [t.name for t in rows],
            "shape": [str(list(t.shape)) for t in rows],
            "dtype": [t.dtype for t in rows],
            "numel": [t.numel for t in rows],
            _("bytes"): [t.nbytes for t in rows],
            _("at byte"): [None if t.offset is None else t.offset for t in rows],
            _("same tensor as"): [t.same_as or "" for t in rows],
        }
    )


def by_dtype(i: Inspection) -> pd.DataFrame:
    """The state_dict's tensors, values and bytes per dtype."""
    return pd.DataFrame(
        {
            "dtype": [c.dtype for c in i.by_dtype],
            _("tensors"): [c.tensors for c in i.by_dtype],
            _("values"): [c.numel for c in i.by_dtype],
            _("bytes"): [c.nbytes for c in i.by_dtype],
        }
    )


def metadata(i: Inspection) -> pd.DataFrame:
    """A safetensors file's ``__metadata__`` (strings only)."""
    return pd.DataFrame(
        {_("key"): [k for k, _v in i.metadata], _("value"): [v for _k, v in i.metadata]}
    )


def legacy_parts(layout: LegacyLayout) -> pd.DataFrame:
    """A legacy stream's pickles and bytes, in file order."""
    return pd.DataFrame(
        {
            _("part"): [p.what for p in layout.parts],
            _("at byte"): [p.offset for p in layout.parts],
            _("bytes"): [p.length for p in layout.parts],
        }
    )


_STATUS = {
    Status.MATCHED: N_("✅ matched"),
    Status.SHAPE: N_("❌ shape mismatch"),
    Status.MISSING: N_("➖ missing"),
    Status.UNEXPECTED: N_("➕ unexpected"),
}


def _status_icon(s: Status) -> str:
    return _(_STATUS[s])


#: the comparison table lists problems first
_ORDER = {Status.SHAPE: 0, Status.MISSING: 1, Status.UNEXPECTED: 2, Status.MATCHED: 3}


def comparison(c: Comparison) -> pd.DataFrame:
    rows = sorted(c.rows, key=lambda r: _ORDER[r.status])
    return pd.DataFrame(
        {
            _("key"): [r.key for r in rows],
            _("status"): [_status_icon(r.status) for r in rows],
            _("kind"): [_(r.role.value) for r in rows],
            _("model shape"): [shape(r.model_shape) for r in rows],
            _("checkpoint shape"): [shape(r.ckpt_shape) for r in rows],
            _("model dtype"): [r.model_dtype or "" for r in rows],
            _("checkpoint dtype"): [r.ckpt_dtype or "" for r in rows],
            _("tied to (model)"): [r.model_tied or "" for r in rows],
            _("tied to (checkpoint)"): [r.ckpt_tied or "" for r in rows],
        }
    )


def prefix_mapping(r: LoadResult) -> pd.DataFrame:
    """Each checkpoint key, after stripping the wrapper's prefix, and the model's key."""
    mapping = r.prefix.mapping if r.prefix is not None else ()
    return pd.DataFrame(
        {
            _("key in the checkpoint"): [a for a, _b, _c in mapping],
            _("after stripping"): [b for _a, b, _c in mapping],
            _("in the model"): [c for _a, _b, c in mapping],
        }
    )


def load_errors(r: LoadResult) -> pd.DataFrame:
    """torch's load error, one row per problem."""
    return pd.DataFrame(
        {
            _("problem"): [_(e.problem) for e in r.error_rows],
            _("key"): [e.key for e in r.error_rows],
            _("detail"): [e.detail for e in r.error_rows],
        }
    )

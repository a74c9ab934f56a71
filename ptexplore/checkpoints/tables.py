"""The tables the Checkpoint lab shows (pure: pandas, no Streamlit): a zip's entries, a
safetensors header, a file's structure and tensors, a checkpoint against a model key by
key, torch's load error row by row."""

from __future__ import annotations

import pandas as pd

from ptexplore.checkpoints.compare import Comparison, Status
from ptexplore.checkpoints.inspector import Inspection, Kind
from ptexplore.checkpoints.recipes import LoadResult
from ptexplore.ckpt.layout import LegacyLayout, SafetensorsLayout, ZipLayout


def shape(s: tuple[int, ...] | None) -> str:
    return "" if s is None else str(list(s))


def zip_entries(layout: ZipLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entry": [f"{layout.top}/{e.name}" for e in layout.entries],
            "data at byte": [e.offset for e in layout.entries],
            "bytes": [e.length for e in layout.entries],
            "compression": ["stored (none)"] * len(layout.entries),
            "holds": [e.what for e in layout.entries],
        }
    )


def safetensors_header(layout: SafetensorsLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tensor": [t.name for t in layout.tensors],
            "dtype": [t.dtype for t in layout.tensors],
            "shape": [str(list(t.shape)) for t in layout.tensors],
            "data_offsets": [f"[{t.begin}, {t.end}]" for t in layout.tensors],
            "in the file at byte": [t.file_offset for t in layout.tensors],
        }
    )


def structure(i: Inspection) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [("  " * e.depth) + (e.path.rsplit(".", 1)[-1] or "(file)") for e in i.entries],
            "full path": [e.path or "(file)" for e in i.entries],
            "type": [e.type_name for e in i.entries],
            "holds": [e.summary if e.kind is not Kind.VALUE else "" for e in i.entries],
            "value": [e.summary if e.kind is Kind.VALUE else "" for e in i.entries],
        }
    )


def tensors(i: Inspection) -> pd.DataFrame:
    rows = i.tensors
    return pd.DataFrame(
        {
            "in": [t.where or "(top level)" for t in rows],
            "name": [t.name for t in rows],
            "shape": [str(list(t.shape)) for t in rows],
            "dtype": [t.dtype for t in rows],
            "numel": [t.numel for t in rows],
            "bytes": [t.nbytes for t in rows],
            "at byte": [None if t.offset is None else t.offset for t in rows],
            "same tensor as": [t.same_as or "" for t in rows],
        }
    )


def by_dtype(i: Inspection) -> pd.DataFrame:
    """The state_dict's tensors, values and bytes per dtype."""
    return pd.DataFrame(
        {
            "dtype": [c.dtype for c in i.by_dtype],
            "tensors": [c.tensors for c in i.by_dtype],
            "values": [c.numel for c in i.by_dtype],
            "bytes": [c.nbytes for c in i.by_dtype],
        }
    )


def metadata(i: Inspection) -> pd.DataFrame:
    """A safetensors file's ``__metadata__`` (strings only)."""
    return pd.DataFrame({"key": [k for k, _ in i.metadata], "value": [v for _, v in i.metadata]})


def legacy_parts(layout: LegacyLayout) -> pd.DataFrame:
    """A legacy stream's pickles and bytes, in file order."""
    return pd.DataFrame(
        {
            "part": [p.what for p in layout.parts],
            "at byte": [p.offset for p in layout.parts],
            "bytes": [p.length for p in layout.parts],
        }
    )


def _status_icon(s: Status) -> str:
    return {
        Status.MATCHED: "✅ matched",
        Status.SHAPE: "❌ shape mismatch",
        Status.MISSING: "➖ missing",
        Status.UNEXPECTED: "➕ unexpected",
    }[s]


#: the comparison table lists problems first
_ORDER = {Status.SHAPE: 0, Status.MISSING: 1, Status.UNEXPECTED: 2, Status.MATCHED: 3}


def comparison(c: Comparison) -> pd.DataFrame:
    rows = sorted(c.rows, key=lambda r: _ORDER[r.status])
    return pd.DataFrame(
        {
            "key": [r.key for r in rows],
            "status": [_status_icon(r.status) for r in rows],
            "kind": [r.role.value for r in rows],
            "model shape": [shape(r.model_shape) for r in rows],
            "checkpoint shape": [shape(r.ckpt_shape) for r in rows],
            "model dtype": [r.model_dtype or "" for r in rows],
            "checkpoint dtype": [r.ckpt_dtype or "" for r in rows],
            "tied to (model)": [r.model_tied or "" for r in rows],
            "tied to (checkpoint)": [r.ckpt_tied or "" for r in rows],
        }
    )


def prefix_mapping(r: LoadResult) -> pd.DataFrame:
    """Each checkpoint key, after stripping the wrapper's prefix, and the model's key."""
    mapping = r.prefix.mapping if r.prefix is not None else ()
    return pd.DataFrame(
        {
            "key in the checkpoint": [a for a, _, _ in mapping],
            "after stripping": [b for _, b, _ in mapping],
            "in the model": [c for _, _, c in mapping],
        }
    )


def load_errors(r: LoadResult) -> pd.DataFrame:
    """torch's load error, one row per problem."""
    return pd.DataFrame(
        {
            "problem": [e.problem for e in r.error_rows],
            "key": [e.key for e in r.error_rows],
            "detail": [e.detail for e in r.error_rows],
        }
    )

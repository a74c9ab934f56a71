"""The tables the Model explorer shows (pure: pandas, no Streamlit): ``named_parameters()``,
a parameter name part by part, the name filter's hits, the per-layer shapes and MACs, a
weights load's shape mismatches and timm's measured failures."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ptexplore.i18n import N_, _
from ptexplore.models.params import NamePart, ParamTable
from ptexplore.models.shapes import ShapeReport
from ptexplore.models.weights import LoadReport
from ptexplore.models.zoo import ZooFailure

#: column names the page refers to (English, marked; the tables are built with ``_()`` of
#: them, so the page looks them up the same way)
NAME = N_("name")
OWN_PARAMS = N_("params (own)")
NOTE = N_("note")


def parameters(table: ParamTable) -> pd.DataFrame:
    """``named_parameters()``: one row per parameter with its shape, size and share."""
    return pd.DataFrame(
        {
            _(NAME): [r.name for r in table.rows],
            _("shape"): [str(list(r.shape)) for r in table.rows],
            "numel": [r.numel for r in table.rows],
            "dtype": [r.dtype for r in table.rows],
            "requires_grad": [r.requires_grad for r in table.rows],
            _("share %"): [round(100 * r.share, 3) for r in table.rows],
        }
    )


def naming(parts: Sequence[NamePart]) -> pd.DataFrame:
    """A parameter's name, one dotted part per row: what it reaches and why it is named so."""
    return pd.DataFrame(
        [(p.part, p.module_class or "Parameter", p.meaning) for p in parts],
        columns=[_("part"), _("reaches"), _("why this name")],
    ).set_index(_("part"))


def filter_hits(hits: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The modules ``named_modules()`` yields whose name holds the filter text."""
    return pd.DataFrame(list(hits), columns=[_(NAME), _("class")])


def layers(report: ShapeReport, leaves: bool) -> pd.DataFrame:
    """Per layer: output shape, own parameters, MACs, calls; indented by depth (all layers)
    or flat (``leaves``: the layers that own no submodules)."""
    rows = [r for r in report.rows if r.is_leaf or not leaves]
    return pd.DataFrame(
        {
            _("layer"): [
                ("  " * max(r.depth - 1, 0) if not leaves else "")
                + (f"{r.name}: {r.class_name}" if r.depth else r.class_name)
                for r in rows
            ],
            _(NAME): [r.qualname or "(root)" for r in rows],
            _("output shape"): [r.output_shape for r in rows],
            _(OWN_PARAMS): [r.own_params for r in rows],
            "MACs": [r.macs for r in rows],
            _("calls"): [r.calls for r in rows],
            _(NOTE): [r.note for r in rows],
        }
    )


def mismatches(report: LoadReport) -> pd.DataFrame:
    """The keys whose shape in the file differs from the model's."""
    return pd.DataFrame(
        [(n, str(list(a)), str(list(b))) for n, a, b in report.mismatched],
        columns=[_(NAME), _("model"), _("file")],
    )


def zoo_failures(failures: Sequence[ZooFailure]) -> pd.DataFrame:
    """The timm architectures that failed on meta, where, and why."""
    return pd.DataFrame(
        {
            _("architecture"): [f.name for f in failures],
            _("fails to"): [f.stage for f in failures],
            _("reason"): [f.reason for f in failures],
        }
    )

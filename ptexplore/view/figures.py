"""Plotly grids for the lab: every cell coloured by its element's position in memory.

A tensor's cells carry ``storage_offset + Σ index·stride`` as their colour, so the row-major
reading order of a contiguous tensor is a smooth gradient and a transposed one visibly jumps
around. The storage row underneath uses the same colour scale, so each cell can be traced to
the memory slot it reads. Cells written through the result are outlined in every panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ptexplore.figures import Figure, figure, grid
from ptexplore.i18n import N_, _
from ptexplore.memory import StorageFacts, TensorFacts
from ptexplore.style import ACCENT, SEQUENTIAL_SCALE

#: At most this many 2-D panels are drawn for one tensor (the rest are summarised).
MAX_PANELS = 16
#: Cell text (the values) is drawn only while a figure has at most this many cells …
MAX_TEXT_CELLS = 400
#: … and at most this many cells side by side (wider rows leave no room for the digits).
MAX_TEXT_ACROSS = 24
#: Figure height limit in pixels.
MAX_HEIGHT = 1100
#: Above this many storage elements, a tensor drawn in several panels colours each panel
#: within its own range (one shared scale would paint every panel the same shade).
PANEL_RANGE_CELLS = 64


def relative_colours(facts: TensorFacts) -> bool:
    """Does :func:`tensor_figure` colour each panel by its own range of positions?"""
    return panel_count(facts) > 1 and len(facts.storage.values) > PANEL_RANGE_CELLS


UNUSED_COLOUR = "#E5E5E5"


def cell_gap(cells: int) -> int:
    """White gap between cells: 2 px while cells are big, none once they are a few px wide
    (otherwise a 100×100 grid is mostly gap)."""
    return 2 if cells <= 24 else 1 if cells <= 40 else 0


@dataclass(frozen=True, slots=True)
class PanelGrid:
    """One 2-D slice of a tensor as drawn: its title and row-major cell data."""

    title: str
    index_prefix: tuple[int, ...]
    positions: tuple[tuple[int, ...], ...]
    values: tuple[tuple[object, ...], ...]


def panel_grids(facts: TensorFacts, name: str, max_panels: int = MAX_PANELS) -> list[PanelGrid]:
    """Split a tensor into 2-D panels: one per leading index for 3-D and up.

    0-D → one 1×1 panel, 1-D → one 1×n row, 2-D → one panel, k-D → ``prod(shape[:-2])``
    panels (at most ``max_panels``).
    """
    shape = facts.shape
    if len(shape) == 0:
        return [PanelGrid(name, (), ((facts.positions[0],),), ((facts.values[0],),))]
    if len(shape) == 1:
        return [PanelGrid(name, (), (facts.positions,), (facts.values,))]
    rows, cols = shape[-2], shape[-1]
    lead = shape[:-2]
    n_panels = math.prod(lead)
    size = rows * cols
    grids: list[PanelGrid] = []
    for p in range(min(n_panels, max_panels)):
        prefix: list[int] = []
        rem = p
        for d in reversed(lead):
            prefix.append(rem % d)
            rem //= d
        prefix.reverse()
        start = p * size
        pos = facts.positions[start : start + size]
        val = facts.values[start : start + size]
        title = f"{name}[{', '.join(map(str, prefix))}]" if prefix else name
        grids.append(
            PanelGrid(
                title,
                tuple(prefix),
                tuple(pos[r * cols : (r + 1) * cols] for r in range(rows)),
                tuple(val[r * cols : (r + 1) * cols] for r in range(rows)),
            )
        )
    return grids


def panel_count(facts: TensorFacts) -> int:
    return math.prod(facts.shape[:-2]) if len(facts.shape) >= 3 else 1


def _index_text(prefix: tuple[int, ...], r: int, c: int, ndim: int) -> str:
    if ndim == 0:
        return ""
    if ndim == 1:
        return str(c)
    return ", ".join(str(i) for i in (*prefix, r, c))


def _written_marks(
    x: Sequence[int], y: Sequence[int], *, size: int, name: str | None = N_("written")
) -> dict[str, Any]:
    """Orange open squares over the cells a write changed (grid and storage row alike)."""
    trace: dict[str, Any] = {
        "type": "scatter",
        "x": list(x),
        "y": list(y),
        "mode": "markers",
        "marker": {"symbol": "square-open", "size": size, "color": ACCENT, "line": {"width": 3}},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    if name is not None:
        trace["name"] = _(name)
    return trace


def tensor_figure(
    facts: TensorFacts,
    *,
    name: str,
    zmax: int | None = None,
    written: frozenset[int] = frozenset(),
    max_panels: int = MAX_PANELS,
) -> Figure:
    """Heatmap panels of ``facts`` coloured by memory position (0 … ``zmax``)."""
    grids = panel_grids(facts, name, max_panels)
    top = max(len(facts.storage.values) - 1, 1) if zmax is None else max(zmax, 1)
    rows_cells = len(grids[0].positions)
    cols_cells = len(grids[0].positions[0])
    ncols = 1 if cols_cells > 48 else 2 if cols_cells > 8 else 3 if cols_cells > 4 else 4
    ncols = min(ncols, len(grids))
    nrows = math.ceil(len(grids) / ncols)
    total_cells = len(grids) * rows_cells * cols_cells
    across = ncols * cols_cells
    show_text = total_cells <= MAX_TEXT_CELLS and across <= MAX_TEXT_ACROSS
    multi = len(grids) > 1
    relative = relative_colours(facts)
    # room between panel rows for the tick labels above and the next panel's title
    gap_px = 64 if multi else 0
    top_m, bottom_m = (50 if multi else 30), 30
    # a 1-row strip still gets room for a readable colour bar
    panel_h = max(60 if multi else 110, min(34 * rows_cells, 420))
    fixed = top_m + bottom_m + (nrows - 1) * gap_px
    if fixed + nrows * panel_h > MAX_HEIGHT:
        panel_h = max(40, (MAX_HEIGHT - fixed) // nrows)
    height = fixed + nrows * panel_h
    panels = grid(
        nrows,
        ncols,
        titles=[g.title for g in grids] if multi else None,
        horizontal_spacing=0.04 if ncols > 1 else 0.0,
        vertical_spacing=gap_px / (height - top_m - bottom_m) if nrows > 1 else 0.0,
    )
    layout: dict[str, Any] = dict(panels.layout)
    data: list[dict[str, Any]] = []
    ndim = len(facts.shape)
    for i, g in enumerate(grids):
        row, col = i // ncols + 1, i % ncols + 1
        xa, ya = panels.axes(row, col)
        xkey, ykey = panels.axis_keys(row, col)
        idx = [
            [_index_text(g.index_prefix, r, c, ndim) for c in range(len(g.positions[r]))]
            for r in range(len(g.positions))
        ]
        heat: dict[str, Any] = {
            "type": "heatmap",
            "z": [list(r) for r in g.positions],
            "text": [[str(v) for v in r] for r in g.values],
            "customdata": idx,
            "xgap": cell_gap(across),
            "ygap": cell_gap(rows_cells),
            "textfont": {"size": 13 if across <= 12 else 11},
            # plotly's %{…} fields stay as they are in the translation
            "hovertemplate": f"{name}[%{{customdata}}] = %{{text}}<br>"
            + _("memory position %{z}")
            + "<extra></extra>",
            "name": g.title,
            "xaxis": xa,
            "yaxis": ya,
        }
        if relative:  # this panel's own range: the pattern inside each panel stays visible
            flat = [p for row in g.positions for p in row]
            heat.update(
                colorscale=SEQUENTIAL_SCALE, zmin=min(flat), zmax=max(max(flat), min(flat) + 1),
                showscale=False,
            )  # fmt: skip
        else:
            heat["coloraxis"] = "coloraxis"
        if show_text:
            heat["texttemplate"] = "%{text}"
        data.append(heat)
        marks = [
            (c, r) for r, line in enumerate(g.positions) for c, p in enumerate(line) if p in written
        ]
        if marks:
            trace = _written_marks(
                [m[0] for m in marks], [m[1] for m in marks], size=26 if show_text else 10
            )
            data.append({**trace, "xaxis": xa, "yaxis": ya})
        yaxis = {
            **layout[ykey],
            "autorange": "reversed",
            "showgrid": False,
            "zeroline": False,
            "showticklabels": ndim >= 2 and col == 1,
        }
        if rows_cells <= 20:
            yaxis["dtick"] = 1
        xaxis = {**layout[xkey], "showgrid": False, "zeroline": False}
        if cols_cells <= 20:
            xaxis["dtick"] = 1
        layout[ykey], layout[xkey] = yaxis, xaxis
    return figure(
        data,
        **layout,
        height=height,
        margin={"l": 30, "r": 10, "t": top_m, "b": bottom_m},
        coloraxis={
            "colorscale": SEQUENTIAL_SCALE,
            "cmin": 0,
            "cmax": top,
            "colorbar": {
                "title": {"text": _("memory<br>position")},
                "thickness": 12,
                "lenmode": "pixels",
                "len": max(height - 60, 80),
            },
        },
        showlegend=False,
    )


@dataclass(frozen=True, slots=True)
class StorageRow:
    """One storage to draw: a label, its contents, and the cells written so far."""

    label: str
    storage: StorageFacts
    written: frozenset[int] = frozenset()


def storage_figure(rows: Sequence[StorageRow]) -> Figure:
    """Each storage as one row of cells, coloured by position; unread cells greyed."""
    row_h, gap, top_m, bottom_m = 70, 70, 40, 30
    height = top_m + bottom_m + len(rows) * row_h + (len(rows) - 1) * gap
    panels = grid(
        len(rows),
        1,
        titles=[r.label for r in rows],
        vertical_spacing=gap / (height - top_m - bottom_m) if len(rows) > 1 else 0.0,
    )
    layout: dict[str, Any] = dict(panels.layout)
    data: list[dict[str, Any]] = []
    for i, row in enumerate(rows, start=1):
        xa, ya = panels.axes(i, 1)
        xkey, ykey = panels.axis_keys(i, 1)
        st = row.storage
        n = len(st.values)
        show_text = n <= 48
        texts = [str(v) for v in st.values]
        unused = [0 if not u else None for u in st.used]
        text_style = {"texttemplate": "%{text}"} if show_text else {}
        if any(v is not None for v in unused):
            data.append(
                {
                    "type": "heatmap",
                    "z": [unused],
                    "text": [texts],
                    **text_style,
                    "colorscale": [[0, UNUSED_COLOUR], [1, UNUSED_COLOUR]],
                    "showscale": False,
                    "xgap": cell_gap(n),
                    "hovertemplate": "storage[%{x}] = %{text}<br>"
                    + _("not read by this tensor")
                    + "<extra></extra>",
                    "name": _("unused"),
                    "xaxis": xa,
                    "yaxis": ya,
                }
            )
        data.append(
            {
                "type": "heatmap",
                "z": [[p if u else None for p, u in zip(range(n), st.used, strict=True)]],
                "text": [texts],
                **text_style,
                "coloraxis": "coloraxis",
                "xgap": cell_gap(n),
                "hovertemplate": "storage[%{x}] = %{text}<extra></extra>",
                "name": row.label,
                "xaxis": xa,
                "yaxis": ya,
            }
        )
        marks = sorted(row.written)
        if marks:
            trace = _written_marks(marks, [0] * len(marks), size=24 if show_text else 10, name=None)
            data.append({**trace, "xaxis": xa, "yaxis": ya})
        layout[ykey] = {
            **layout[ykey],
            "showticklabels": False,
            "showgrid": False,
            "zeroline": False,
        }
        xaxis = {**layout[xkey], "showgrid": False, "zeroline": False}
        if n <= 32:
            xaxis["dtick"] = 1
        layout[xkey] = xaxis
    top = max(max(len(r.storage.values) for r in rows) - 1, 1)
    return figure(
        data,
        **layout,
        height=height,
        margin={"l": 20, "r": 10, "t": top_m, "b": bottom_m},
        coloraxis={"colorscale": SEQUENTIAL_SCALE, "cmin": 0, "cmax": top, "showscale": False},
        showlegend=False,
    )

"""The tables the Tensor lab shows: arrays as frames, the address/stride report, the
history of actions, the cells an action changed (pure: pandas and numpy, no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ptexplore.i18n import _
from ptexplore.tensors.lab import Lab, SharingReport


def display_values(values: np.ndarray) -> np.ndarray:
    """Values pandas/Arrow can show: native byte order, float16 widened, objects as text."""
    if values.dtype.kind == "f":
        return values.astype(np.float64)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "b":
        return values.astype(bool)
    return values.astype(str)


def frame(values: np.ndarray, index_name: str | None = None) -> pd.DataFrame:
    """A 1-D array as one column ``value`` (its header translated); a 2-D array with
    columns ``0, 1, …``."""
    shown = display_values(values)
    if shown.ndim == 1:
        df = pd.DataFrame({_("value"): shown})
    else:
        df = pd.DataFrame(shown, columns=[str(j) for j in range(shown.shape[1])])
    df.index.name = index_name
    return df


def changed_cells(name: str, before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> str:
    """``a[0, 0]: 0.0 → 7.0, …`` for the cells the last action changed (at most 6 named)."""
    if before.shape != after.shape:
        return ""
    cells = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)]
    shown = [
        f"{name}[{', '.join(map(str, idx))}]: {before[idx]!r} → {after[idx]!r}".replace(
            "np.float64(", ""
        )
        for idx in cells[:6]
    ]
    more = _(" (+{n} more)").format(n=len(cells) - 6) if len(cells) > 6 else ""
    return ", ".join(shown) + more


def report_table(rep: SharingReport) -> pd.DataFrame:
    np_strides = ", ".join(str(s) for s in rep.np_strides_bytes)
    t_strides = ", ".join(str(s) for s in rep.t_strides_elements)
    rows = [
        (
            _("start address"),
            f"a.__array_interface__['data'][0] = {rep.np_ptr:#x}",
            f"t.data_ptr() = {rep.t_ptr:#x}",
        ),
        ("dtype", f"a.dtype = {rep.np_dtype}", f"t.dtype = {rep.torch_dtype}"),
        (
            _("strides"),
            _("a.strides = ({strides}) bytes").format(strides=np_strides),
            _("t.stride() = ({strides}) elements").format(strides=t_strides),
        ),
        (
            _("bytes per element"),
            f"a.itemsize = {rep.np_itemsize}",
            f"t.element_size() = {rep.t_element_size}",
        ),
        (_("device"), _("host (CPU) memory"), rep.device),
        (_("id() — object identity only"), f"id(a) = {rep.np_id}", f"id(t) = {rep.t_id}"),
    ]
    return pd.DataFrame(rows, columns=["", "numpy a", "torch t"]).set_index("")


def history_table(lab: Lab) -> pd.DataFrame:
    on_gpu = any(r.shares_after is None for r in lab.history)
    rows = [
        {
            "#": i + 1,
            _("code"): r.code.split("  #")[0].replace("\n", "; "),
            _("side"): r.side,
            _("a changed"): r.a_changed,
            _("t changed"): r.t_changed,
            _("other side followed"): r.followed,
            # one type per column (Arrow): text only when a GPU row makes it n/a
            _("shares memory after"): (
                r.shares_after
                if not on_gpu
                else _("n/a (GPU)")
                if r.shares_after is None
                else str(r.shares_after)
            ),
            _("id(a) changed"): r.rebound,
        }
        for i, r in enumerate(lab.history)
    ]
    return pd.DataFrame(rows).set_index("#")

"""One visual style for every figure (plotly layout defaults and the palette)."""

from __future__ import annotations

from typing import Any

#: PyTorch orange first, then a colour-blind-safe qualitative palette (Okabe-Ito).
PALETTE: tuple[str, ...] = (
    "#EE4C2C",
    "#0072B2",
    "#009E73",
    "#E69F00",
    "#56B4E9",
    "#CC79A7",
    "#D55E00",
    "#F0E442",
    "#000000",
)
ACCENT = PALETTE[0]
SEQUENTIAL_SCALE = "Viridis"


def base_layout(**overrides: Any) -> dict[str, Any]:
    """Layout shared by every plotly figure; pass overrides per figure.

    ``template=None``: the browser styles charts with the app's theme, and building a plotly
    template object costs ~7 ms per figure on the server, twice (plotly validates the figure
    again inside ``st.plotly_chart``). Profiled: it was 39% of a model-explorer rerun.
    """
    layout: dict[str, Any] = {
        "template": None,
        "margin": {"l": 40, "r": 20, "t": 40, "b": 40},
        "font": {"size": 13},
        "colorway": list(PALETTE),
        "hoverlabel": {"namelength": -1},
    }
    layout.update(overrides)
    return layout

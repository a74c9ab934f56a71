"""The tables the Augmentation lab shows, as DataFrames (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import torch

from ptexplore.augment.preview import channel_stats
from ptexplore.augment.targets import Box, BoxFate


def stats_table(x: torch.Tensor) -> pd.DataFrame:
    """Mean, std, min and max of each channel of ``x`` (e.g. after Normalize)."""
    return pd.DataFrame(
        [
            {
                "channel": s.channel,
                "mean": round(s.mean, 4),
                "std": round(s.std, 4),
                "min": round(s.min, 3),
                "max": round(s.max, 3),
            }
            for s in channel_stats(x)
        ]
    )


def _box(b: Box | None) -> str:
    return "—" if b is None else ", ".join(f"{v:.1f}" for v in b)


def fates_table(fates: tuple[BoxFate, ...]) -> pd.DataFrame:
    """One row per box: its label, where it was and is (XYXY pixels), what happened."""
    return pd.DataFrame(
        [
            {
                "box": f.box,
                "label": f.label,
                "before (x1, y1, x2, y2)": _box(f.before),
                "after": _box(f.after),
                "fate": f.fate.value,
            }
            for f in fates
        ],
        columns=["box", "label", "before (x1, y1, x2, y2)", "after", "fate"],
    )

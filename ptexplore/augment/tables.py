"""The tables the Augmentation lab shows, as DataFrames (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import torch

from ptexplore.augment.preview import channel_stats


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

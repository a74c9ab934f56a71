"""The tables the Augmentation lab shows, as DataFrames (no Streamlit here); their headers
are in the language of the current rerun."""

from __future__ import annotations

import pandas as pd
import torch

from ptexplore.augment.preview import channel_stats
from ptexplore.augment.targets import Box, BoxFate
from ptexplore.i18n import _


def stats_table(x: torch.Tensor) -> pd.DataFrame:
    """Mean, std, min and max of each channel of ``x`` (e.g. after Normalize)."""
    channel, mean, std, lo, hi = _("channel"), _("mean"), _("std"), _("min"), _("max")
    return pd.DataFrame(
        [
            {
                channel: s.channel,
                mean: round(s.mean, 4),
                std: round(s.std, 4),
                lo: round(s.min, 3),
                hi: round(s.max, 3),
            }
            for s in channel_stats(x)
        ]
    )


def _box(b: Box | None) -> str:
    return "—" if b is None else ", ".join(f"{v:.1f}" for v in b)


def fates_table(fates: tuple[BoxFate, ...]) -> pd.DataFrame:
    """One row per box: its label, where it was and is (XYXY pixels), what happened."""
    columns = [_("box"), _("label"), _("before (x1, y1, x2, y2)"), _("after"), _("fate")]
    return pd.DataFrame(
        [(f.box, f.label, _box(f.before), _box(f.after), f.fate.label) for f in fates],
        columns=columns,
    )

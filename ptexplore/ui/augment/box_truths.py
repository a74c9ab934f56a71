"""📦 Boxes truths: the traps of detection augmentation, each a short script run live on
this page (:mod:`ptexplore.augment.box_truths`): the myth, what really happens (the
script's own output, torchvision's warnings and errors quoted), the measured facts and
the fix. The script is the code panel: paste it at home and see the same thing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.augment.box_truths import Trap, TrapResult, run_trap, trap_title
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.augment.preview import Preview
from ptexplore.ui.lab import Section
from ptexplore.ui.state import link_choice

LABEL = "📦 Boxes truths"
TRAPS = tuple(t.value for t in Trap)


@dataclass(frozen=True, slots=True)
class TrapChoice:
    trap: Trap
    seed: int


def _controls(preview: Preview) -> TrapChoice:
    chosen = st.radio(
        "Trap",
        TRAPS,
        format_func=lambda v: trap_title(Trap(v)),
        horizontal=True,
        **STATE.widget("trap", default=TRAPS[0], url=link_choice(TRAPS)),
    )
    return TrapChoice(Trap(str(chosen)), preview.seed % 2**32)


def _facts(result: TrapResult) -> pd.DataFrame:
    return pd.DataFrame(
        [{"measured": f.label, "value": str(f.value)} for f in result.facts],
        columns=["measured", "value"],
    )


def _render(_choice: TrapChoice, result: TrapResult, facts: pd.DataFrame) -> None:
    st.markdown(f"#### {result.title}")
    st.markdown(f"**Myth:** {result.myth}")
    verdict = "reproduced here, now" if result.holds else "did not reproduce on this torchvision"
    st.caption(f"Run live with seed {result.seed}: {verdict}.")
    a, b = st.columns([3, 2])
    with a:
        st.markdown("**What the script printed**")
        st.code(result.output or "(nothing)", language="text")
        for w in result.warnings:
            st.warning(f"torchvision warned — {w.category}: {w.message}")
        if result.error is not None:
            st.error(f"torchvision raised — {result.error.line}")
    with b:
        st.markdown("**Measured**")
        st.dataframe(facts, hide_index=True, width="stretch", key=STATE.key("trap_facts"))
    st.markdown(result.explanation)
    st.success(f"**Fix:** {result.fix}")


BOX_TRUTHS: Section[TrapChoice, TrapResult] = Section(
    "boxes",
    _controls,
    lambda c: run_trap(c.trap, c.seed),
    _render,
    lambda _c, result: result.snippet,
    label=LABEL,
    views=lambda _c, result: _facts(result),
)

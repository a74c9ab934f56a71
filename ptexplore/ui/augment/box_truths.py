"""📦 Boxes truths: the traps of detection augmentation, each a short script run live on
this page (:mod:`ptexplore.augment.box_truths`): the myth, what really happens (the
script's own output, torchvision's warnings and errors quoted), the measured facts and
the fix. The script is the code panel: paste it at home and see the same thing."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.augment.box_truths import Trap, TrapResult, run_trap, trap_title
from ptexplore.i18n import N_, _
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.augment.preview import Preview
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.state import link_choice

LABEL = N_("📦 Boxes truths")
TRAPS = tuple(t.value for t in Trap)


@dataclass(frozen=True, slots=True)
class TrapChoice:
    trap: Trap
    seed: int


def _controls(preview: Preview) -> TrapChoice:
    chosen = st.radio(
        _("Trap"),
        TRAPS,
        format_func=shown(choices(Trap), trap_title),
        horizontal=True,
        **STATE.widget("trap", default=TRAPS[0], url=link_choice(TRAPS)),
    )
    return TrapChoice(Trap(str(chosen)), preview.seed % 2**32)


def _facts(result: TrapResult) -> pd.DataFrame:
    return pd.DataFrame(
        [(_(f.label), str(f.value)) for f in result.facts],
        columns=[_("measured"), _("value")],
    )


def _render(_choice: TrapChoice, result: TrapResult, facts: pd.DataFrame) -> None:
    # the trap's texts come from augment.box_truths: _() translates them if they are still
    # its English (marked there), and leaves text already translated as it is
    st.markdown(f"#### {_(result.title)}")
    st.markdown(_("**Myth:** {myth}").format(myth=_(result.myth)))
    verdict = (
        _("Run live with seed {seed}: reproduced here, now.")
        if result.holds
        else _("Run live with seed {seed}: did not reproduce on this torchvision.")
    )
    st.caption(verdict.format(seed=result.seed))
    a, b = st.columns([3, 2])
    with a:
        st.markdown(_("**What the script printed**"))
        # the script's own output: code, the same in every language
        st.code(result.output or "(nothing)", language="text")
        for w in result.warnings:
            st.warning(
                _("torchvision warned — {category}: {message}").format(
                    category=w.category, message=w.message
                )
            )
        if result.error is not None:
            st.error(_("torchvision raised — {line}").format(line=result.error.line))
    with b:
        st.markdown(_("**Measured**"))
        st.dataframe(facts, hide_index=True, width="stretch", key=STATE.key("trap_facts"))
    st.markdown(_(result.explanation))
    st.success(f"{_('**Fix:**')} {_(result.fix)}")


BOX_TRUTHS: Section[TrapChoice, TrapResult] = Section(
    "boxes",
    _controls,
    lambda c: run_trap(c.trap, c.seed),
    _render,
    lambda _c, result: result.snippet,
    label=LABEL,
    views=lambda _c, result: _facts(result),
)

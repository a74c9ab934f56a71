"""view() / reshape lab: shapes, -1, strides and contiguity, computed live by torch."""

import streamlit as st

from ptexplore.pages import VIEW
from ptexplore.ui import code_panel, page_setup, report_errors
from ptexplore.ui.view import controls, current_writes, render
from ptexplore.view import lab_code, run_lab

page_setup(VIEW)

st.title(f"{VIEW.icon} {VIEW.title}")
st.caption(VIEW.lesson)

with report_errors():
    config = controls()
    writes, write_note = current_writes(config)
    result = run_lab(config, writes)
    render(result, write_note)
    code_panel(
        lab_code(config, result.writes, result.result.shape if result.result else None),
        expanded=False,
    )

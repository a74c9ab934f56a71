"""Tensor lab: numpy ↔ tensor memory sharing, .item(), and list-of-arrays conversion speed."""

import streamlit as st

from ptexplore.pages import TENSORS
from ptexplore.ui import page_setup
from ptexplore.ui import tensors as ui

page_setup(TENSORS)
st.title(f"{TENSORS.icon} {TENSORS.title}")
st.markdown(
    "Make a numpy array, turn it into a tensor, then **mutate one side and watch the other**. "
    "Every verdict below is measured on your live objects (`np.shares_memory`, `data_ptr`), "
    "never guessed from the function's name. Your arrays live in your browser session only."
)

share_tab, error_tab, item_tab, speed_tab = st.tabs(
    ["🔗 Memory sharing", "🚫 Errors as lessons", "🔢 .item()", "⏱️ Conversion speed"]
)
with share_tab:
    ui.render_sharing_tab()
with error_tab:
    ui.render_errors_tab()
with item_tab:
    ui.render_item_tab()
with speed_tab:
    ui.render_speed_tab()

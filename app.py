"""ptexplore landing page: what it is, and one card per page of the learning path."""

import streamlit as st

from ptexplore.pages import HOME, PAGES
from ptexplore.ui.page import page_setup

page_setup(HOME)

st.title("🔦 ptexplore — see PyTorch")
st.markdown(
    "A set of small labs where every figure is computed **live** by real torch and "
    "torchvision code on this machine. Change a number, and the real thing runs again. "
    "Where a popular explanation is wrong, the page shows what actually happens."
)

cols = st.columns(2)
for i, page in enumerate(PAGES):
    with cols[i % 2], st.container(border=True):
        st.subheader(f"{page.icon} {page.title}")
        st.write(page.lesson)
        st.page_link(page.file, label=f"Open {page.title}", icon="➡️")

st.caption(
    "Runs locally: the server listens on 127.0.0.1 only. Sample photo credits: "
    "*About ptexplore* in the sidebar."
)

"""Streamlit glue. The only part of ptexplore that imports streamlit."""

from ptexplore.ui.page import (
    code_panel,
    page_setup,
    report_errors,
    seed_input,
    show_error,
)

__all__ = ["code_panel", "page_setup", "report_errors", "seed_input", "show_error"]

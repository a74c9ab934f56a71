"""Streamlit glue. The only part of ptexplore that imports streamlit."""

"""The one upload cap every page enforces in code.

It equals ``server.maxUploadSize`` (50 MB) in .streamlit/config.toml; the widget's limit is
only enforced by the browser, so the library checks sizes again (a test ties the two).
"""

from __future__ import annotations

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

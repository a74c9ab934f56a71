"""ptexplore: see PyTorch. Live, honest visual explanations computed by real torch code.

The library is importable without Streamlit; only :mod:`ptexplore.ui` imports it.
"""

from ptexplore.errors import LessonError

__all__ = ["LessonError", "__version__"]
__version__ = "0.1.0"

"""The wheel carries the app: ``app.py``, ``pages/`` and ``.streamlit/config.toml`` are
copied into ``ptexplore/_app`` at build time (``ptexplore.pages.ROOT`` finds them there), so
``pip install ptexplore`` then ``ptexplore run`` opens the same app as a checkout. Everything
else is in pyproject.toml. An editable install reads them from the checkout instead."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
APP_FILES = (
    "app.py",
    ".streamlit/config.toml",
    *(f"pages/{p.name}" for p in HERE.glob("pages/*.py")),
)


class BuildWithApp(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, "ptexplore", "_app")
        for name in APP_FILES:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / name, target / name)


setup(cmdclass={"build_py": BuildWithApp})

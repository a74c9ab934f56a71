"""The wheel works: built from the project's files, installed (not editable) into a fresh
virtual environment, it runs ``ptexplore summary`` and opens the Augmentation and DataLoader
labs with the bundled sample photos — from the installed package, in another folder.

The fresh environment gets torch, torchvision, Streamlit and the rest from this one's
site-packages through a path file (installing torch again would take minutes and needs the
network); its own site-packages, searched first, holds ptexplore, and this checkout's
editable install is not active there (a path file's folder is added, its own path files
are not run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what the wheel is built from: the project's files (setup.py copies the app's into it)
SOURCES = ("ptexplore", "pages", ".streamlit", "app.py", "setup.py", "pyproject.toml", "README.md")

CHECKS = r"""
import json, sys
from pathlib import Path

import ptexplore
from ptexplore.images.samples import SAMPLES_DIR, sample_names
from ptexplore.pages import ROOT
from streamlit.testing.v1 import AppTest

from ptexplore.__main__ import run_command

facts = {"package": ptexplore.__file__, "app": str(ROOT), "samples": list(sample_names()),
         "samples_dir": str(SAMPLES_DIR), "run": run_command(8501, "127.0.0.1")}


def page(name, tab=None):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page(f"pages/{name}")
    at.run()
    if tab is not None:
        at.session_state[tab[0]] = tab[1]
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    boxes = [e for e in at.expander if "Reproduce this in Python" in e.label]
    blocks = list(boxes[0].code)
    return {
        "code": next(b.value for b in blocks if b.language == "python"),
        "output": next((b.value for b in blocks if b.language == "text"), ""),
        "errors": [e.value for e in at.error],
        "options": [o for s in at.selectbox for o in s.options],
    }


facts["augment"] = page("4_Augmentation_Lab.py")
facts["data"] = page("7_DataLoader_Lab.py", ("data.tab", "🚚 DataLoader run"))
print(json.dumps(facts))
"""


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(the fresh environment's bin folder, the environment to run it with)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src)], tmp)
    (wheel,) = wheels.glob("ptexplore-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp
        ).strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv / "bin", env


def test_the_installed_wheel_summarises_a_model(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    out = _run([str(bin_dir / "ptexplore"), "summary", "resnet18"], tmp_path, env)
    assert "Total params: 11,689,512" in out, out[-2000:]


def test_the_installed_wheel_opens_the_labs_with_its_samples(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    (tmp_path / "checks.py").write_text(textwrap.dedent(CHECKS))
    facts = json.loads(_run([str(bin_dir / "python"), "checks.py"], tmp_path, env).splitlines()[-1])
    venv = str(bin_dir.parent)
    assert facts["package"].startswith(venv) and "site-packages" in facts["package"]
    assert facts["app"].startswith(venv) and facts["app"].endswith("ptexplore/_app")
    assert facts["samples"] == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]
    assert facts["samples_dir"].startswith(venv)
    assert facts["run"][1:4] == ["-m", "streamlit", "run"]  # what ``ptexplore`` / ``run`` execs
    assert facts["run"][4] == facts["app"] + "/app.py"
    augment, data = facts["augment"], facts["data"]
    assert not augment["errors"] and not data["errors"], (augment["errors"], data["errors"])
    assert "astronaut.jpg" in augment["options"]
    assert "v2.Compose(" in augment["code"] and augment["output"].strip()
    assert "yielded in sampler order: True" in data["output"]  # a run with 2 workers
    assert "ptexplore" not in data["code"]

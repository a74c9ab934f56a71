"""Installs that survive upgrades: ranges with upper bounds where a user installs, the exact
versions CI tests in constraints.txt (make installs with it), and the two agree."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            out.append(line)
    return out


def _pins() -> dict[str, str]:
    pins = {}
    for line in _lines(ROOT / "constraints.txt"):
        name, sep, version = line.partition("==")
        assert sep and version, f"constraints.txt pins exact versions only, not {line!r}"
        pins[canonicalize_name(name)] = version
    return pins


def test_every_requirement_is_a_range_its_pinned_version_satisfies() -> None:
    pins = _pins()
    for path in ("requirements.txt", "requirements-dev.txt"):
        for line in _lines(ROOT / path):
            req = Requirement(line)
            name = canonicalize_name(req.name)
            assert name in pins, f"{path}: {req.name} is not pinned in constraints.txt"
            assert req.specifier.contains(pins[name], prereleases=True), (
                f"{path}: {line} does not allow the tested {req.name}=={pins[name]}"
            )


def test_torch_torchvision_and_streamlit_stop_at_their_next_major() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for specs in (_lines(ROOT / "requirements.txt"), declared):
        reqs = {canonicalize_name(Requirement(s).name): Requirement(s) for s in specs}
        for name, next_major in (("torch", "3"), ("torchvision", "1"), ("streamlit", "2")):
            spec = reqs[name].specifier
            assert f"<{next_major}" in {str(s) for s in spec}, f"{name}: {spec}"


def test_pyproject_declares_what_requirements_txt_installs() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(map(str, map(Requirement, declared))) == sorted(
        map(str, map(Requirement, _lines(ROOT / "requirements.txt")))
    )

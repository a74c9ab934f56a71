"""A class across three "hosts" on one machine: two worker hosts and a front host, each a
network namespace, joined by veth pairs with private addresses that exist only inside the
namespaces (nothing is reachable from this test's own namespace).

    worker w1 10.213.1.2 ──veth── 10.213.1.1 ┐
                                              front: HAProxy on 0.0.0.0:8501, the learners
    worker w2 10.213.2.2 ──veth── 10.213.2.1 ┘

Each worker runs ``serve --listen ADDR --replicas 1`` and prints its backends line; the
front runs ``serve --backends …`` (HAProxy only). Checks: the learners (run inside the
front namespace) all get their pages, media and uploads from one replica each, both worker
hosts get learners, the front's config names both hosts; when one worker host stops, new
learners land on the other within a few seconds; everything stops cleanly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, _haproxy

NET = "10.213"
PORT = 8501


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _netns_or_skip(name: str) -> None:
    """Make the namespace, or skip (with the reason) where this user may not."""
    if shutil.which("ip") is None:
        pytest.skip("multi-host test skipped: no `ip` command (Debian iproute2)")
    try:
        _ip("netns", "add", name)
    except subprocess.CalledProcessError as err:
        pytest.skip(
            f"multi-host test skipped: cannot make network namespaces ({err.stderr.strip()})"
        )


@pytest.fixture
def hosts() -> Iterator[dict[str, str]]:
    """Three namespaces: {"w1": name, "w2": name, "front": name}."""
    _haproxy()
    tag = f"ptx{os.getpid() % 100000}"
    names = {h: f"{tag}-{h}" for h in ("front", "w1", "w2")}
    _netns_or_skip(names["front"])
    try:
        for i, w in enumerate(("w1", "w2"), start=1):
            _ip("netns", "add", names[w])
            a, b = f"{tag}f{i}", f"{tag}w{i}"  # ≤ 15 characters
            _ip("link", "add", a, "netns", names["front"], "type", "veth", "peer", "name", b,
                "netns", names[w])  # fmt: skip
            _ip("-n", names["front"], "addr", "add", f"{NET}.{i}.1/24", "dev", a)
            _ip("-n", names[w], "addr", "add", f"{NET}.{i}.2/24", "dev", b)
            for ns, dev in ((names["front"], a), (names[w], b)):
                _ip("-n", ns, "link", "set", dev, "up")
        for ns in names.values():
            _ip("-n", ns, "link", "set", "lo", "up")
        yield names
    finally:
        for ns in names.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _serve(ns: str, workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "ptexplore.serve",
         "--host", f"{NET}.1.1", "--port", str(PORT), "--workdir", str(workdir), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _until_ready(proc: subprocess.Popen[str], timeout: float = 120) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in iter(proc.stdout.readline, ""):
        lines.append(line.strip())
        if line.strip() == "ready" or time.monotonic() > deadline:
            break
    assert lines and lines[-1] == "ready", lines
    return lines


def _learners(ns: str, mode: str) -> dict[str, object]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.multihost_learners",
         f"http://{NET}.1.1:{PORT}", mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_class_across_two_worker_hosts_behind_a_front_host(
    hosts: dict[str, str], tmp_path: Path
) -> None:
    procs = {}
    try:
        for i, w in enumerate(("w1", "w2"), start=1):
            (tmp_path / w).mkdir()
            procs[w] = _serve(hosts[w], tmp_path / w, "--replicas", "1", "--listen",
                              f"{NET}.{i}.2")  # fmt: skip
        backends = []
        for w in ("w1", "w2"):
            lines = _until_ready(procs[w])
            line = next(x for x in lines if x.startswith("backends "))
            backends.append(line.split()[1])
        i_port = PORT + 1
        assert backends == [f"{NET}.1.2:{i_port}", f"{NET}.2.2:{i_port}"]
        (tmp_path / "front").mkdir()
        procs["front"] = _serve(hosts["front"], tmp_path / "front", "--backends",
                                ",".join(backends))  # fmt: skip
        _until_ready(procs["front"])
        cfg = (tmp_path / "front" / "haproxy.cfg").read_text()
        assert f"server r1 {NET}.1.2:{i_port} check cookie r1" in cfg
        assert f"server r2 {NET}.2.2:{i_port} check cookie r2" in cfg

        seen = _learners(hosts["front"], "browse")["learners"]
        assert isinstance(seen, list)
        assert [s["problems"] for s in seen] == [[]] * 4
        assert all(len(s["replicas"]) == 1 for s in seen), seen  # affinity across hosts
        assert {r for s in seen for r in s["replicas"]} == {"r1", "r2"}  # both hosts

        _stop(procs["w2"])  # the second worker host goes away
        after = _learners(hosts["front"], "failover")
        landed = after["landed"]
        assert isinstance(landed, list) and landed[-6:] == [["r1"]] * 6, after
        assert isinstance(after["seconds"], float) and after["seconds"] < 10, after
    finally:
        for proc in procs.values():
            _stop(proc)
    assert all(p.returncode == 0 for p in procs.values()), [p.returncode for p in procs.values()]

"""The classroom supervisor on stand-in processes (``python -m http.server`` with a
``/_stcore/health`` file plays a replica, a ``sys.exit(3)`` one that crashes): ports without
a race, restarts with backoff, giving up, the state file, cleaning up. The real thing
(Streamlit replicas behind HAProxy) is tests/test_classroom.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ptexplore import haproxy, limits
from ptexplore.errors import InputError
from ptexplore.serve import haproxy_binary, main, parse_backends
from ptexplore.supervise import (
    STATE_FILE,
    Child,
    Supervisor,
    ephemeral_floor,
    replica_ports,
)
from tests.conftest import replica_port_start


def _fake_replica_root(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "_stcore").mkdir(parents=True)
    (root / "_stcore" / "health").write_text("ok")
    return root


def _http(root: Path) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                "--directory", str(root)]  # fmt: skip

    return command


def _crasher(_port: int) -> list[str]:
    return [sys.executable, "-S", "-c", "import sys; sys.exit(3)"]


def test_replica_ports_bind_below_the_ephemeral_range_and_skip_taken_ones() -> None:
    floor = ephemeral_floor()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        start = replica_port_start()
        ports = replica_ports("127.0.0.1", 3, start, skip=[start])
    assert len(ports) == 3 and all(start < p < floor for p in ports)
    assert ports == sorted(set(ports))
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", ports[0]))
        busy.listen()
        assert replica_ports("127.0.0.1", 1, ports[0])[0] > ports[0]
    with pytest.raises(InputError, match="free ports for 5 replicas") as err:
        replica_ports("127.0.0.1", 5, floor - 2)
    assert "--replica-port" in err.value.fix


def test_replicas_start_a_taken_port_moves_and_the_config_and_state_name_real_ports(
    tmp_path: Path,
) -> None:
    root = _fake_replica_root(tmp_path)
    ports = replica_ports("127.0.0.1", 2, replica_port_start())
    kids = [
        Child(f"r{i + 1}", _http(root), port=p, log_path=tmp_path / f"r{i + 1}.log")
        for i, p in enumerate(ports)
    ]
    written: list[list[int]] = []
    said: list[str] = []
    sup = Supervisor(
        kids,
        workdir=tmp_path,
        write_config=lambda now: written.append([c.port for c in now]),
        say=said.append,
    )
    thief = socket.socket()  # someone listens on r1's port between the scan and the start
    thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    thief.bind(("127.0.0.1", ports[0]))
    thief.listen()
    try:
        sup.start(timeout=30)
        assert kids[0].port != ports[0] and kids[1].port == ports[1]
        assert f"replica r1 did not start; trying port {kids[0].port}" in said
        assert written == [[kids[0].port, ports[1]]]  # once, after both answered
        state = json.loads((tmp_path / STATE_FILE).read_text())
        assert [(r["name"], r["port"], r["state"]) for r in state["replicas"]] == [
            ("r1", kids[0].port, "up"),
            ("r2", ports[1], "up"),
        ]
        assert [r["pid"] for r in state["replicas"]] == [k.proc.pid for k in kids if k.proc]
    finally:
        thief.close()
        sup.stop()
    assert not any(k.alive() for k in kids)
    assert all(k.log is None for k in kids)  # logs closed
    assert tmp_path.exists()  # a workdir the user gave is kept


def test_a_crashing_replica_backs_off_then_is_given_up_and_the_class_stops(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    kid = Child("r1", _crasher, log_path=tmp_path / "r1.log")
    workdir = tmp_path / "work"
    workdir.mkdir()
    sup = Supervisor([kid], workdir=workdir, remove_workdir=True, say=said.append)
    kid.start()
    delays = []
    now = 0.0
    for _ in range(limits.CRASH_LIMIT - 1):
        assert kid.proc is not None
        kid.proc.wait()
        sup.watch_once(now)
        assert kid.due is not None
        delays.append(round(kid.due - now, 2))
        sup.watch_once(kid.due - 0.01)  # not yet
        assert not kid.alive() and kid.restarts == len(delays) - 1
        now = kid.due
        sup.watch_once(now)  # due: started again
        assert kid.restarts == len(delays)
        state = json.loads((workdir / STATE_FILE).read_text())
        assert state["replicas"][0]["restarts"] == kid.restarts
        now += 0.1
    b = limits.RESTART_BACKOFF_S
    assert delays == [b, 2 * b, 4 * b, 8 * b]  # doubling
    assert said[0] == f"r1 exited (code 3); restarting it in {b:.1f} s (see {kid.log_path})"
    assert kid.proc is not None
    kid.proc.wait()
    sup.watch_once(now)
    assert kid.given_up
    assert said[-2] == (
        f"r1 exited (code 3): {limits.CRASH_LIMIT} crashes within "
        f"{limits.CRASH_WINDOW_S:.0f} s; giving up on it (see {kid.log_path})"
    )
    assert said[-1] == "no replica is left: stopping the class"
    assert sup.stopping and sup.exit_code == 1
    assert not workdir.exists()  # the folder it made is gone


def test_crashes_older_than_the_window_are_forgotten(tmp_path: Path) -> None:
    kid = Child("r1", _crasher)
    sup = Supervisor([kid], say=lambda _m: None)
    kid.start()
    for i in range(limits.CRASH_LIMIT * 2):  # one crash per window: never given up
        assert kid.proc is not None
        kid.proc.wait()
        now = i * (limits.CRASH_WINDOW_S + 1)
        sup.watch_once(now)
        assert not kid.given_up and kid.due == now + limits.RESTART_BACKOFF_S
        sup.watch_once(kid.due)
    sup.stop()


def test_backends_parse_and_the_front_config_is_written_for_a_school(tmp_path: Path) -> None:
    found = parse_backends("10.0.1.2:8502, 10.0.2.2:8502,[fd00::3]:8600")
    assert found == [
        haproxy.Replica("r1", "10.0.1.2", 8502),
        haproxy.Replica("r2", "10.0.2.2", 8502),
        haproxy.Replica("r3", "fd00::3", 8600),
    ]
    for bad, said in [
        ("10.0.1.2", "is not host:port"),
        ("10.0.1.2:0", "is not host:port"),
        ("bad host!:80", "is not a host name"),
        ("a:1,a:1", "listed twice"),
        (",", "names no server"),
    ]:
        with pytest.raises(InputError, match=said):
            parse_backends(bad)
    out = tmp_path / "haproxy.cfg"
    assert main(["--host", "class.local", "--port", "8501", "--backends",
                 "10.0.1.2:8502,10.0.2.2:8502", "--write-config", str(out)]) == 0  # fmt: skip
    cfg = out.read_text()
    assert "    bind 0.0.0.0:8501\n" in cfg
    assert "    server r1 10.0.1.2:8502 check cookie r1\n" in cfg
    assert "    server r2 10.0.2.2:8502 check cookie r2\n" in cfg
    assert f"cookie {haproxy.COOKIE} insert" in cfg and "option httpchk GET /_stcore/health" in cfg
    try:
        binary = haproxy_binary()
    except InputError:  # no HAProxy here: the text checks above are all there is
        return
    check = subprocess.run([binary, "-c", "-f", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr  # HAProxy itself accepts it


def test_serve_refuses_a_host_that_is_both_worker_and_front(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--host", "a", "--listen", "10.0.0.1", "--backends", "10.0.0.2:1"])
    assert "either a worker (--listen) or the front (--backends)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--host", "a", "--write-config", "x.cfg"])
    assert "--write-config needs --backends" in capsys.readouterr().err


def test_the_supervisor_imports_no_torch() -> None:
    code = "import sys, ptexplore.serve; print(sorted(m for m in sys.modules if 'torch' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_shows_the_config_serve_writes(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text()
    section = text[text.index("**A class across several machines.**") :]
    cmd = section[
        section.index("--backends 192") : section.index("\n", section.index("--backends 192"))
    ]
    shown = section[
        section.index("```\n# ptexplore") + 4 : section.index(
            "```", section.index("```\n# ptexplore") + 4
        )
    ]
    out = tmp_path / "haproxy.cfg"
    assert main(["--host", "192.168.1.20", *cmd.split(), "--write-config", str(out)]) == 0
    assert shown == out.read_text()

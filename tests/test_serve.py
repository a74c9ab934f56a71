"""The shipped config's hardening, and the classroom server python -m ptexplore.serve runs."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tomllib

import pytest

from ptexplore.errors import InputError
from ptexplore.serve import check_host, classroom_command
from tests.conftest import ROOT, free_port, wait_healthy


def test_shipped_config_is_hardened() -> None:
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["server"]["allowedHosts"] == ["localhost", "127.0.0.1"]
    assert cfg["server"]["maxUploadSize"] == 50
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["client"]["showErrorDetails"] == "type"
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["runner"]["postScriptGC"] is False
    assert cfg["server"]["disconnectedSessionTTL"] == 30  # a left session is freed soon


def test_classroom_command_repeats_the_hosts_flag() -> None:
    cmd = classroom_command(["192.168.1.20", "teacher.local"], port=8600)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    flags = list(zip(cmd[5::2], cmd[6::2], strict=True))
    assert ("--server.address", "0.0.0.0") in flags and ("--server.port", "8600") in flags
    assert ("--browser.serverAddress", "192.168.1.20") in flags
    assert [v for k, v in flags if k == "--server.allowedHosts"] == [
        "localhost",
        "127.0.0.1",
        "192.168.1.20",
        "teacher.local",
    ]
    with pytest.raises(InputError, match="between 1 and 65535"):
        classroom_command(["10.0.0.1"], port=0)


@pytest.mark.parametrize("bad", ["", "http://x", "a b", "x;rm", '"]', "host:80"])
def test_bad_hosts_are_refused(bad: str) -> None:
    with pytest.raises(InputError):
        check_host(bad)
    assert check_host(" 10.0.0.5 ") == "10.0.0.5"


def _upgrade(port: int, host: str) -> str:
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            (
                f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n"
            ).encode()
        )
        return s.recv(200).split(b"\r\n")[0].decode()


def test_classroom_server_accepts_its_host_and_refuses_others() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ptexplore.serve", "--host", "192.0.2.10",
         "--address", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", proc, 60)
        assert _upgrade(port, f"192.0.2.10:{port}") == "HTTP/1.1 101 Switching Protocols"
        assert _upgrade(port, f"127.0.0.1:{port}") == "HTTP/1.1 101 Switching Protocols"
        assert _upgrade(port, "evil.example").startswith("HTTP/1.1 403")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_code_upload_cap_equals_the_servers() -> None:
    from ptexplore.ckpt.read import check_upload_size as check_checkpoint
    from ptexplore.errors import LessonError
    from ptexplore.images.decode import check_upload_size as check_image
    from ptexplore.limits import MAX_UPLOAD_BYTES

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    cap = cfg["server"]["maxUploadSize"] * 1024 * 1024
    assert cap == MAX_UPLOAD_BYTES
    # the two checks the code makes (images; checkpoints and weights) refuse one byte past
    # the server's own cap and accept the cap itself
    check_image(cap, "a.png")
    check_checkpoint(cap)
    with pytest.raises(LessonError, match="50 MB"):
        check_image(cap + 1, "a.png")
    with pytest.raises(LessonError, match="50 MB"):
        check_checkpoint(cap + 1)


def test_serve_lang_is_every_replicas_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --lang zh``: the class's server starts with ``PTEXPLORE_LANG=zh`` (a learner's
    first page opens in Chinese); a language it does not have is refused by the parser."""
    from ptexplore import i18n, serve

    started: dict[str, str] = {}

    def execve(path: str, cmd: list[str], env: dict[str, str]) -> None:
        started.update(env)
        raise SystemExit(0)

    monkeypatch.setenv(i18n.LANG_ENV, "en")  # restored after the test: main() sets it
    monkeypatch.setattr(serve.os, "execve", execve)
    monkeypatch.setattr(serve.os, "chdir", lambda _path: None)
    with pytest.raises(SystemExit):
        serve.main(["--host", "127.0.0.1", "--replicas", "1", "--lang", "zh"])
    assert started[i18n.LANG_ENV] == "zh"
    with pytest.raises(SystemExit) as refused:
        serve.main(["--host", "127.0.0.1", "--lang", "fr"])
    assert refused.value.code == 2

"""Serve ptexplore to a classroom: ``python -m ptexplore.serve --host 192.168.1.20``.

One Streamlit process runs every session's script as a thread under one GIL, so it tops
out near one core however many the laptop has. With ``--replicas N`` (default: one per
core, at most 8) this starts N ``streamlit run app.py`` processes on free loopback ports
and HAProxy on the public address in front of them, with cookie-based session affinity
(see :mod:`ptexplore.haproxy`), and supervises them: a replica that dies is started again,
and Ctrl-C / SIGTERM stops everything — nothing is left running. ``--replicas 1`` is a
single server with no proxy (the process becomes the server).

The shipped ``.streamlit/config.toml`` listens on 127.0.0.1 only and accepts only
``localhost``/``127.0.0.1`` as hosts. Measured with streamlit 1.67, for overriding it:

- ``--server.allowedHosts '["192.168.1.20"]'`` (a JSON list on the command line) does not
  parse as a list: the server then refuses every host, 127.0.0.1 included;
- a config file in another working folder does not help either: the ``.streamlit`` folder
  next to ``app.py`` (script level) overrides the working folder's (project level);
- repeating the flag works: ``--server.allowedHosts A --server.allowedHosts B``.

Your own models: ``--model mypkg.nets:MyNet`` (a class or a factory; optional JSON keyword
arguments ``--model 'mypkg.nets:MyNet{"num_classes": 10}'``), each optionally followed by
``--input 1,3,128,128`` for the model before it. They become ``PTEXPLORE_MODELS`` for every
replica (the specs of :mod:`ptexplore.models.user`, one per line, ``@1,3,128,128`` for an
input), with ``PTEXPLORE_MODELS_PATH`` set to the folder serve was started in, so that
folder stays importable although the replicas run in the app's own.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptexplore import haproxy, limits
from ptexplore.classroom import CLASS_URL_ENV
from ptexplore.errors import InputError
from ptexplore.models import user
from ptexplore.pages import ROOT

LOCAL_HOSTS = ("localhost", "127.0.0.1")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$")


def check_host(host: str) -> str:
    """A host name or IP address learners type in their browser (no scheme, no port)."""
    host = host.strip()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise InputError(
            f"{host!r} is not a host name or IP address.",
            fix="Give the address learners type, e.g. 192.168.1.20 or teacher-laptop.local.",
        )
    return host


def default_replicas() -> int:
    """One replica per core, at most :data:`ptexplore.limits.MAX_REPLICAS`."""
    return max(1, min(limits.MAX_REPLICAS, os.cpu_count() or 1))


def classroom_command(
    hosts: list[str],
    *,
    address: str = "0.0.0.0",
    port: int = 8501,
    public_port: int | None = None,
) -> list[str]:
    """``streamlit run app.py`` with the address, port and allowed hosts of a classroom.

    ``public_port`` is the port learners type when a proxy is in front (the replica itself
    listens on ``port``).
    """
    checked = [check_host(h) for h in hosts]
    if not checked:
        raise InputError("Name at least one host.", fix="e.g. --host 192.168.1.20")
    for p in (port, public_port):
        if p is not None and not 1 <= p <= 65535:
            raise InputError(
                f"Port {p} is not between 1 and 65535.", fix="Pick a free port, e.g. 8501."
            )
    allowed = [*LOCAL_HOSTS, *[h for h in checked if h not in LOCAL_HOSTS]]
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", address,
        "--server.port", str(port),
        "--browser.serverAddress", checked[0],
        "--browser.serverPort", str(public_port or port),
    ]  # fmt: skip
    for h in allowed:
        cmd += ["--server.allowedHosts", h]
    return cmd


def classroom_env(
    hosts: list[str], public_port: int, *, models: str = "", models_path: str | None = None
) -> dict[str, str]:
    """The environment of a classroom server: ours plus the address learners open (the
    landing page shows it with a QR code), and the operator's models when given
    (``PTEXPLORE_MODELS``, importable from ``models_path``)."""
    env = {**os.environ, CLASS_URL_ENV: f"http://{check_host(hosts[0])}:{public_port}"}
    if models:
        env[user.MODELS_ENV] = models
        env[user.PATH_ENV] = models_path or os.getcwd()
    return env


class _ModelAction(argparse.Action):
    """``--model SPEC``: one more model (its --input, if any, follows it)."""

    def __call__(self, parser: Any, ns: Any, values: Any, option: Any = None) -> None:
        ns.model = [*(ns.model or []), [str(values), None]]


class _InputAction(argparse.Action):
    """``--input 1,3,128,128``: the input of the --model just before it."""

    def __call__(self, parser: Any, ns: Any, values: Any, option: Any = None) -> None:
        models = ns.model or []
        if not models:
            parser.error("--input must follow the --model it is for")
        if models[-1][1] is not None:
            parser.error(f"{models[-1][0]} has two --input options")
        models[-1][1] = str(values)


def models_env(models: Sequence[Sequence[str | None]]) -> str:
    """``[[spec, input or None], …]`` → the PTEXPLORE_MODELS text (one spec per line).

    Checks the syntax only (importing runs code: the replicas do it, and the landing page
    lists what fails); raises :class:`InputError`.
    """
    lines = []
    for spec_text, dims in models:
        spec = user.parse_spec(str(spec_text))
        if dims is not None:
            if spec.input_shape is not None:
                raise InputError(
                    f"{spec.path} has an input in its spec and an --input option.",
                    fix="Give the input once: --model pkg.mod:Name --input 1,3,224,224.",
                )
            spec = user.ModelSpec(spec.module, spec.attr, spec.kwargs_json, user.parse_input(dims))
        lines.append(spec.text)
    return "\n".join(lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies (even by kill -9),
    so no replica outlives it (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:  # not Linux: the supervisor's own shutdown still stops everything
        pass


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@dataclass
class Child:
    """One supervised process: what to run, and the process running it now."""

    name: str
    cmd: list[str]
    url: str | None = None  # health URL for replicas
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    log: Any = None
    env: dict[str, str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=self.env,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Supervisor:
    """Starts the replicas and HAProxy, restarts what dies, stops everything at the end."""

    replicas: list[Child]
    proxy: Child | None
    say: Any = print
    stopping: bool = False
    started: float = field(default_factory=time.monotonic)

    def start(self, timeout: float = 120.0) -> None:
        for child in self.replicas:
            child.start()
        deadline = time.monotonic() + timeout
        for child in self.replicas:
            while child.url and not healthy(child.url):
                if not child.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"replica {child.name} did not start")
                time.sleep(0.2)
            self.say(f"replica {child.name} ready at {child.url}")
        if self.proxy is not None:
            self.proxy.start()
            while self.proxy.url and not healthy(self.proxy.url):
                if not self.proxy.alive() or time.monotonic() > deadline:
                    raise RuntimeError("HAProxy did not start (see haproxy.log)")
                time.sleep(0.1)

    def watch_once(self) -> None:
        for child in [*self.replicas, *([self.proxy] if self.proxy else [])]:
            if not child.alive() and not self.stopping:
                code = child.proc.returncode if child.proc else None
                child.restarts += 1
                self.say(f"{child.name} exited (code {code}); restarting it (#{child.restarts})")
                child.start()

    def run(self, poll: float = 0.5) -> None:
        while not self.stopping:
            self.watch_once()
            time.sleep(poll)

    def stop(self, *_: object) -> None:
        self.stopping = True
        children = [c for c in [self.proxy, *self.replicas] if c is not None and c.proc]
        for child in children:
            if child.alive():
                assert child.proc is not None
                child.proc.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None
    )
    if found is None:
        raise InputError(
            "HAProxy is not installed, and several replicas need it in front of them.",
            fix="Install it (Debian/Ubuntu: sudo apt-get install haproxy), or serve with "
            "--replicas 1.",
        )
    return found


def build(
    hosts: list[str],
    *,
    address: str,
    port: int,
    replicas: int,
    workdir: Path,
    logs: bool = False,
    models: str = "",
    models_path: str | None = None,
) -> tuple[Supervisor, Path]:
    """The supervisor for ``replicas`` Streamlit processes behind HAProxy, and the config
    file it wrote (``workdir/haproxy.cfg``)."""
    if not 2 <= replicas <= limits.MAX_REPLICAS:
        raise InputError(
            f"{replicas} replicas: a proxy serves 2 to {limits.MAX_REPLICAS}.",
            fix="Use --replicas 1 for a single server, or up to one per core.",
        )
    binary = haproxy_binary()
    children: list[Child] = []
    for i in range(1, replicas + 1):
        rport = free_port()
        cmd = classroom_command(hosts, address="127.0.0.1", port=rport, public_port=port)
        log = open(workdir / f"r{i}.log", "ab") if logs else None  # noqa: SIM115
        children.append(
            Child(
                f"r{i}",
                cmd,
                url=f"http://127.0.0.1:{rport}",
                log=log,
                env=classroom_env(hosts, port, models=models, models_path=models_path),
            )
        )
    cfg = haproxy.config(
        [
            haproxy.Replica(c.name, "127.0.0.1", int(c.url.rsplit(":", 1)[1]))
            for c in children
            if c.url
        ],
        address=address,
        port=port,
    )
    path = workdir / "haproxy.cfg"
    path.write_text(cfg)
    proxy_log = open(workdir / "haproxy.log", "ab") if logs else None  # noqa: SIM115
    local = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    proxy = Child(
        "haproxy", [binary, "-db", "-f", str(path)], url=f"http://{local}:{port}", log=proxy_log
    )
    return Supervisor(children, proxy), path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ptexplore.serve", description=__doc__)
    ap.add_argument("--host", action="append", required=True, help="address learners type")
    ap.add_argument("--address", default="0.0.0.0", help="interface to listen on")
    ap.add_argument("--port", type=int, default=8501)
    ap.add_argument(
        "--replicas",
        type=int,
        default=default_replicas(),
        help=f"Streamlit processes behind HAProxy (default: one per core, at most "
        f"{limits.MAX_REPLICAS}; 1 = a single server, no proxy)",
    )
    ap.add_argument("--workdir", type=Path, help="where to write haproxy.cfg and the logs")
    ap.add_argument(
        "--model",
        action=_ModelAction,
        metavar="PKG.MOD:NAME",
        help='your own nn.Module (a class or a factory; optional JSON kwargs: Name{"k": 1}); '
        "repeatable; the current folder is importable",
    )
    ap.add_argument(
        "--input",
        action=_InputAction,
        metavar="1,3,224,224",
        help="the input shape of the --model before it, batch first",
    )
    args = ap.parse_args(argv)
    models_path = os.getcwd()  # before any chdir: the replicas import from here
    try:
        models = models_env(args.model or [])
        hosts = [check_host(h) for h in args.host]
        if args.replicas == 1:
            cmd = classroom_command(hosts, address=args.address, port=args.port)
        else:
            workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ptexplore-serve-"))
            workdir.mkdir(parents=True, exist_ok=True)
            supervisor, cfg = build(
                hosts,
                address=args.address,
                port=args.port,
                replicas=args.replicas,
                workdir=workdir,
                logs=True,
                models=models,
                models_path=models_path,
            )
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"learners open http://{hosts[0]}:{args.port}", flush=True)
    if args.replicas == 1:
        os.chdir(ROOT)
        # become the server: nothing is left behind when stopped
        env = classroom_env(hosts, args.port, models=models, models_path=models_path)
        os.execve(cmd[0], cmd, env)
    print(f"{args.replicas} replicas behind HAProxy; its config: {cfg}", flush=True)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    try:
        supervisor.start()
        print("ready", flush=True)
        supervisor.run()
    finally:
        supervisor.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

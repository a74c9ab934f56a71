"""Serve ptexplore to a classroom: ``python -m ptexplore.serve --host 192.168.1.20``.

One Streamlit process runs every session's script as a thread under one GIL, so it tops
out near one core however many the laptop has. With ``--replicas N`` (default: one per
core, at most 8) this starts N ``streamlit run app.py`` processes on free loopback ports
and HAProxy on the public address in front of them, with cookie-based session affinity
(see :mod:`ptexplore.haproxy`), and supervises them (:mod:`ptexplore.supervise`): a
replica that dies is started again with backoff and given up on after repeated crashes,
and Ctrl-C / SIGTERM stops everything — nothing is left running, and a temporary work
folder is removed. ``--replicas 1`` is a single server with no proxy (the process becomes
the server).

A class across several machines: on each worker host ``serve --host FRONT --replicas N
--listen WORKER_ADDR`` runs the replicas on that address and prints a ``backends …``
line; on the front host ``serve --host FRONT --backends A:P,B:Q,…`` runs HAProxy alone in
front of them (same cookie affinity and health checks), or ``--write-config PATH`` writes
its config for a school's own HAProxy.

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
import dataclasses
import ipaddress
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ptexplore import haproxy, i18n, limits
from ptexplore.classroom import CLASS_URL_ENV
from ptexplore.errors import InputError
from ptexplore.models import user
from ptexplore.pages import ROOT
from ptexplore.supervise import (
    STATE_FILE,
    Child,
    Supervisor,
    ephemeral_floor,
    healthy,
    replica_ports,
)

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
    """A port the kernel picks (inside its ephemeral range): for tests and benches."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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


def first_replica_port(port: int) -> int:
    """Where the replica port scan starts: just above the class's port, or
    :data:`~ptexplore.limits.REPLICA_PORT_FALLBACK` when that is in the ephemeral range."""
    if port + 1 + limits.MAX_REPLICAS < ephemeral_floor():
        return port + 1
    return limits.REPLICA_PORT_FALLBACK


def parse_backends(text: str) -> list[haproxy.Replica]:
    """``"10.0.1.2:8502,10.0.2.2:8502"`` (``[v6]:port`` for IPv6) → the front's servers,
    named ``r1``, ``r2``, … in that order (the affinity cookie's values)."""
    found: list[haproxy.Replica] = []
    for i, item in enumerate(p.strip() for p in text.split(",") if p.strip()):
        host, sep, port_text = item.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not sep or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise InputError(
                f"Backend {item!r} is not host:port.",
                fix="List the addresses the worker hosts printed, e.g. "
                "--backends 10.0.1.2:8502,10.0.1.2:8503",
            )
        found.append(haproxy.Replica(f"r{i + 1}", check_host(host), int(port_text)))
    if not found:
        raise InputError("--backends names no server.", fix="e.g. --backends 10.0.1.2:8502")
    if len({(r.host, r.port) for r in found}) < len(found):
        raise InputError("A backend is listed twice.", fix="Name each host:port once.")
    if len(found) > limits.MAX_BACKENDS:
        raise InputError(
            f"{len(found)} backends: one front serves at most {limits.MAX_BACKENDS}.",
            fix="Run a second front for the next class.",
        )
    return found


def _proxy(workdir: Path, *, address: str, port: int, log: bool) -> tuple[Child, Path]:
    binary = haproxy_binary()
    cfg = workdir / "haproxy.cfg"
    child = Child(
        "haproxy",
        lambda _port: [binary, "-db", "-f", str(cfg)],
        host=address,
        port=port,
        log_path=workdir / "haproxy.log" if log else None,
    )
    return child, cfg


def _replicas(
    hosts: list[str],
    *,
    listen: str,
    public_port: int,
    n: int,
    first_port: int,
    workdir: Path,
    log: bool,
    models: str,
    models_path: str | None,
) -> list[Child]:
    ports = replica_ports(listen, n, first_port, skip=[public_port])
    allowed = hosts + ([listen] if listen not in ("0.0.0.0", "::", *hosts) else [])
    env = classroom_env(hosts, public_port, models=models, models_path=models_path)

    def command(rport: int) -> list[str]:
        return classroom_command(allowed, address=listen, port=rport, public_port=public_port)

    return [
        Child(
            f"r{i + 1}",
            command,
            host=listen,
            port=rport,
            cwd=ROOT,
            env=env,
            log_path=workdir / f"r{i + 1}.log" if log else None,
        )
        for i, rport in enumerate(ports)
    ]


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
    replica_port: int | None = None,
    remove_workdir: bool = False,
) -> tuple[Supervisor, Path]:
    """A class on this machine: ``replicas`` Streamlit processes on loopback and HAProxy on
    ``address:port`` in front of them; and where its config will be written
    (``workdir/haproxy.cfg``, once the replicas answer)."""
    if not 2 <= replicas <= limits.MAX_REPLICAS:
        raise InputError(
            f"{replicas} replicas: a proxy serves 2 to {limits.MAX_REPLICAS}.",
            fix="Use --replicas 1 for a single server, or up to one per core.",
        )
    proxy, cfg = _proxy(workdir, address=address, port=port, log=logs)
    workers = build_worker(
        hosts, listen="127.0.0.1", port=port, replicas=replicas, workdir=workdir, logs=logs,
        models=models, models_path=models_path, replica_port=replica_port,
        remove_workdir=remove_workdir,
    )  # fmt: skip

    def write(now: Sequence[Child]) -> None:
        servers = [haproxy.Replica(c.name, c.host, c.port) for c in now]
        cfg.write_text(haproxy.config(servers, address=address, port=port))

    return dataclasses.replace(workers, proxy=proxy, write_config=write), cfg


def build_worker(
    hosts: list[str],
    *,
    listen: str,
    port: int,
    replicas: int,
    workdir: Path,
    logs: bool = False,
    models: str = "",
    models_path: str | None = None,
    replica_port: int | None = None,
    remove_workdir: bool = False,
) -> Supervisor:
    """A worker host of a class across several machines: ``replicas`` Streamlit processes
    listening on ``listen`` for the front's HAProxy; learners type ``hosts[0]:port``."""
    if not 1 <= replicas <= limits.MAX_REPLICAS:
        raise InputError(
            f"{replicas} replicas: a worker runs 1 to {limits.MAX_REPLICAS}.",
            fix="Run up to one per core.",
        )
    children = _replicas(
        hosts,
        listen=check_host(listen),
        public_port=port,
        n=replicas,
        first_port=replica_port or first_replica_port(port),
        workdir=workdir,
        log=logs,
        models=models,
        models_path=models_path,
    )
    return Supervisor(children, None, workdir=workdir, remove_workdir=remove_workdir)


def build_front(
    backends: list[haproxy.Replica],
    *,
    address: str,
    port: int,
    workdir: Path,
    logs: bool = False,
    remove_workdir: bool = False,
) -> tuple[Supervisor, Path]:
    """The front host of a class across several machines: HAProxy on ``address:port`` in
    front of replicas other hosts run (``serve --listen`` there)."""
    proxy, cfg = _proxy(workdir, address=address, port=port, log=logs)
    proxy.listen_only = True  # its health route answers only once a backend does
    cfg.write_text(haproxy.config(backends, address=address, port=port))
    sup = Supervisor([], proxy, workdir=workdir, remove_workdir=remove_workdir)
    return sup, cfg


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m ptexplore.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", action="append", required=True, help="address learners type")
    ap.add_argument("--address", default="0.0.0.0", help="interface HAProxy listens on")
    ap.add_argument("--port", type=int, default=8501, help="port learners type")
    ap.add_argument(
        "--replicas",
        type=int,
        default=default_replicas(),
        help=f"Streamlit processes behind HAProxy (default: one per core, at most "
        f"{limits.MAX_REPLICAS}; 1 = a single server, no proxy)",
    )
    ap.add_argument(
        "--replica-port",
        type=int,
        help="first port tried for the replicas (default: --port + 1; free ports are taken "
        "upward from it, below the kernel's ephemeral range)",
    )
    ap.add_argument(
        "--listen",
        metavar="ADDR",
        help="worker host: run the replicas on this address for a front host's HAProxy "
        "(no proxy here; prints the --backends line for the front)",
    )
    ap.add_argument(
        "--backends",
        metavar="HOST:PORT,...",
        help="front host: run HAProxy only, in front of the replicas worker hosts printed",
    )
    ap.add_argument(
        "--write-config",
        type=Path,
        metavar="PATH",
        help="with --backends: write the HAProxy config there and exit (for a school's own "
        "HAProxy)",
    )
    ap.add_argument(
        "--workdir",
        type=Path,
        help=f"where to keep haproxy.cfg, the logs and {STATE_FILE} (kept; default: a "
        "temporary folder, removed at the end)",
    )
    ap.add_argument(
        "--model",
        action=_ModelAction,
        metavar="PKG.MOD:NAME",
        help='your own nn.Module (a class or a factory; optional JSON kwargs: Name{"k": 1}); '
        "repeatable; the current folder is importable",
    )
    ap.add_argument(
        "--lang",
        choices=[lang.value for lang in i18n.Lang],
        help="the interface's language for every learner who opens the class's address "
        "(en, or zh for 简体中文; each learner can still switch it in the sidebar)",
    )
    ap.add_argument(
        "--input",
        action=_InputAction,
        metavar="1,3,224,224",
        help="the input shape of the --model before it, batch first",
    )
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.listen and args.backends:
        ap.error("a host is either a worker (--listen) or the front (--backends), not both")
    if args.write_config and not args.backends:
        ap.error("--write-config needs --backends")
    if args.lang:
        os.environ[i18n.LANG_ENV] = args.lang  # every replica's default (classroom_env)
    models_path = os.getcwd()  # before any chdir: the replicas import from here
    mine = args.workdir is None
    try:
        models = models_env(args.model or [])
        hosts = [check_host(h) for h in args.host]
        backends = parse_backends(args.backends) if args.backends else None
        if args.write_config is not None and backends is not None:
            args.write_config.write_text(
                haproxy.config(backends, address=args.address, port=args.port)
            )
            print(f"wrote {args.write_config}: HAProxy in front of {len(backends)} replicas")
            return 0
        if args.replicas == 1 and not args.listen and backends is None:
            cmd = classroom_command(hosts, address=args.address, port=args.port)
            print(f"learners open http://{hosts[0]}:{args.port}", flush=True)
            os.chdir(ROOT)
            # become the server: nothing is left behind when stopped
            env = classroom_env(hosts, args.port, models=models, models_path=models_path)
            os.execve(cmd[0], cmd, env)
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ptexplore-serve-"))
        workdir.mkdir(parents=True, exist_ok=True)
        if backends is not None:
            supervisor, cfg = build_front(
                backends,
                address=args.address,
                port=args.port,
                workdir=workdir,
                logs=True,
                remove_workdir=mine,
            )
            what = f"HAProxy in front of {len(backends)} replicas on other hosts; config {cfg}"
        elif args.listen:
            supervisor = build_worker(
                hosts, listen=args.listen, port=args.port, replicas=args.replicas,
                models=models, models_path=models_path, replica_port=args.replica_port,
                workdir=workdir, logs=True, remove_workdir=mine,
            )  # fmt: skip
            what = f"{args.replicas} replicas on {args.listen} for a front host's HAProxy"
        else:
            supervisor, cfg = build(
                hosts, address=args.address, port=args.port, replicas=args.replicas,
                models=models, models_path=models_path, replica_port=args.replica_port,
                workdir=workdir, logs=True, remove_workdir=mine,
            )  # fmt: skip
            what = f"{args.replicas} replicas behind HAProxy; its config: {cfg}"
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.listen:
        print(f"learners open http://{hosts[0]}:{args.port}", flush=True)
    print(what, flush=True)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    try:
        supervisor.start()
        if backends is not None:
            for b in backends:
                if not healthy(f"http://{b.host}:{b.port}", timeout=1.0):
                    print(f"backend {b.name} {b.host}:{b.port} does not answer yet (HAProxy "
                          "sends it learners once it does)", flush=True)  # fmt: skip
        if args.listen:
            line = ",".join(f"{c.host}:{c.port}" for c in supervisor.replicas)
            print(f"backends {line}", flush=True)
        print("ready", flush=True)
        return supervisor.run()
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        supervisor.stop()


if __name__ == "__main__":
    raise SystemExit(main())

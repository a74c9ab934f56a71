"""Supervising a classroom's processes: the replicas (each a Streamlit server) and HAProxy.

* **Ports without a race.** Replica ports are chosen by trying to bind each port from a
  start upward, *below* the kernel's ephemeral range (``ip_local_port_range``, 32768 by
  default): the kernel never hands those out for outgoing connections, so between the
  check and the replica's own bind only a program deliberately listening there can take
  one — and then that replica fails to start, and it is started again on the next free port.
* **Restarts with backoff.** A replica (or HAProxy) that exits is started again after
  :data:`~ptexplore.limits.RESTART_BACKOFF_S`, doubling with each crash up to
  :data:`~ptexplore.limits.RESTART_BACKOFF_MAX_S`; after
  :data:`~ptexplore.limits.CRASH_LIMIT` crashes within
  :data:`~ptexplore.limits.CRASH_WINDOW_S` it is given up on, with one log line saying
  so; HAProxy's health checks already send its learners elsewhere. With no replica left
  (or HAProxy given up) the supervisor stops everything and exits with status 1.
* **State for people and tests.** ``replicas.json`` in the work folder names each
  process, its pid and address, and is rewritten on every start; ``haproxy.cfg`` is written
  once the replicas answer their health check, with the ports they really listen on.
* **Nothing left behind.** Stopping terminates (then kills) every child, closes the logs
  and removes the work folder when the supervisor made it.

Pure standard library: the supervisor never imports torch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ptexplore import limits
from ptexplore.errors import InputError

__all__ = [
    "STATE_FILE",
    "Child",
    "Supervisor",
    "ephemeral_floor",
    "healthy",
    "replica_ports",
]

#: The state file in the work folder.
STATE_FILE = "replicas.json"


def ephemeral_floor() -> int:
    """The lowest port the kernel hands out for outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; macOS and Windows start at 49152


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # as the servers bind: a port whose last connection is in TIME_WAIT is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def replica_ports(host: str, n: int, start: int, *, skip: Sequence[int] = ()) -> list[int]:
    """``n`` ports on ``host`` that bind now, from ``start`` upward, below the ephemeral
    range, none of ``skip``; raises :class:`InputError` when the range runs out."""
    top = ephemeral_floor()
    found: list[int] = []
    port = start
    while len(found) < n:
        if port >= top or port > 65535:
            raise InputError(
                f"Found only {len(found)} free ports for {n} replicas between {start} and "
                f"{top - 1} on {host}.",
                fix="Choose another first port with --replica-port (below the kernel's "
                f"ephemeral range, which starts at {top}).",
            )
        if port not in skip and _bindable(host, port):
            found.append(port)
        port += 1
    return found


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url``'s ``/_stcore/health`` answers 200 (Streamlit's health route)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _accepts(url: str) -> bool:
    host, _, port = url.removeprefix("http://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies (even by kill -9),
    so no replica outlives it (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:  # not Linux: the supervisor's own shutdown still stops everything
        pass


@dataclass
class Child:
    """One supervised process. ``command(port)`` is what it runs (a replica listens on
    ``host:port``; HAProxy ignores the port it is given)."""

    name: str
    command: Callable[[int], list[str]]
    host: str = "127.0.0.1"
    port: int = 0
    health_host: str | None = None  # where the supervisor checks it (default: host)
    listen_only: bool = False  # ready once it accepts a connection (no health route)
    cwd: Path | None = None
    env: dict[str, str] | None = None
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    crashes: list[float] = field(default_factory=list)
    due: float | None = None  # when a crashed child is started again
    given_up: bool = False
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        host = self.health_host or self.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        if self.log is None and self.log_path is not None:
            self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed by close())
        self.proc = subprocess.Popen(
            self.command(self.port),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=self.env,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


@dataclass
class Supervisor:
    """Starts the replicas, then (when there is one) HAProxy with a config naming the ports
    they listen on; restarts what dies with backoff; stops everything at the end."""

    replicas: list[Child]
    proxy: Child | None = None
    workdir: Path | None = None
    #: writes HAProxy's config for the replicas as they are (called once they are healthy)
    write_config: Callable[[Sequence[Child]], None] | None = None
    #: remove ``workdir`` when stopped (the supervisor made it)
    remove_workdir: bool = False
    say: Callable[[str], Any] = print
    stopping: bool = False
    exit_code: int = 0
    #: a replica that fails to start is tried on the next free port this many times
    start_tries: int = 3

    # ------------------------------------------------------------------ start

    def _wait_healthy(self, child: Child, deadline: float) -> bool:
        while not (_accepts(child.url) if child.listen_only else healthy(child.url, 1.0)):
            if not child.alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def start(self, timeout: float = 120.0) -> None:
        """Start every replica and wait until each answers; one that dies while starting
        (its port was taken meanwhile, say) is started again on another free port."""
        deadline = time.monotonic() + timeout
        for child in self.replicas:
            child.start()
        for child in self.replicas:
            for attempt in range(self.start_tries):
                if self._wait_healthy(child, deadline):
                    break
                if time.monotonic() > deadline or attempt == self.start_tries - 1:
                    self.stop()
                    raise RuntimeError(f"replica {child.name} did not start (see its log)")
                taken = [c.port for c in self.replicas]
                if child.proc is not None and child.alive():
                    child.proc.kill()
                    child.proc.wait()
                child.port = replica_ports(child.host, 1, child.port + 1, skip=taken)[0]
                self.say(f"replica {child.name} did not start; trying port {child.port}")
                child.start()
            self.say(f"replica {child.name} ready at {child.url}")
        if self.write_config is not None:
            self.write_config(self.replicas)
        if self.proxy is not None:
            self.proxy.start()
            if not self._wait_healthy(self.proxy, deadline):
                self.stop()
                raise RuntimeError("HAProxy did not start (see haproxy.log)")
        self.write_state()

    # ------------------------------------------------------------------ watch

    def _children(self) -> list[Child]:
        return [*self.replicas, *([self.proxy] if self.proxy else [])]

    def watch_once(self, now: float | None = None) -> None:
        """One look at every child: note crashes, start what is due, give up where a
        child crashed too often, stop when nothing is left to serve."""
        if self.stopping:
            return
        now = time.monotonic() if now is None else now
        changed = False
        for child in self._children():
            if child.given_up:
                continue
            if child.due is not None:
                if now >= child.due:
                    child.due = None
                    child.restarts += 1
                    child.start()
                    changed = True
                continue
            if child.alive():
                continue
            code = child.proc.returncode if child.proc else None
            child.crashes = [t for t in child.crashes if now - t < limits.CRASH_WINDOW_S]
            child.crashes.append(now)
            where = f" (see {child.log_path})" if child.log_path else ""
            if len(child.crashes) >= limits.CRASH_LIMIT:
                child.given_up = True
                changed = True
                self.say(
                    f"{child.name} exited (code {code}): {len(child.crashes)} crashes within "
                    f"{limits.CRASH_WINDOW_S:.0f} s; giving up on it{where}"
                )
                continue
            delay = min(
                limits.RESTART_BACKOFF_MAX_S,
                limits.RESTART_BACKOFF_S * 2 ** (len(child.crashes) - 1),
            )
            child.due = now + delay
            self.say(f"{child.name} exited (code {code}); restarting it in {delay:.1f} s{where}")
        if self.proxy is not None and self.proxy.given_up:
            self.say("HAProxy cannot stay up: stopping the class")
            self.exit_code = 1
            self.stop()
            return
        if self.replicas and all(c.given_up for c in self.replicas):
            self.say("no replica is left: stopping the class")
            self.exit_code = 1
            self.stop()
            return
        if changed:
            self.write_state()

    def run(self, poll: float = 0.25) -> int:
        while not self.stopping:
            self.watch_once()
            time.sleep(poll)
        return self.exit_code

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        def one(c: Child) -> dict[str, Any]:
            status = (
                "given up"
                if c.given_up
                else "restarting"
                if c.due is not None
                else "up"
                if c.alive()
                else "down"
            )
            return {
                "name": c.name,
                "pid": c.proc.pid if c.proc else None,
                "host": c.host,
                "port": c.port,
                "restarts": c.restarts,
                "state": status,
                "log": str(c.log_path) if c.log_path else None,
            }

        return {
            "supervisor": os.getpid(),
            "replicas": [one(c) for c in self.replicas],
            "proxy": one(self.proxy) if self.proxy else None,
        }

    def write_state(self) -> None:
        if self.workdir is None or self.stopping:
            return
        tmp = self.workdir / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(self.state(), indent=2) + "\n")
        tmp.replace(self.workdir / STATE_FILE)

    # ------------------------------------------------------------------ stop

    def stop(self, *_: object) -> None:
        """Terminate every child (kill after 15 s), close the logs, remove a work folder
        the supervisor made. Safe to call twice (a signal handler and ``finally``)."""
        first = not self.stopping
        self.stopping = True
        children = [c for c in self._children() if c.proc is not None]
        for child in children:
            if child.proc is not None and child.alive():
                child.proc.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        for child in self._children():
            child.close()
        if first and self.remove_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

"""Code panels run as a learner runs them: a new interpreter, another working directory.

Starting Python and importing torch and torchvision costs ~2.8 s per script on a CI core,
and the suite runs dozens of code panels. So one *zygote* interpreter, started once from a
temporary directory, imports only what every panel imports first (torch, torchvision,
numpy, PIL; never ptexplore nor the tests) without running any torch op, and forks one
child per script, in which ``import ptexplore`` fails as it does where only
torch, torchvision, numpy and PIL are installed. Each child is a new process with a fresh
``__main__``: it changes to the test's directory, runs the code as ``python script.py``
would (the script a file, so DataLoader workers started with ``forkserver`` can import
it; stdout and stderr to files, an uncaught exception printed the way Python prints it,
exit handlers run, then exit), and the zygote reports its exit status. Nothing a script
does reaches the next one. The child gets the test's environment at the time of the call
(``TORCH_HOME`` set by ``monkeypatch``); only what torch reads while it is imported comes
from the zygote's start.

A script that needs more on ``sys.path`` (a test's own model module) says so with ``path=``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

ZYGOTE = r"""
import atexit, builtins, json, os, signal, sys, time, traceback, types
import numpy, PIL.Image, torch, torchvision  # what the panels import first; no op runs here
import multiprocessing.forkserver as forkserver, multiprocessing.resource_tracker as tracker

# one forkserver, started here, forks every script's DataLoader workers (each script would
# start its own: ~3 s of importing torch); a worker still imports its script (__mp_main__)
forkserver.set_forkserver_preload(["torch", "torchvision", "numpy", "PIL.Image"])
forkserver.ensure_running()


class NotInstalled:  # a learner's machine: torch, torchvision, numpy, PIL; no ptexplore

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "ptexplore":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def child(req):
    sys.meta_path.insert(0, NotInstalled)
    # the inherited forkserver is the zygote's child, not ours: os.waitpid cannot check it
    forkserver._forkserver.ensure_running = tracker.ensure_running
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    for fd, name in ((1, "out"), (2, "err")):
        f = os.open(req[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    sys.argv = [req["file"]]
    sys.path[:0] = [os.path.dirname(req["file"]), *req["path"]]
    main = types.ModuleType("__main__")  # what pickle and multiprocessing look up
    main.__builtins__ = builtins
    main.__spec__ = None
    main.__file__ = req["file"]  # DataLoader workers (forkserver, spawn) import it
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main
    rc = 0
    try:
        exec(compile(req["code"], req["file"], "exec"), main.__dict__)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        rc = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)

reply = sys.stdout
sys.stdout = sys.stderr
print("ready", file=reply, flush=True)
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(req)
        finally:
            os._exit(70)  # never back into this loop
    deadline = time.monotonic() + req["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = 137 << 8
            break
        time.sleep(0.005)
    print(json.dumps(os.waitstatus_to_exitcode(status)), file=reply, flush=True)
"""


class _Zygote:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._home = tempfile.TemporaryDirectory(prefix="ptx-zygote-")

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", ZYGOTE],
                cwd=self._home.name,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._proc.stdout is not None
            assert self._proc.stdout.readline().strip() == "ready"
        return self._proc

    def run(
        self, code: str, cwd: Path, path: Sequence[str], timeout: float
    ) -> tuple[int, str, str]:
        with self._lock, tempfile.TemporaryDirectory(prefix="ptx-fresh-") as io:
            out, err, script = Path(io, "out"), Path(io, "err"), Path(io, "script.py")
            script.write_text(code)
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            req = {
                "code": code,
                "cwd": str(cwd),
                "path": list(path),
                "timeout": timeout,
                "env": dict(os.environ),
                "file": str(script),
                "out": str(out),
                "err": str(err),
            }
            proc.stdin.write(json.dumps(req) + "\n")
            proc.stdin.flush()
            rc = int(json.loads(proc.stdout.readline()))
            return rc, out.read_text(), err.read_text()


_ZYGOTE = _Zygote()


def fresh(code: str, cwd: Path, *, path: Sequence[str] = (), timeout: float = 300) -> str:
    """stdout of ``code`` run in a new process from ``cwd``, plus the exception line Python
    prints when it fails."""
    rc, out, err = _ZYGOTE.run(code, cwd, path, timeout)
    if rc != 0:
        lines = err.strip().splitlines()
        out += (lines[-1] if lines else f"exit status {rc}") + "\n"
    return out

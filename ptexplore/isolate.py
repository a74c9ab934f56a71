"""Sandboxed jobs: untrusted or heavy work runs in a process the kernel limits.

A replica runs every learner's reruns as threads of one process, so a native crash
(torchvision's CPU ``grid_sample`` on float16 once segfaulted it), a memory blow-up or a
pathological decode in one request would end all of that replica's sessions. A job given to
:func:`job` instead runs in a child process:

* **A clean helper.** On the first job a replica starts one helper, ``python -m
  ptexplore.isolate`` (a fresh interpreter, never a fork of the threaded server), which
  imports torch, torchvision, numpy, PIL and the decoders once (:data:`PRELOAD`) and runs
  no torch op. It is the forkserver of the DataLoader lab, generalised; it also starts that
  lab's own forkserver (:data:`STARTUP`), whose workers a DataLoader run's child uses.
* **A child per job.** The helper forks children ahead of time (a few milliseconds: the
  imports are already there). A job on untrusted bytes (an upload decoded or read) always
  runs in a child that ran nothing before and ends with it, so nothing one job did — its
  threads, a corrupted allocator — is seen by the next. The app's own work on checked
  inputs (``reuse``: grids, builds, DataLoader runs) may run in a warm child that ran such
  jobs before (a fresh fork pays a page fault per page it touches: ~30 ms of a first
  grid), with the global RNGs put back first, as a fresh child has them. A child keeps
  no inherited file descriptor but its job's socket, its channel to the helper and
  :data:`STARTUP`'s; each job gets ``RLIMIT_AS`` (the memory it may add), ``RLIMIT_CPU``
  and ``RLIMIT_CORE=0``; the helper kills the child at the job's wall-clock limit (or
  after SIGTERM and a grace period, when the caller cancels it) and reports how it ended.
* **Plain results.** Results come back pickled with tensors as raw bytes, and are read by
  an allow-list unpickler: numpy arrays, builtins, and ptexplore's frozen dataclasses and
  enums — nothing a child could make call.
* **Lessons.** A :class:`~ptexplore.errors.LessonError` raised in the job is raised again
  in the caller. A job that crashes, needs more memory or CPU than allowed, or runs out of
  time ends in a :class:`SandboxError` (a lesson: what happened, that nothing else was
  affected, an incident id logged with the details) and the next job runs as usual; if the
  helper itself dies, the next job starts a new one.

At most :data:`~ptexplore.limits.SANDBOX_MAX_JOBS` children run at once; more wait in the
helper's queue. Bounds are in :mod:`ptexplore.limits` (``SANDBOX_*``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import enum
import fcntl
import functools
import gc
import importlib
import io
import json
import logging
import math
import mmap
import os
import pickle
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, ParamSpec, TypeVar

from ptexplore import i18n, log
from ptexplore.errors import Cancelled, InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    SANDBOX_CANCEL_GRACE_S,
    SANDBOX_IDLE_CHILDREN,
    SANDBOX_MAX_CPU_S,
    SANDBOX_MAX_JOBS,
    SANDBOX_MAX_MEMORY_MB,
    SANDBOX_MAX_RESULT_BYTES,
    SANDBOX_MAX_WALL_S,
    SANDBOX_REUSE_JOBS,
    SANDBOX_REUSE_MAX_MB,
    SANDBOX_START_S,
    SANDBOX_THREADS,
)

P = ParamSpec("P")
R = TypeVar("R")

#: What the helper imports once, before it forks any job.
PRELOAD = (
    "numpy",
    "PIL.Image",
    "torch",
    "torchvision.transforms.v2",
    # the modules of the app's jobs: a child that had to import one would spend 50-150 ms
    # on it per job (measured for ptexplore.ckpt.read: 4 ms in-process, ~60 ms sandboxed)
    "ptexplore.images.decode",
    "ptexplore.ckpt.read",
    "ptexplore.augment.preview",
    "ptexplore.augment.tiles",
    "ptexplore.models.params",
    "ptexplore.autograd.freeze",
    "ptexplore.checkpoints.save",
    "ptexplore.checkpoints.recipes",
    "ptexplore.checkpoints.survey",
    "ptexplore.data.loader",
    "ptexplore.data.parallel",
)
#: Imported too when installed: a save lesson imports safetensors, a model picked by name
#: looks in timm's registry (without these, the first such job in each child took 0.4 s).
PRELOAD_OPTIONAL = ("safetensors.torch", "timm")

#: Started by the helper before it imports :data:`PRELOAD` ("module:function"): each
#: returns what the helper calls once its imports are done, which returns descriptors every
#: child keeps (the DataLoader lab's forkserver: its runs' workers are forks of it).
STARTUP = ("ptexplore.data.workers:sandbox_start",)

#: True in a job's child: a nested job runs in place
_INSIDE = False
#: True in a job's child once its caller cancelled it
_CANCELLED = False
#: descriptors a child keeps besides its socket (what the :data:`STARTUP` hooks returned)
_KEEP: tuple[int, ...] = ()

_HEADER = struct.Struct("!cQ")  # a frame: kind (one byte), length, then the payload
#: one past the highest descriptor a process here can hold (closerange stops there)
_FD_END = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1] % (1 << 63), 1 << 20) or 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """What one job may use: address space it may add (MB), CPU seconds, wall seconds."""

    memory_mb: int = SANDBOX_MAX_MEMORY_MB
    cpu_s: int = SANDBOX_MAX_CPU_S
    wall_s: float = SANDBOX_MAX_WALL_S


class Ending(enum.StrEnum):
    """How a job that gave no result ended."""

    CRASHED = "crashed"
    MEMORY = "memory"
    CPU = "cpu"
    TIMEOUT = "timeout"
    LOST = "lost"


class SandboxError(LessonError):
    """A sandboxed job ended without a result; nothing outside its process was affected."""

    def __init__(self, message: str, *, fix: str, ending: Ending, incident: str) -> None:
        super().__init__(message, fix=fix)
        self.ending = ending
        self.incident = incident


@dataclass(frozen=True, slots=True)
class Report:
    """What the helper saw of a child: its exit, and what it used."""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    #: peak resident memory the job added to what the helper already had, MB
    added_mb: float
    cpu_s: float


# ------------------------------------------------------------------------------ frames


def _send(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(kind, len(payload)) + payload)


#: buffers from this size on travel as sealed memory files, not through the socket
_SHARED_MIN = 1 << 16
_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
_MEMFD = hasattr(os, "memfd_create")


def _send_buffer(sock: socket.socket, raw: memoryview) -> None:
    """One out-of-band buffer: small ones inline (a ``B`` frame), big ones (an ``F`` frame)
    as a memfd holding a copy, sealed against any write before it is sent — the receiver
    checks the seals, so what it validated cannot change under it (a child that kept a
    mapping could otherwise rewrite a sparse tensor's indices after they were checked).
    One copy instead of three, no socket round trips: 40 MB each way in ~25 ms, not ~85."""
    n = raw.nbytes
    if n < _SHARED_MIN or not _MEMFD:
        sock.sendall(_HEADER.pack(b"B", n))
        sock.sendall(raw)
        return
    fd = os.memfd_create("ptexplore-sandbox", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, n)
        flat, done = raw.cast("B"), 0
        while done < n:  # the kernel's copy: twice as fast here as writing through a mapping
            done += os.pwrite(fd, flat[done:], done)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
        socket.send_fds(sock, [_HEADER.pack(b"F", n)], [fd])
    finally:
        os.close(fd)


def _sealed(fd: int, n: int) -> mmap.mmap:
    """Map a received memfd privately (a write here stays here), after checking that it
    is sealed against writes and resizing and holds exactly ``n`` bytes."""
    try:
        if fcntl.fcntl(fd, fcntl.F_GET_SEALS) & _SEALS != _SEALS:
            raise OSError("a sandbox buffer arrived without its seals")
        if os.fstat(fd).st_size != n:
            raise OSError("a sandbox buffer's size is not the size announced")
        # private (a write here stays here), prefaulted: one call maps every page, where
        # touching them one by one costs a page fault each (~4 µs here, 11,000 for 45 MB)
        populate = getattr(mmap, "MAP_POPULATE", 0)
        prot = mmap.PROT_READ | mmap.PROT_WRITE
        return mmap.mmap(fd, n, flags=mmap.MAP_PRIVATE | populate, prot=prot)
    finally:
        os.close(fd)


def _recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, 1 << 24))
        if k == 0:
            return None
        got += k
    return buf


def _recv(sock: socket.socket, cap: int) -> tuple[bytes, bytearray | mmap.mmap] | None:
    """One frame: its kind and body (an ``F`` frame's body is the sealed memfd, mapped).
    The header is read with its descriptors (they travel with its first byte); a body is
    read to its exact length, so no read reaches into the next header."""
    msg, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 4)
    try:
        if not msg:
            return None
        head = bytearray(msg)
        if len(head) < _HEADER.size:
            rest = _recv_exact(sock, _HEADER.size - len(head))
            if rest is None:
                return None
            head += rest
        kind, n = _HEADER.unpack(head)
        if n > cap:
            raise OSError(f"a sandbox frame of {n} bytes is over the cap of {cap}")
        if kind == b"F":
            if len(fds) != 1:
                raise OSError("a shared sandbox buffer arrived without its memory file")
            return kind, _sealed(fds.pop(), n)
    finally:
        for fd in fds:
            os.close(fd)
    body = _recv_exact(sock, n)
    return None if body is None else (kind, body)


def _send_result(
    sock: socket.socket, obj: Any, cap: int, ready: Callable[[], None] = lambda: None
) -> None:
    """Pickle ``obj`` with its arrays out of band: each buffer is sent as it is (a ``B``
    frame, no copy), then the pickle itself (``R``). ``ready()`` runs once the result is
    known to go (pickled, within ``cap``), just before it is sent."""
    buffers: list[pickle.PickleBuffer] = []
    buf = io.BytesIO()
    _Pickler(buf, protocol=5, buffer_callback=buffers.append).dump(obj)
    raws = [b.raw() for b in buffers]
    size = buf.tell() + sum(r.nbytes for r in raws)
    if size > cap:
        raise ValueError(f"the result is {size} bytes, over the sandbox's cap of {cap}")
    ready()
    for raw in raws:
        _send_buffer(sock, raw)
    _send(sock, b"R", buf.getvalue())


# ----------------------------------------------------------------- plain-data pickles


def _tensor(raw: Any, dtype: str, shape: tuple[int, ...]) -> Any:
    """Rebuild a dense tensor sent as its raw bytes (a uint8 numpy array)."""
    import torch

    if not raw.size:  # no elements (a view of no bytes cannot change its element size)
        return torch.empty(shape, dtype=getattr(torch, dtype))
    return torch.from_numpy(raw).view(getattr(torch, dtype)).reshape(shape)


def _meta(dtype: str, shape: tuple[int, ...]) -> Any:
    """Rebuild a tensor on ``meta``: a shape and a dtype, no data."""
    import torch

    return torch.empty(shape, dtype=getattr(torch, dtype), device="meta")


def _sparse_coo(indices: Any, values: Any, shape: tuple[int, ...], coalesced: bool) -> Any:
    """Rebuild a sparse tensor, its invariants checked here (an index out of range would
    read out of bounds in this process later, the one thing the sandbox is for)."""
    import torch

    with _checked_sparse():
        return torch.sparse_coo_tensor(
            indices, values, shape, is_coalesced=coalesced, check_invariants=True
        )


def _sparse_compressed(
    compressed: Any, plain: Any, values: Any, shape: tuple[int, ...], layout: str
) -> Any:
    import torch

    with _checked_sparse():
        return torch.sparse_compressed_tensor(
            compressed, plain, values, shape, layout=getattr(torch, layout), check_invariants=True
        )


@contextlib.contextmanager
def _checked_sparse() -> Iterator[None]:
    try:
        yield
    except RuntimeError as err:
        raise InputError(
            _("A sparse tensor in this result breaks torch's invariants: {err}").format(err=err),
            fix=_("The file is damaged or was made by hand: save the tensor again with torch."),
        ) from None


def _quantized(values: Any, scheme: str, scale: Any, zero_point: Any, axis: int, dtype: str) -> Any:
    """Quantize the dequantized values again with the same parameters: the integers come
    back exactly (each value is within rounding of ``(q - zero_point) * scale``)."""
    import torch

    qdtype = getattr(torch, dtype)
    if scheme == "per_tensor":
        return torch.quantize_per_tensor(values, float(scale), int(zero_point), qdtype)
    return torch.quantize_per_channel(values, scale, zero_point, axis, qdtype)


def _dense(t: Any) -> tuple[Any, ...]:
    import numpy as np
    import torch

    t = t.contiguous()
    raw = t.reshape(-1).view(torch.uint8).numpy() if t.numel() else np.empty(0, np.uint8)
    return _tensor, (raw, str(t.dtype).removeprefix("torch."), tuple(t.shape))


class _Pickler(pickle.Pickler):
    """Tensors travel as plain parts — dense ones as (raw bytes, dtype, shape), sparse ones
    as their index and value tensors, quantized ones as values and quantizer — rebuilt with
    public constructors: no torch.load, no storages on the other side."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is bytes and len(obj) >= _SHARED_MIN:  # an upload: out of band
            return bytes, (pickle.PickleBuffer(obj),)
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(obj, torch.Tensor):
            return NotImplemented
        if obj.device.type == "meta":
            return _meta, (str(obj.dtype).removeprefix("torch."), tuple(obj.shape))
        t = obj.detach().cpu()
        shape = tuple(t.shape)
        if t.layout == torch.strided and not t.is_quantized:
            return _dense(t)
        if t.layout == torch.sparse_coo:
            c = t if t.is_coalesced() else t.coalesce()  # the same values, duplicates summed
            return _sparse_coo, (c.indices(), c.values(), shape, True)
        if t.layout in (torch.sparse_csr, torch.sparse_bsr):
            parts = (t.crow_indices(), t.col_indices())
            return _sparse_compressed, (*parts, t.values(), shape, str(t.layout)[6:])
        if t.layout in (torch.sparse_csc, torch.sparse_bsc):
            parts = (t.ccol_indices(), t.row_indices())
            return _sparse_compressed, (*parts, t.values(), shape, str(t.layout)[6:])
        if t.is_quantized and t.qscheme() == torch.per_tensor_affine:
            q = (t.q_scale(), t.q_zero_point(), 0)
            return _quantized, (t.dequantize(), "per_tensor", *q, str(t.dtype)[6:])
        if t.is_quantized and t.qscheme() == torch.per_channel_affine:
            q = (t.q_per_channel_scales(), t.q_per_channel_zero_points(), t.q_per_channel_axis())
            return _quantized, (t.dequantize(), "per_channel", *q, str(t.dtype)[6:])
        raise InputError(
            _("A tensor of layout {layout} cannot be sent back from the sandbox.").format(
                layout=t.layout
            ),
            fix=_("Save dense, sparse or per-tensor/per-channel quantized tensors."),
        )


_ALLOWED = {
    ("ptexplore.isolate", "_tensor"),
    ("ptexplore.isolate", "_meta"),
    ("ptexplore.isolate", "_sparse_coo"),
    ("ptexplore.isolate", "_sparse_compressed"),
    ("ptexplore.isolate", "_quantized"),
    ("copyreg", "__newobj__"),
    ("copyreg", "_reconstructor"),
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("builtins", "bytearray"),
    ("builtins", "bytes"),
    ("builtins", "object"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _PlainUnpickler(pickle.Unpickler):
    """Reads only plain data: the allow-list above, and ptexplore's dataclasses, enums and
    containers (a state_dict)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.split(".")[0] == "ptexplore" and not name.startswith("_"):
            obj = super().find_class(module, name)
            if isinstance(obj, type) and (
                dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum | dict | tuple | list)
            ):
                return obj  # data: unpickling makes it without calling its __init__
        raise pickle.UnpicklingError(f"a sandbox result may not hold {module}.{name}")


def loads(data: bytes, buffers: list[bytearray | mmap.mmap] | None = None) -> Any:
    """Read a job's result (plain data only; arrays in ``buffers``, sent out of band)."""
    return _PlainUnpickler(io.BytesIO(data), buffers=buffers or ()).load()


# ------------------------------------------------------------------------- the child


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure (``VmSize``, ``VmRSS``, ``VmHWM``), kB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _private_kb() -> int:
    """Memory only this process holds (private pages, /proc/self/smaps_rollup), kB."""
    total = 0
    with contextlib.suppress(OSError), open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def _target(module: str, qualname: str) -> Callable[..., Any]:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{module}:{qualname} is not callable")
    return obj  # type: ignore[no-any-return]


def _out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and (
        "can't allocate memory" in text or "DefaultCPUAllocator" in text
    )


class JobCancelled(Exception):
    """Raised in a job's child when its caller cancelled it (SIGTERM from the helper): an
    ordinary exception, so the job's own clean-up (``finally``, ``except Exception``) runs
    before the child exits."""


def _cancelled(signum: int, frame: Any) -> None:
    global _CANCELLED
    _CANCELLED = True
    raise JobCancelled("the caller cancelled this job")


def _close_all_but(*fds: int) -> None:
    """Close every descriptor from 3 up, but ``fds`` and :data:`_KEEP`."""
    low = 3
    for fd in sorted({*fds, *_KEEP}):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _FD_END)


def _rng_states() -> tuple[Any, ...]:
    """The global RNGs' states (Python's, numpy's, torch's CPU generator)."""
    import random

    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    return (
        random.getstate(),
        np.random.get_state() if np is not None else None,
        torch.get_rng_state() if torch is not None else None,
    )


def _set_rng_states(states: tuple[Any, ...]) -> None:
    import random

    random.setstate(states[0])
    if states[1] is not None:
        sys.modules["numpy"].random.set_state(states[1])
    if states[2] is not None:
        sys.modules["torch"].set_rng_state(states[2])


def _limit(kind: int, soft: int, *, once: bool) -> None:
    """A job's limit: for a child that runs one job, hard too; for a reusable one the soft
    limit only (a hard limit cannot be raised again for the next job), which the kernel
    enforces the same way (SIGXCPU ends the process; an allocation past RLIMIT_AS fails)."""
    hard = resource.getrlimit(kind)[1]
    if once:
        hard = soft + 1 if kind == resource.RLIMIT_CPU else soft
    elif hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def _run_job(
    fd: int, header: dict[str, Any], *, once: bool, ready: Callable[[], None] = lambda: None
) -> int:
    """Set the job's limits, run it, reply on its socket ``fd`` (closed after); returns the
    exit status the child ends with (0: it answered, and may run another job). ``ready()``
    runs when the job has its answer, just before the answer is sent (the helper hears
    that the child is free before the caller can send a next job)."""
    with socket.socket(fileno=fd) as sock:
        buffers: list[bytearray | mmap.mmap] = []
        while True:
            got = _recv(sock, 1 << 40)
            if got is None:
                return 0  # the caller left before the job started
            if got[0] == b"J":
                break
            buffers.append(got[1])  # the job's big arguments, out of band
        job = pickle.loads(got[1], buffers=buffers)  # from the replica itself: trusted
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = math.ceil(usage.ru_utime + usage.ru_stime) + int(header["cpu_s"])
        _limit(resource.RLIMIT_CPU, cpu, once=once)
        memory = _status_kb("VmSize") * 1024 + int(header["memory_mb"]) * 2**20
        _limit(resource.RLIMIT_AS, memory, once=once)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(int(header["threads"]))
        if not once:
            with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # the peak (VmHWM) is this job's
        rss_kb = _status_kb("VmRSS")
        start_cpu = usage.ru_utime + usage.ru_stime
        try:
            # its lessons in the caller's language (sending the result may raise one too)
            with i18n.language(i18n.Lang(job["lang"])):
                result = _target(job["module"], job["qualname"])(*job["args"], **job["kwargs"])
                usage = resource.getrusage(resource.RUSAGE_SELF)
                used = {
                    "added_mb": max(0, _status_kb("VmHWM") - rss_kb) / 1024,
                    "cpu_s": usage.ru_utime + usage.ru_stime - start_cpu,
                }
                _send(sock, b"U", json.dumps(used).encode())
                _send_result(sock, result, int(header["cap"]), ready)
            return 0
        except LessonError as err:
            kind = type(err)
            lesson = {"module": kind.__module__, "name": kind.__qualname__}
            lesson |= {"message": err.message, "fix": err.fix}
            ready()
            _send(sock, b"L", json.dumps(lesson).encode())
            return 0
        except BaseException as err:  # reported to the caller, who logs it
            if _out_of_memory(err):
                _send(sock, b"M", str(err).encode()[:2000])
                return 3
            _send(sock, b"E", traceback.format_exc().encode())
            return 1


def _say_idle(ctl: socket.socket, may: bool, said: list[bool]) -> None:
    """Tell the helper this child is free for another reusable job (when it ``may`` be
    reused, was not cancelled and holds at most SANDBOX_REUSE_MAX_MB of its own)."""
    if may and not _CANCELLED and _private_kb() <= SANDBOX_REUSE_MAX_MB * 1024:
        ctl.send(b"idle")
        said.append(True)


def _spare_child(chan: int) -> NoReturn:
    """A child forked ahead of time: waits for a job's socket on ``chan``, runs the job.

    A job sent with ``reuse`` (the app's own work on inputs already checked: grids, builds,
    DataLoader runs) may leave the child warm for the next such job: the child says "idle"
    on ``chan`` and waits again, its global RNGs put back as they were before its first
    job, so a job sees what a fresh child would. A job on an untrusted input (a decode, an
    uploaded checkpoint) always gets a child that ran nothing before, and ends it. A child
    that failed, was cancelled, ran :data:`~ptexplore.limits.SANDBOX_REUSE_JOBS` jobs or
    grew past :data:`~ptexplore.limits.SANDBOX_REUSE_MAX_MB` ends too."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, _cancelled)
        _close_all_but(chan)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        global _INSIDE
        _INSIDE = True
        rng = _rng_states()
        done = 0
        with socket.socket(fileno=chan) as ctl:
            while True:
                msg, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 1)
                if not msg or not fds:
                    code = 0
                    break
                header = json.loads(msg)
                reuse = bool(header.get("reuse"))
                if done:
                    _set_rng_states(rng)
                done += 1
                said: list[bool] = []
                ready = functools.partial(_say_idle, ctl, reuse and done < SANDBOX_REUSE_JOBS, said)
                code = _run_job(fds[0], header, once=not reuse, ready=ready)
                if code != 0 or not said or _CANCELLED:
                    break
    except JobCancelled:
        code = 0
    except BaseException:
        traceback.print_exc()  # to the replica's log: a bug here, not in the job
    finally:
        if _CANCELLED:
            # what the cancelled job left in reference cycles (a DataLoader's queues and
            # their named semaphores, in an exception's frames) is freed, and so unlinked
            gc.collect()
        os._exit(code)


# ------------------------------------------------------------------------ the helper


@dataclass(slots=True)
class _Running:
    sock: socket.socket
    deadline: float
    #: the child's end of its control channel (it says "idle" there when it may be reused)
    chan: socket.socket
    id: str = ""
    timed_out: bool = False


def _serve(control_fd: int) -> None:
    """The helper's loop: take jobs from the replica, fork, watch, report, reap."""
    global _KEEP
    finishes = []
    for hook in STARTUP:
        try:
            finishes.append(_target(*hook.split(":"))())
        except Exception:  # its jobs will fail with a lesson; the others run
            traceback.print_exc()
    for name in PRELOAD:
        importlib.import_module(name)
    for name in PRELOAD_OPTIONAL:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    keep: list[int] = []
    for finish in finishes:
        try:
            keep += finish()
        except Exception:
            traceback.print_exc()
    _KEEP = tuple(keep)
    # what is loaded now is every child's to share: a collection in a child would write to
    # each of these objects' headers and copy the helper's whole heap page by page
    gc.collect()
    gc.freeze()
    ctl = socket.socket(fileno=control_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(ctl, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    queue: collections.deque[tuple[socket.socket, dict[str, Any]]] = collections.deque()
    running: dict[int, _Running] = {}
    spare: tuple[int, socket.socket] | None = None
    #: warm children that ran a reusable job and wait for the next one, oldest first
    idle: collections.OrderedDict[int, socket.socket] = collections.OrderedDict()

    def drop_idle(pid: int) -> None:
        chan = idle.pop(pid)
        sel.unregister(chan)
        chan.close()  # it reads no job, and exits

    def fork_spare() -> tuple[int, socket.socket]:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            _spare_child(theirs.fileno())
        theirs.close()
        return pid, mine

    spare = fork_spare()
    ctl.send(b"ready")
    open_ = True
    while open_ or running:
        now = time.monotonic()
        wait = min((r.deadline for r in running.values()), default=now + 1.0) - now
        for key, _events in sel.select(max(0.0, min(wait, 1.0))):
            if key.fileobj is ctl:
                msg, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 1)
                if not msg:
                    open_ = False
                    sel.unregister(ctl)
                    for pid in running:
                        os.kill(pid, signal.SIGKILL)
                    if spare is not None:
                        spare[1].close()  # it reads no job, and exits
                        spare = None
                    for pid in list(idle):
                        drop_idle(pid)
                    for s, _h in queue:
                        s.close()
                    queue.clear()
                    continue
                header = json.loads(msg)
                if not fds:  # the caller cancelled a job: end it, queued or running
                    cancel = header.get("cancel")
                    for s, h in [q for q in queue if q[1].get("id") == cancel]:
                        queue.remove((s, h))
                        s.close()
                    for pid, run in running.items():
                        if run.id == cancel and not run.timed_out:
                            # SIGTERM: the job may end its own processes and free what
                            # it holds (named semaphores outlive a killed process);
                            # killed at the deadline below if it has not
                            os.kill(pid, signal.SIGTERM)
                            run.deadline = min(
                                run.deadline, time.monotonic() + SANDBOX_CANCEL_GRACE_S
                            )
                    continue
                queue.append((socket.socket(fileno=fds[0]), header))
            elif key.fileobj is wake_r:
                os.read(wake_r, 4096)
            else:  # a child's channel: "idle" after a reusable job (or closed: it ended)
                pid = key.data
                try:
                    said = key.fileobj.recv(16)  # type: ignore[union-attr]
                except OSError:
                    said = b""
                done = running.get(pid)
                if said == b"idle" and done is not None:
                    del running[pid]
                    done.sock.close()
                    idle[pid] = done.chan
                    while len(idle) > SANDBOX_IDLE_CHILDREN:
                        drop_idle(next(iter(idle)))
                elif not said:
                    sel.unregister(key.fileobj)  # reaped below (or soon)
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            job = running.pop(pid, None)
            if job is None:
                if spare is not None and spare[0] == pid:
                    spare[1].close()
                    spare = None
                if pid in idle:
                    drop_idle(pid)
                continue
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(job.chan)
            job.chan.close()
            report = {
                "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "timed_out": job.timed_out,
                "added_mb": 0.0,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
            with contextlib.suppress(OSError):  # unless the caller has gone
                _send(job.sock, b"S", json.dumps(report).encode())
            job.sock.close()
        now = time.monotonic()
        for pid, job in running.items():
            if not job.timed_out and now > job.deadline:
                job.timed_out = True
                os.kill(pid, signal.SIGKILL)
        while open_ and queue and len(running) < SANDBOX_MAX_JOBS:
            sock, header = queue.popleft()
            if header.get("reuse") and idle:
                pid, chan = idle.popitem(last=True)  # the warmest
                sel.unregister(chan)
            else:
                pid, chan = spare if spare is not None else fork_spare()
                spare = None
            try:
                socket.send_fds(chan, [json.dumps(header).encode()], [sock.fileno()])
            except OSError:  # it ended meanwhile (reaped later): the caller hears it
                chan.close()
                sock.close()
                continue
            sel.register(chan, selectors.EVENT_READ, pid)
            deadline = time.monotonic() + float(header["wall_s"])
            running[pid] = _Running(sock, deadline, chan, str(header.get("id", "")))
        if open_ and spare is None:
            spare = fork_spare()  # the next job starts without waiting for a fork


# ------------------------------------------------------------------------ the caller


class _Helper:
    """The replica's one helper process, started on first use and again if it dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl: socket.socket | None = None

    def _start(self) -> socket.socket:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "ptexplore.isolate", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C meant for the server is the server's to handle
        )
        theirs.close()
        mine.settimeout(SANDBOX_START_S)
        try:
            ready = mine.recv(16)
        except OSError:
            ready = b""
        mine.settimeout(None)
        if ready != b"ready":
            proc.kill()
            proc.wait()
            mine.close()
            raise LessonError(
                _("The sandbox for uploads and heavy work could not start on this server."),
                fix=_("Ask the teacher to look at the server's log, then reload the page."),
            )
        self._proc, self._ctl = proc, mine
        return mine

    def _down(self) -> bool:
        return self._proc is None or self._proc.poll() is not None or self._ctl is None

    def ensure(self) -> None:
        """Start the helper unless it runs (a failure is logged; the next job retries)."""
        with self._lock:
            if self._down():
                try:
                    self._ctl = self._start()
                except LessonError as err:
                    logging.getLogger(f"{log.ROOT_LOGGER}.isolate").warning(
                        "sandbox helper did not start: %s", err.message
                    )

    def submit(self, header: dict[str, Any], theirs: socket.socket) -> None:
        with self._lock:
            if self._down() or self._ctl is None:
                self._ctl = self._start()
            try:
                socket.send_fds(self._ctl, [json.dumps(header).encode()], [theirs.fileno()])
            except OSError:
                self._ctl = self._start()
                socket.send_fds(self._ctl, [json.dumps(header).encode()], [theirs.fileno()])

    def cancel(self, job_id: str) -> None:
        """End job ``job_id`` (queued or running); nothing if it is over or the helper down."""
        with self._lock:
            if not self._down() and self._ctl is not None:
                with contextlib.suppress(OSError):
                    self._ctl.send(json.dumps({"cancel": job_id}).encode())

    def pid(self) -> int | None:
        """The helper's pid while it runs (for tests and the supervisor's accounting)."""
        with self._lock:
            alive = self._proc is not None and self._proc.poll() is None
            return self._proc.pid if alive and self._proc is not None else None

    def close(self) -> None:
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


_HELPER = _Helper()
atexit.register(_HELPER.close)


def kept_fds() -> tuple[int, ...]:
    """In a job's process: the descriptors it kept besides its socket (:data:`STARTUP`)."""
    return _KEEP


def helper_pid() -> int | None:
    return _HELPER.pid()


def warm() -> None:
    """Start the helper now, in the background (a server does this once, at its first
    page), so the first learner's upload does not wait while its interpreter imports torch
    (~3-6 s); a job that comes sooner waits for that start instead of making another."""
    if _INSIDE:
        return
    threading.Thread(target=_HELPER.ensure, name="ptexplore-sandbox-start", daemon=True).start()


_SIGNALS: dict[int, str] = {
    signal.SIGSEGV: N_("a segmentation fault"),
    signal.SIGBUS: N_("a bus error"),
    signal.SIGABRT: N_("an abort"),
    signal.SIGILL: N_("an illegal instruction"),
    signal.SIGFPE: N_("an arithmetic fault"),
}


def _lesson(what: str, limits: Limits, report: Report | None, detail: str) -> SandboxError:
    """The lesson of a job that gave no result; ``what`` is the job's name (English marked
    with ``N_``, or already translated), said in the caller's language."""
    job = _(what)
    said = job[:1].upper() + job[1:]  # (str.capitalize would lower a file's name)
    if report is None:
        ending, message = Ending.LOST, _("The sandbox stopped while {what} ran.").format(what=job)
    elif report.timed_out:
        ending = Ending.TIMEOUT
        message = _("{what} took longer than {s:g} s and was stopped.").format(
            what=said, s=limits.wall_s
        )
    elif report.signal == signal.SIGXCPU or (
        report.signal == signal.SIGKILL and report.cpu_s >= limits.cpu_s
    ):
        ending = Ending.CPU
        message = _("{what} needed more than {s} s of CPU and was stopped.").format(
            what=said, s=limits.cpu_s
        )
    elif report.exit_code == 3:
        ending = Ending.MEMORY
        message = _("{what} needed more than {mb} MB of memory.").format(
            what=said, mb=limits.memory_mb
        )
    else:
        ending = Ending.CRASHED
        if report.signal:
            found = _SIGNALS.get(report.signal)
            why = _(found) if found else _("signal {n}").format(n=report.signal)
        else:
            why = _("exit status {n}").format(n=report.exit_code)
        message = _("{what} crashed the process it ran in ({why}).").format(what=said, why=why)
    err = SandboxError(
        _(
            "{what_happened} Nothing else was affected: it ran in a sandboxed process of its own."
        ).format(what_happened=message),
        fix=_(
            "Try a smaller or different input; if it keeps happening, give the teacher the "
            "incident id."
        ),
        ending=ending,
        incident="",
    )
    err.incident = log.incident("isolate", {"what": what, "report": report, "detail": detail}, err)
    err.message = _("{message} (incident {incident})").format(
        message=err.message, incident=err.incident
    )
    return err


def _relesson(data: bytes) -> LessonError:
    spec = json.loads(data)
    kind: type[LessonError] = LessonError
    if spec["module"].split(".")[0] == "ptexplore":
        found = getattr(importlib.import_module(spec["module"]), spec["name"], None)
        if isinstance(found, type) and issubclass(found, LessonError):
            kind = found
    try:
        return kind(spec["message"], fix=spec["fix"])
    except TypeError:
        return LessonError(spec["message"], fix=spec["fix"])


def _until_ended(sock: socket.socket, timeout_s: float) -> None:
    """Read (and drop) what a cancelled job still sends, until the helper reports that its
    process ended (or ``timeout_s``): a cancelled run is over when the call returns."""
    sock.settimeout(timeout_s)
    with contextlib.suppress(OSError):
        while (got := _recv(sock, SANDBOX_MAX_RESULT_BYTES)) is not None and got[0] != b"S":
            pass


class JobFailed(RuntimeError):
    """A sandboxed job raised an unexpected exception (a bug): its traceback, as text."""


@dataclass(frozen=True, slots=True)
class Job:
    """A kind of sandboxed work: what to call it in a lesson, and its limits."""

    what: str
    limits: Limits = Limits()
    threads: int = SANDBOX_THREADS
    #: set by the caller to end the job early (a learner's newer run): the child is
    #: killed and the call raises :class:`~ptexplore.errors.Cancelled`
    cancel: threading.Event | None = None
    #: the app's own work on inputs already checked (never an upload's bytes): it may run
    #: in a warm child that ran such jobs before (see :func:`_spare_child`)
    reuse: bool = False

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)`` in a sandboxed child process; ``fn`` is a module-level
        function (the child imports it by name) and the arguments pickle."""
        result, _report = self.call_with_report(fn, *args, **kwargs)
        return result

    def call_with_report(
        self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[R, Report]:
        """:meth:`call`, and what the job used (peak memory added, CPU seconds). Inside a
        sandboxed job, a job runs in place (it is sandboxed already), with an empty report."""
        if _INSIDE:
            return fn(*args, **kwargs), Report(0, None, False, 0.0, 0.0)
        if "<locals>" in fn.__qualname__ or fn.__module__ == "__main__":
            raise TypeError(f"{fn.__qualname__} must be a module-level, importable function")
        buf = io.BytesIO()
        job = {
            "module": fn.__module__,
            "qualname": fn.__qualname__,
            "args": args,
            "kwargs": kwargs,
            "lang": i18n.current().value,
        }
        out_of_band: list[pickle.PickleBuffer] = []
        _Pickler(buf, protocol=5, buffer_callback=out_of_band.append).dump(job)
        payload = buf.getvalue()
        job_id = os.urandom(8).hex()
        header = {
            "memory_mb": self.limits.memory_mb,
            "cpu_s": self.limits.cpu_s,
            "wall_s": self.limits.wall_s,
            "threads": self.threads,
            "cap": SANDBOX_MAX_RESULT_BYTES,
            "id": job_id,
            "reuse": self.reuse,
        }
        mine, theirs = socket.socketpair()
        with mine:
            try:
                _HELPER.submit(header, theirs)
            finally:
                theirs.close()
            try:
                return self._answer(mine, [b.raw() for b in out_of_band], payload, job_id)
            except OSError as err:
                raise _lesson(self.what, self.limits, None, repr(err)) from None

    def _wait(self, sock: socket.socket, job_id: str, timeout_s: float) -> None:
        """Until the job answers; a set :attr:`cancel` ends it there (raises Cancelled)."""
        if self.cancel is None:
            return
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            while not sel.select(0.05):
                if self.cancel.is_set():
                    _HELPER.cancel(job_id)
                    _until_ended(sock, SANDBOX_CANCEL_GRACE_S + 2.0)
                    raise Cancelled(
                        _("This run was stopped: you started a newer one."),
                        fix=_("Nothing to do: the newer run's result is shown."),
                    )
                if time.monotonic() > deadline:
                    return  # the read below times out and says so

    def _answer(
        self, sock: socket.socket, raws: list[memoryview], payload: bytes, job_id: str
    ) -> tuple[Any, Report]:
        """Send the job; read the child's answer, or, when it died, the helper's report."""
        for raw in raws:
            _send_buffer(sock, raw)
        _send(sock, b"J", payload)
        # queued jobs wait for a free slot: allow for a queue of full-length jobs
        timeout_s = self.limits.wall_s * (SANDBOX_MAX_JOBS + 1) + 30
        self._wait(sock, job_id, timeout_s)
        sock.settimeout(timeout_s)
        buffers: list[bytearray | mmap.mmap] = []
        used = {"added_mb": 0.0, "cpu_s": 0.0}
        while True:
            got = _recv(sock, SANDBOX_MAX_RESULT_BYTES)
            if got is None:
                raise _lesson(self.what, self.limits, None, "the job's socket closed")
            kind, body = got
            if kind in (b"B", b"F"):
                buffers.append(body)
                continue
            data = bytes(body)
            if kind == b"U":
                used = json.loads(data)
            elif kind == b"R":
                return loads(data, buffers), Report(0, None, False, **used)
            elif kind == b"L":
                raise _relesson(data)
            elif kind == b"E":
                text = data.decode(errors="replace")
                raise JobFailed(f"{self.what} raised in its sandbox:\n{text}")
            elif kind == b"M":
                report = Report(3, None, False, 0.0, 0.0)
                raise _lesson(self.what, self.limits, report, data.decode(errors="replace"))
            elif kind == b"S":
                report = Report(**json.loads(data))
                raise _lesson(self.what, self.limits, report, "no answer from the job")


def job(
    what: str,
    limits: Limits | None = None,
    *,
    cancel: threading.Event | None = None,
    reuse: bool = False,
) -> Job:
    """The sandboxed job called ``what`` in lessons ("decoding this image"); ``cancel``
    set ends it early (:attr:`Job.cancel`); ``reuse`` for the app's own work on checked
    inputs (:attr:`Job.reuse`)."""
    return Job(what, limits or Limits(), cancel=cancel, reuse=reuse)


if __name__ == "__main__":
    # run the helper from the imported module, so what it pickles names ptexplore.isolate
    importlib.import_module("ptexplore.isolate")._serve(int(sys.argv[1]))

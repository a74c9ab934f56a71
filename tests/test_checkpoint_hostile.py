"""Hostile uploads, as a tester in the classroom made them: each is refused before torch
allocates or unpickles anything costly, in bounded time and memory, with a lesson.

Memory is measured in a fresh interpreter (peak RSS before and after the read); time as
this process's CPU time, so other work on the machine does not make a test flaky.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from ptexplore.ckpt import read_checkpoint
from ptexplore.ckpt.formats import LEGACY_MAGIC
from ptexplore.errors import InputError, LessonError
from ptexplore.limits import CKPT_MAX_ENTRIES, CKPT_MAX_PICKLE_BYTES, CKPT_MAX_TENSORS
from tests.conftest import ROOT
from tests.test_checkpoint_formats import saved, with_pickle

MB = 2**20


def peak_rss_growth(path: Path) -> tuple[float, str]:
    """(MB the peak RSS grew by, the error's text) reading ``path`` as an upload, in a
    fresh interpreter that has imported everything and read one checkpoint first.

    On Linux the peak is reset first (``/proc/self/clear_refs``) and read as VmHWM, so the
    import's own peak cannot hide the read's; elsewhere ``ru_maxrss`` before and after.
    """
    code = textwrap.dedent(f"""
        import gc, io, re, resource
        from pathlib import Path
        import torch
        from ptexplore.ckpt import read_checkpoint
        from ptexplore.errors import LessonError

        def status(field):
            text = Path("/proc/self/status").read_text()
            return int(re.search(field + r":\\s+(\\d+)", text).group(1)) / 1024

        data = Path({str(path)!r}).read_bytes()
        warm = io.BytesIO()
        torch.save({{"w": torch.zeros(2)}}, warm)
        read_checkpoint(warm.getvalue())  # lazy imports happen before the measurement
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            before, peak = status("VmRSS"), lambda: status("VmHWM")
        except OSError:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        try:
            read_checkpoint(data)
            said = "LOADED"
        except LessonError as err:
            said = err.message
        print(peak() - before)
        print(said)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    grew, said = out.stdout.split("\n", 1)
    return float(grew), said.strip()


def raw_zip(entries: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip archive written by hand: (name, method, payload as stored, uncompressed
    size, crc) per entry, so a test can declare what it likes."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, method, payload, size, crc in entries:
        n = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                              len(payload), size, len(n), 0))  # fmt: skip
        out.write(n + payload)
        record = (20, 20, 0, method, 0, 0x21, crc, len(payload), size, len(n), 0, 0, 0, 0, 0)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *record, offset))
        central.write(n)
    cd = central.getvalue()
    at = out.tell()
    out.write(cd)
    count = len(entries)
    if count > 0xFFFF:  # zip64: the count lives in the zip64 end record
        rec64 = out.tell()
        out.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                              len(cd), at))  # fmt: skip
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, rec64, 1))
        count = 0xFFFF
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(cd), at, 0))
    return out.getvalue()


def _cpu(data: bytes) -> tuple[float, str]:
    t0 = time.process_time()
    try:
        read_checkpoint(data)
        said = "LOADED"
    except LessonError as err:
        said = err.message
    return time.process_time() - t0, said


# ----------------------------------------------------------------- code in the pickle


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_a_pickle_that_runs_os_system_is_refused_without_running(
    tmp_path: Path, legacy: bool
) -> None:
    marker = tmp_path / "pwned"
    data = saved({"w": torch.zeros(2), "x": RunsCode(marker)},
                 _use_new_zipfile_serialization=not legacy)  # fmt: skip
    with pytest.raises(InputError) as info:
        read_checkpoint(data)
    assert not marker.exists()
    msg = info.value.message
    assert f"`{os.system.__module__}.system`" in msg  # the global the file wanted, named
    assert msg.endswith("`") and "torch said:" in msg  # torch's sentence, complete
    assert "weights_only=False" not in msg and "set to `False`" not in msg
    assert "model.state_dict()" in info.value.fix and "safetensors" in info.value.fix
    assert "never loads with weights_only=False" in info.value.fix


# ------------------------------------------------------------------ decompression bomb


def _bomb(declared: int) -> bytes:
    """A torch.save-shaped archive whose one storage is ``declared`` bytes of zeros,
    deflated: about 1 MB for 1 GiB. torch.load would inflate all of it."""
    pkl = zipfile.ZipFile(io.BytesIO(saved({"w": torch.zeros(3)}))).read("archive/data.pkl")
    numel = struct.pack("<i", declared // 4)
    pkl = pkl.replace(b"K\x03t", b"J" + numel + b"t").replace(b"K\x03\x85", b"J" + numel + b"\x85")
    chunk = bytes(16 * MB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # identical for every chunk
    payload = block * (declared // len(chunk)) + c.flush()
    crc = 0
    for _ in range(declared // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return raw_zip([
        ("archive/data.pkl", 0, pkl, len(pkl), zlib.crc32(pkl)),
        ("archive/byteorder", 0, b"little", 6, zlib.crc32(b"little")),
        ("archive/data/0", zipfile.ZIP_DEFLATED, payload, declared, crc),
        ("archive/version", 0, b"3\n", 2, zlib.crc32(b"3\n")),
    ])  # fmt: skip


def test_a_deflated_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    data = _bomb(2**30)
    assert len(data) < 2 * MB  # a small upload that declares a gigabyte
    with zipfile.ZipFile(io.BytesIO(data)).open("archive/data/0") as entry:
        assert entry.read(MB) == bytes(MB)  # a valid deflate stream: torch would inflate it
    path = tmp_path / "bomb.pth"
    path.write_bytes(data)
    grew, said = peak_rss_growth(path)
    assert "an entry is compressed" in said
    assert grew < 50, f"peak RSS grew by {grew:.0f} MB"
    spent, _ = _cpu(data)
    assert spent < 0.1


def test_a_deflated_data_pkl_is_refused() -> None:
    pkl = zipfile.ZipFile(io.BytesIO(saved({}))).read("archive/data.pkl")
    data = with_pickle(pkl, compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(InputError, match="compressed"):
        read_checkpoint(data)


def test_declared_sizes_over_the_cap_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from ptexplore.ckpt import read

    monkeypatch.setattr(read, "CKPT_MAX_DECLARED_BYTES", 1000)
    with pytest.raises(InputError, match=r"declare .* uncompressed, more than the 0\.0 MB"):
        read_checkpoint(saved({"w": torch.zeros(1000)}))


# -------------------------------------------------------------------- pickle CPU bombs

M = CKPT_MAX_PICKLE_BYTES
BEYOND_CAPS = {
    # TUPLE1 a million times: torch's pure-Python unpickler took ~1.5 s per MB of these
    "deep tuples": (b"\x80\x02K\x01" + b"\x85" * (M - 10) + b".", "nests containers"),
    # a dict key made of tuples that share their halves: hashing it visits 2**40 nodes
    "tuple-tree dict key": (b"\x80\x02}N" + b"q\x00h\x00\x86" * 40 + b"Ns.", "nests"),
    # a key nested a million tuples deep: hashing it overflows the C stack (segfault)
    "deep dict key": (b"\x80\x02}N" + b"\x85" * (M - 20) + b"Ns.", "nests containers"),
    "memo slot 2**31": (b"\x80\x02Nr\xff\xff\xff\x7f.", "memo slot"),
    "bytearray(2**40)": (
        b"\x80\x02cbuiltins\nbytearray\n\x8a\x06\x00\x00\x00\x00\x00\x01\x85R.",
        "would allocate",
    ),
    "FloatStorage(2**40)": (
        b"\x80\x02ctorch\nFloatStorage\n\x8a\x06\x00\x00\x00\x00\x00\x01\x85R.",
        "would allocate",
    ),
    "a million empty lists": (b"\x80\x02(" + b"]" * (M - 10) + b"t.", "containers"),
    "nested lists": (b"\x80\x02" + b"]" * 40 + b"a" * 39 + b".", "nests containers"),
    "quadratic codec": (
        b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x08\x00\x00\x00punycode\x86R.",
        "latin1",
    ),
    "150k storage references": (
        b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00"
        b"\x00\x00cpuK\x00tq\x00(" + b"h\x00Q" * 150_000 + b"t.",
        f"more than {CKPT_MAX_TENSORS:,} storages",
    ),
    "data.pkl over the cap": (b"\x80\x02(" + b"N" * (2 * M) + b"t.", "data.pkl is 2.0 MB"),
    "unsupported opcode": (b"\x80\x02N0N.", "does not support"),
    "malformed: TUPLE without MARK": (b"\x80\x02t.", "malformed"),
    "malformed: APPEND on nothing": (b"\x80\x02Na.", "malformed"),
    "malformed: GET of nothing": (b"\x80\x02h\x05.", "malformed"),
    "no STOP": (b"\x80\x02}", "ends before its STOP"),
}


@pytest.mark.parametrize("name", BEYOND_CAPS)
def test_pickle_bombs_beyond_the_caps_are_refused_in_under_100_ms(name: str) -> None:
    pkl, expected = BEYOND_CAPS[name]
    spent, said = _cpu(with_pickle(pkl))
    assert expected in said, said
    assert spent < 0.1, f"{spent * 1000:.0f} ms"


WITHIN_CAPS = {
    # under every cap: torch's unpickler runs them; each must end in a lesson within a few
    # seconds of CPU (0.1-1.9 s on this project's slower 2-core machine; an upload is read in
    # the sandbox, whose CPU limit, SANDBOX_MAX_CPU_S, ends anything that ran away)
    "PROTO a million times": b"\x80\x02(" + b"\x80\x02" * ((M - 10) // 2) + b"t.",
    "LONG1 a million times": b"\x80\x02(" + b"\x8a\x00" * ((M - 10) // 2) + b"t.",
    "BINGET a million times": b"\x80\x02Nq\x00(" + b"h\x00" * ((M - 10) // 2) + b"t.",
    "a million NEWTRUE": b"\x80\x02(" + b"\x88" * (M - 10) + b"t.",
    "150k empty lists": b"\x80\x02(" + b"]" * 150_000 + b"t.",
    "a dict of 350k int keys": b"\x80\x02}(" + b"K\x01N" * ((M - 20) // 3) + b"u.",
    "one flat key hashed 150k times": b"\x80\x02}("
    + b"N" * 300_000
    + b"tq\x00"
    + b"h\x00Ns" * 150_000
    + b".",
}


@pytest.mark.parametrize("name", WITHIN_CAPS)
def test_pickles_within_the_caps_end_in_a_lesson_within_seconds(name: str) -> None:
    spent, said = _cpu(with_pickle(WITHIN_CAPS[name]))
    assert said != "LOADED"
    assert spent < 4.0, f"{spent:.2f} s"


def test_a_pickle_within_the_caps_costs_no_more_memory_than_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.pth"
    path.write_bytes(with_pickle(b"\x80\x02(" + b"]" * 150_000 + b"t."))
    grew, said = peak_rss_growth(path)
    assert "holds no state_dict" in said
    assert grew < 50, f"peak RSS grew by {grew:.0f} MB"


def test_150k_tiny_tensors_are_refused_by_count() -> None:
    """torch.save writes one entry per storage: 150k tensors took torch.load 16 s."""
    pkl = zipfile.ZipFile(io.BytesIO(saved({}))).read("archive/data.pkl")
    four = bytes(4)
    entries = [("archive/data.pkl", 0, pkl, len(pkl), zlib.crc32(pkl))]
    entries += [(f"archive/data/{i}", 0, four, 4, zlib.crc32(four)) for i in range(150_000)]
    spent, said = _cpu(raw_zip(entries))
    assert f"declares 150,001 entries; at most {CKPT_MAX_ENTRIES:,}" in said
    assert spent < 0.1


def test_an_end_record_that_understates_the_entries_is_caught() -> None:
    pkl = zipfile.ZipFile(io.BytesIO(saved({}))).read("archive/data.pkl")
    entries = [("archive/data.pkl", 0, pkl, len(pkl), zlib.crc32(pkl))]
    entries += [(f"archive/x{i}", 0, b"", 0, 0) for i in range(CKPT_MAX_ENTRIES + 5)]
    data = bytearray(raw_zip(entries))
    eocd = data.rindex(b"PK\x05\x06")
    data[eocd + 8 : eocd + 12] = struct.pack("<2H", 3, 3)  # "3 entries"
    spent, said = _cpu(bytes(data))
    assert f"more than {CKPT_MAX_ENTRIES:,} entries" in said and spent < 0.1


def test_bytes_glued_before_the_archive_are_refused() -> None:
    data = b"\x00" * 100 + saved({"w": torch.zeros(2)})
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        read_checkpoint(data)
    data = saved({"w": torch.zeros(2)})
    with pytest.raises(InputError, match="is not where"):
        read_checkpoint(data[:30] + b"\x00" * 7 + data[30:])


def test_a_storage_that_does_not_match_its_entry_is_refused() -> None:
    data = saved({"w": torch.zeros(3)})
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    bigger = pkl.replace(b"K\x03t", b"K\x09t").replace(b"K\x03\x85", b"K\x09\x85")
    with pytest.raises(InputError, match=r"declares 36 bytes .* but its entry holds 12"):
        read_checkpoint(with_pickle(bigger, base={"w": torch.zeros(3)}))


# ------------------------------------------------------------------ legacy: a terabyte


def _legacy(numel: int, data: bytes) -> bytes:
    """A legacy torch.save stream of one FloatStorage of ``numel`` elements (followed by
    ``data``), written the way torch's legacy saver writes it."""

    class Storage:
        pass

    class Tensor:
        def __reduce__(self) -> tuple[object, tuple[object, ...]]:
            return (torch._utils._rebuild_tensor_v2,
                    (Storage(), 0, (numel,), (1,), False, OrderedDict()))  # fmt: skip

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, Storage):
                return ("storage", torch.FloatStorage, "0", "cpu", numel, None)
            return None

    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}  # fmt: skip
    buf = io.BytesIO()
    buf.write(LEGACY_MAGIC)
    buf.write(pickle.dumps(1001, protocol=2))
    buf.write(pickle.dumps(sys_info, protocol=2))
    Pickler(buf, protocol=2).dump({"w": Tensor()})
    buf.write(pickle.dumps(["0"], protocol=2))
    buf.write(struct.pack("<q", numel) + data)
    return buf.getvalue()


def test_the_crafted_legacy_stream_is_what_torch_reads() -> None:
    values = torch.arange(4.0)
    c = read_checkpoint(_legacy(4, values.numpy().tobytes()))
    assert torch.equal(c.state_dict["w"], values)


def test_a_legacy_file_declaring_a_terabyte_is_refused_before_allocation(tmp_path: Path) -> None:
    path = tmp_path / "terabyte.pth"
    path.write_bytes(_legacy(2**38, bytes(16)))  # 2**38 floats = 1 TiB
    grew, said = peak_rss_growth(path)
    assert "declares 1,024.0 GB of storages but only" in said, said
    assert grew < 50, f"peak RSS grew by {grew:.0f} MB"


def test_a_legacy_storage_whose_size_header_lies_is_refused() -> None:
    data = bytearray(_legacy(4, bytes(16)))
    at = len(data) - 16 - 8
    data[at : at + 8] = struct.pack("<q", 2)
    with pytest.raises(InputError, match="do not start with its size"):
        read_checkpoint(bytes(data))


# ----------------------------------------------------------------------- safetensors


def _st(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


SAFETENSORS = {
    "header over the cap": (struct.pack("<Q", 2**40) + b'{"a": 1}', "header is"),
    "header longer than the file": (struct.pack("<Q", 500) + b"{}", "says 500 bytes"),
    "NaN in the header": (
        _st(b'{"w": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}', bytes(4)),
        "not valid JSON",
    ),
    "Infinity in the header": (_st(b'{"__metadata__": {"a": Infinity}}'), "not valid JSON"),
    "a key twice": (_st(b'{"__metadata__": {}, "__metadata__": {}}'), "appears twice"),
    "unknown dtype": (
        _st(b'{"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}', bytes(16)),
        "`F128`, which is not known",
    ),
    "shape does not match the bytes": (
        _st(b'{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}}', bytes(4)),
        "but 4 bytes",
    ),
    "offsets outside the data": (
        _st(b'{"w": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}', bytes(4)),
        "outside the file's data",
    ),
    "overlapping tensors": (
        _st(
            b'{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, '
            b'"b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}',
            bytes(6),
        ),
        "overlap",
    ),
    "metadata that is not strings": (_st(b'{"__metadata__": {"epoch": 3}}'), "strings"),
    "too many tensors": (
        _st(
            b"{"
            + b",".join(
                b'"t%d": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}' % i
                for i in range(CKPT_MAX_TENSORS + 1)
            )
            + b"}"
        ),
        f"more than {CKPT_MAX_TENSORS:,} tensors",
    ),
}


@pytest.mark.parametrize("name", SAFETENSORS)
def test_hostile_safetensors_headers(name: str) -> None:
    data, expected = SAFETENSORS[name]
    spent, said = _cpu(data)
    assert expected in said, said
    assert spent < 0.1


def test_untrusted_names_reach_messages_only_as_code_spans() -> None:
    evil = "[click](https://evil.example) **bold** :red[x]"
    header = b'{"%s": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}' % evil.encode()
    with pytest.raises(InputError) as info:
        read_checkpoint(_st(header, bytes(4)))
    assert "`[click]\u2060(https://evil.example) **bold** :red[x]`" in info.value.message
    pkl = b"\x80\x02c%s\nx\n)R." % evil.encode()
    with pytest.raises(InputError) as info:
        read_checkpoint(with_pickle(pkl))
    assert evil in info.value.message.replace("\u2060", "")  # named…
    assert "](https" not in info.value.message  # …but never as a link

"""Fuzzing every untrusted input a learner controls: each case ends in a result or a
LessonError, within a time limit and a memory bound — no other exception, no hang.

Text parsers (shapes, permutations, augmentation fields, hosts), pipeline JSON import
(raw text and structured), and the image decoder (random bytes, and mutated bytes of real
images in every accepted format). The checkpoint reader has its own fuzz tests
(tests/test_checkpoint_*.py).
"""

from __future__ import annotations

import io
import json
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ptexplore.augment.catalog import CATALOG, Kind
from ptexplore.augment.export import from_json
from ptexplore.augment.params import parse_widget
from ptexplore.errors import LessonError
from ptexplore.images.decode import decode_image_bytes
from ptexplore.parse import parse_ints
from ptexplore.serve import check_host
from ptexplore.tensors.lab import parse_shape
from ptexplore.view.shapes import parse_permutation, parse_source_shape, parse_target_shape

#: Slowest any single input may be (a real learner waits for it; CI cores are slow).
SECONDS = 2.0
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# characters that break parsers: digits of other scripts, signs, brackets, markdown, nulls
TRICKY = "0123456789-+,.x×eE_()[]{} \t\n٣١²¼ⅷ`*:#!<>&\"'\\\x00\u200b\U0001f600"
texts = st.one_of(
    st.text(alphabet=TRICKY, max_size=40),
    st.text(max_size=300),
    st.builds(lambda n, c: c * n, st.integers(0, 5000), st.sampled_from(["9", ",", "-1, ", "("])),
)


def _bounded(call: Callable[[], Any]) -> Any:
    """The call's result or its LessonError, and it must not take long."""
    t0 = time.perf_counter()
    try:
        out = call()
    except LessonError as err:
        assert err.message.strip() and err.fix.strip()
        out = err
    assert time.perf_counter() - t0 < SECONDS
    return out


@FAST
@given(text=texts)
def test_text_parsers_return_or_explain(text: str) -> None:
    for parse in (
        lambda: parse_ints(text, "shape", max_dims=6),
        lambda: parse_shape(text),
        lambda: parse_source_shape(text),
        lambda: parse_target_shape(text),
        lambda: parse_permutation(text, 3),
        lambda: check_host(text),
    ):
        out = _bounded(parse)
        if isinstance(out, list | tuple):
            assert all(type(d) is int for d in out)


FIELDS = [(p, s.name) for s in CATALOG for p in s.params if p.kind in (Kind.SIZE, Kind.PAIR,
          Kind.TRIPLE, Kind.FILL)]  # fmt: skip


@FAST
@given(text=texts, field=st.sampled_from(FIELDS))
def test_augmentation_text_fields_return_or_explain(text: str, field: Any) -> None:
    param, _ = field
    _bounded(lambda: parse_widget(param, text))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from([t.name for t in CATALOG]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["size", "p", "fill", "mean", "std", "x"]), inner, max_size=4
        ),
    ),
    max_leaves=12,
)
steps = st.lists(
    st.fixed_dictionaries(
        {"transform": st.one_of(st.sampled_from([t.name for t in CATALOG]), st.text(max_size=12))},
        optional={
            "params": st.dictionaries(
                st.sampled_from(sorted({p.name for t in CATALOG for p in t.params} | {"zz"})),
                json_values,
                max_size=4,
            ),
            "enabled": st.one_of(st.booleans(), st.integers()),
        },
    ),
    max_size=6,
)


@FAST
@given(pipeline=steps, extra=st.dictionaries(st.sampled_from(["format", "version"]), json_values))
def test_pipeline_json_import_returns_or_explains(
    pipeline: list[Any], extra: dict[str, Any]
) -> None:
    text = json.dumps({**extra, "steps": pipeline}, allow_nan=True)
    out = _bounded(lambda: from_json(text))
    if not isinstance(out, LessonError):
        out.build()  # an accepted pipeline really builds in torchvision


@FAST
@given(text=texts)
def test_pipeline_json_text_returns_or_explains(text: str) -> None:
    _bounded(lambda: from_json(text))


def _image(fmt: str) -> bytes:
    rng = np.random.default_rng(len(fmt))
    img = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
    buf = io.BytesIO()
    if fmt == "GIF":
        img.save(buf, fmt, save_all=True, append_images=[img.rotate(90)])
    else:
        img.save(buf, fmt)
    return buf.getvalue()


REAL = {fmt: _image(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(REAL[draw(st.sampled_from(sorted(REAL)))])
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "splice", "size"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[i:]
        elif op == "splice":
            data[i:i] = draw(st.binary(max_size=64))
        else:  # write a large number where a header field may be: size bombs
            data[i : i + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x7f\xff"]))
        if not data:
            break
    return bytes(data)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(mutated(), st.binary(max_size=2048)))
def test_image_decoder_returns_or_explains_within_bounds(data: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = _bounded(lambda: decode_image_bytes(data, name="fuzz.bin"))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    # a 40 MP RGB image is 120 MB: no accepted or refused file may cost much more
    assert grown_mb < 400, grown_mb
    if not isinstance(out, LessonError):
        c, h, w = out.pixels.shape
        assert c == 3 and h * w <= 40_000_000


def test_the_empty_pipeline_the_fuzzer_found_works_everywhere() -> None:
    """Found by the JSON fuzzer: ``v2.Compose([])`` refuses an empty list, which crashed
    the Truths tab after a learner removed every step."""
    from ptexplore.augment.pipeline import Pipeline
    from ptexplore.augment.preview import run_grid, seeded_pipeline

    img = decode_image_bytes(REAL["PNG"], name="a.png").pixels
    grid = run_grid(Pipeline(), img, seed=0, n=2, trace_index=1)
    assert all(s.tensor.equal(img) for s in grid.samples)
    assert seeded_pipeline(Pipeline(), 0)(img).equal(img)

"""ptexplore.augment.annotations: COCO / VOC / YOLO / table / PNG-mask readers give the
exact numbers, to_coco round-trips, hostile inputs are lessons (fast), and the bundled
sample photos' hand-made annotations fit their photos."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest
import torch

from ptexplore.augment import annotations as A
from ptexplore.augment.targets import Annotations, BoxFormat, png_of, target, to_xyxy
from ptexplore.errors import InputError
from ptexplore.images.samples import SAMPLES_DIR, sample_names

CANVAS = (100, 200)  # height, width


def coco(anns: list[dict[str, Any]], **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 200, "height": 100}],
        "categories": [
            {"id": 1, "name": "cat", "keypoints": ["l", "r", "n"]},
            {"id": 2, "name": "dog"},
        ],
        "annotations": [{"image_id": 7, **a} for a in anns],
        **extra,
    }
    return json.dumps(doc).encode()


def voc(objects: str, size: str = "<size><width>200</width><height>100</height></size>") -> bytes:
    return f"<annotation><filename>a.jpg</filename>{size}{objects}</annotation>".encode()


def obj(name: str, x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
        f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
    )


def png(arr: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    im = PIL.Image.fromarray(arr.astype(np.uint8), mode="L")
    if mode == "P":
        im = im.convert("P")
        im.putdata(arr.ravel().tolist())
    im.save(buf, format="PNG")
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height but carries only a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def lesson(match: str, fn: Any, *args: Any, **kwargs: Any) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kwargs)
    assert info.value.fix, "every lesson says how to fix it"
    return info.value


# ------------------------------------------------------------------------------ readers


def test_coco_exact_numbers_polygon_mask_and_keypoints() -> None:
    data = coco(
        [
            {
                "id": 11,
                "bbox": [10, 20, 30, 40],
                "category_id": 1,
                "segmentation": [[10, 20, 40, 20, 40, 60, 10, 60]],
                "keypoints": [15, 25, 2, 0, 0, 0, 30.5, 50, 1],
            },
            {"id": 12, "bbox": [100.5, 0, 10, 10], "category_id": 2},
        ]
    )
    doc = json.loads(data)
    doc["images"].append({"id": 8, "file_name": "b.jpg", "width": 50, "height": 50})
    doc["annotations"].append({"image_id": 8, "bbox": [1, 1, 1, 1], "category_id": 2})
    ann = A.from_coco(json.dumps(doc).encode(), CANVAS, file_name="photos\\a.jpg")
    assert ann.canvas == CANVAS and ann.box_format is BoxFormat.XYWH
    assert ann.boxes == ((10, 20, 30, 40), (100.5, 0, 10, 10))
    assert ann.labels == (1, 2)
    assert ann.categories == ((1, "cat"), (2, "dog"))
    assert ann.keypoints == ((15, 25), (30.5, 50)) and ann.keypoint_names == ("l", "n")
    ids = ann.instance_ids()
    assert ids.shape == CANVAS and set(np.unique(ids)) == {0, 1}
    assert ids[30, 20] == 1 and ids[70, 20] == 0 and ids[30, 50] == 0
    assert ids[20:61, 10:41].all() and int((ids == 1).sum()) == 31 * 41
    # no masks anywhere: none at all
    assert A.from_coco(coco([{"bbox": [1, 2, 3, 4], "category_id": 2}]), CANVAS).mask_png is None


def test_coco_image_choice_and_size_check() -> None:
    doc = json.loads(coco([]))
    doc["images"].append({"id": 8, "file_name": "b.jpg", "width": 50, "height": 50})
    lesson("describes 2 images", A.from_coco, json.dumps(doc).encode(), CANVAS)
    lesson("describes 2 images", A.from_coco, json.dumps(doc).encode(), CANVAS, file_name="z.jpg")
    lesson(
        "is 50×50, but the photo is 200×100",
        A.from_coco,
        json.dumps(doc).encode(),
        CANVAS,
        file_name="b.jpg",
    )
    # the only image is used whatever the upload is called; its size still must match
    assert A.from_coco(coco([]), CANVAS, file_name="other.jpg").boxes == ()
    lesson("is 200×100, but the photo is 100×100", A.from_coco, coco([]), (100, 100))


def test_voc_exact_numbers() -> None:
    ann = A.from_voc(
        voc(obj("cat", 1, 2, 30, 40) + obj("dog", 50, 5, 199.5, 99) + obj("cat", 0, 0, 9, 9)),
        CANVAS,
    )
    assert ann.box_format is BoxFormat.XYXY
    assert ann.boxes == ((1, 2, 30, 40), (50, 5, 199.5, 99), (0, 0, 9, 9))
    assert ann.labels == (1, 2, 1) and ann.categories == ((1, "cat"), (2, "dog"))
    lesson(
        r"<size> says 300×100",
        A.from_voc,
        voc("", "<size><width>300</width><height>100</height></size>"),
        CANVAS,
    )
    lesson(
        r"Object 1 \(“cat”\)'s <xmin> is “a”, not a number",
        A.from_voc,
        voc(obj("cat", "a", 2, 3, 4)),
        CANVAS,
    )  # type: ignore[arg-type]


def test_yolo_exact_numbers() -> None:
    text = b"0 0.5 0.5 0.25 0.5\n\n2 0.1 0.2 0.1 0.1\n"
    ann = A.from_yolo(text, CANVAS)
    assert ann.box_format is BoxFormat.CXCYWH
    assert ann.boxes == ((100.0, 50.0, 50.0, 50.0), (20.0, 20.0, 20.0, 10.0))
    assert ann.labels == (0, 2) and ann.categories == ((0, "class 0"), (2, "class 2"))
    named = A.from_yolo(text, CANVAS, names=("cat", "dog", "bird"))
    assert named.categories == ((0, "cat"), (1, "dog"), (2, "bird"))
    lesson("class 2 has no name", A.from_yolo, text, CANVAS, names=("cat",))
    lesson("looks like pixels", A.from_yolo, b"0 100 50 20 10\n", CANVAS)


def test_rows_table() -> None:
    rows: list[dict[str, object]] = [
        {"x1": 1, "y1": 2, "x2": 30, "y2": 40, "label": "cat"},
        {"x1": None, "y1": None, "x2": float("nan"), "y2": "", "label": None},  # cleared: skipped
        {"x1": "5", "y1": 5.5, "x2": 10, "y2": 10, "label": " dog "},
        {"x1": 0, "y1": 0, "x2": 1, "y2": 1, "label": "cat"},
    ]
    ann = A.from_rows(rows, CANVAS, BoxFormat.XYXY)
    assert ann.boxes == ((1, 2, 30, 40), (5, 5.5, 10, 10), (0, 0, 1, 1))
    assert ann.labels == (1, 2, 1) and ann.categories == ((1, "cat"), (2, "dog"))
    lesson(
        "Row 2 has no value for w, label",
        A.from_rows,
        [{"x": 1, "y": 1, "w": 3, "h": 3, "label": "a"}, {"x": 1, "y": 1, "h": 2}],
        CANVAS,
        BoxFormat.XYWH,
    )
    lesson("Row 1's x1 is “abc”", A.from_rows, [{**rows[0], "x1": "abc"}], CANVAS, BoxFormat.XYXY)
    lesson(
        "Row 3 has a negative width w",
        A.from_rows,
        [
            {"cx": 9, "cy": 9, "w": 2, "h": 2, "label": "a"},
            {},
            {"cx": 9, "cy": 9, "w": -2, "h": 2, "label": "a"},
        ],
        CANVAS,
        BoxFormat.CXCYWH,
    )


def test_with_mask_palette_binary_and_refusals() -> None:
    ann = A.from_voc(voc(obj("cat", 0, 0, 50, 50) + obj("dog", 60, 0, 120, 50)), CANVAS)
    ids = np.zeros(CANVAS, dtype=np.uint8)
    ids[0:50, 0:50], ids[0:50, 60:120] = 1, 2
    got = A.with_mask(ann, png(ids, "P"))
    assert np.array_equal(got.instance_ids(), ids)
    assert target(got)["masks"].shape == (2, *CANVAS)
    binary = np.where(ids == 1, 255, 0).astype(np.uint8)
    assert np.array_equal(
        A.with_mask(ann, png(binary, "L")).instance_ids(), (ids == 1).astype(np.uint8)
    )
    lesson("is 10×10 but the photo is 200×100", A.with_mask, ann, png(np.zeros((10, 10)), "L"))
    ids[90:, 190:] = 3
    lesson("marks instance 3, but there are only 2 boxes", A.with_mask, ann, png(ids, "P"))
    lesson(
        "marks instance 1, but there are no boxes",
        A.with_mask,
        replace(ann, boxes=(), labels=()),
        png(binary, "L"),
    )
    wide = io.BytesIO()
    PIL.Image.fromarray(np.full(CANVAS, 300, dtype=np.uint16)).save(wide, format="PNG")
    lesson("marks instance 300; an 8-bit mask marks at most 255", A.with_mask, ann, wide.getvalue())
    rgb = io.BytesIO()
    PIL.Image.new("RGB", (200, 100)).save(rgb, format="PNG")
    lesson("is a RGB image", A.with_mask, ann, rgb.getvalue())
    lesson("not a PNG", A.with_mask, ann, b"GIF89a" + b"\0" * 40)
    lesson("damaged or truncated", A.with_mask, ann, png(ids, "L")[:60])


def test_png_bomb_refused_from_its_header() -> None:
    ann = A.from_yolo(b"0 0.5 0.5 0.2 0.2\n", CANVAS)
    bomb = png_declaring(100_000, 100_000)
    start = time.perf_counter()
    lesson("is 100000×100000 but the photo is 200×100", A.with_mask, ann, bomb)
    assert time.perf_counter() - start < 0.1
    lesson(
        "more than 40,000,000 pixels", A.with_mask, replace(ann, canvas=(100_000, 100_000)), bomb
    )


def test_to_coco_round_trip() -> None:
    ids = np.zeros(CANVAS, dtype=np.uint8)
    ids[10:20, 10:30], ids[50:90, 100:150] = 1, 2
    ann = Annotations(
        CANVAS,
        BoxFormat.XYWH,
        ((10.25, 10, 20, 10), (100, 50, 50.5, 40)),
        (3, 5),
        ((3, "cup ☕"), (5, "<b>spoon</b>")),
        ((12.5, 15), (120, 70)),
        ("handle", "tip"),
        png_of(ids),
    )
    text = A.to_coco(ann, "my photo.jpg")
    assert json.loads(text)["images"][0]["file_name"] == "my photo.jpg"
    assert A.from_coco(text.encode(), CANVAS, file_name="my photo.jpg") == ann
    xyxy = A.from_voc(voc(obj("cat", 1, 2, 30, 40)), CANVAS)
    back = A.from_coco(A.to_coco(xyxy, "a.jpg").encode(), CANVAS)
    assert back.box_format is BoxFormat.XYWH and back.xyxy == xyxy.xyxy
    assert back.labels == xyxy.labels and back.categories == xyxy.categories


# ------------------------------------------------------------------------------ hostile


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"annotations": [', "not valid JSON: .* line 1"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "no “annotations” list"),
        (b'{"annotations": {}}', "no “annotations” list"),
        (b'{"annotations": [], "images": 3}', "“images” is not a list"),
        (
            b'{"annotations": [{"bbox": "10 20 30 40", "category_id": 1}]}',
            "Annotation 1 has no bbox of four numbers",
        ),
        (
            b'{"annotations": [{"bbox": [1, 2, "3", 4], "category_id": 1}]}',
            "A bbox number of annotation 1 is",
        ),
        (b'{"annotations": [{"bbox": [1, 2, 3, 4]}]}', "category_id is “None”"),
        (b"[" * 100_000 + b"]" * 100_000, "nests lists or objects too deeply"),
        (b" " * (5 * 2**20 + 1), "5.0 MB; at most 5 MB"),
        (b'{"annotations": [{"bbox": [1, 1, ' + b"9" * 5000 + b", 2]}]}", "JSON cannot read"),
        (b'{"annotations": [{"bbox": [1, 1, ' + b"9" * 400 + b", 2]}]}", "too large for any photo"),
    ],
)
def test_coco_malformed(data: bytes, match: str) -> None:
    lesson(match, A.from_coco, data, CANVAS)


def test_coco_unknown_category_and_rle() -> None:
    lesson(
        "category_id 9, which “categories” does not list",
        A.from_coco,
        coco([{"bbox": [1, 1, 2, 2], "category_id": 9}]),
        CANVAS,
    )
    rle = {
        "bbox": [1, 1, 2, 2],
        "category_id": 1,
        "segmentation": {"counts": "abc", "size": [100, 200]},
    }
    lesson("run-length encoded", A.from_coco, coco([rle]), CANVAS)
    lesson(
        "Polygon 1 of annotation 1 is not a flat list",
        A.from_coco,
        coco([{**rle, "segmentation": [[1, 2, 3]]}]),
        CANVAS,
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<annotation><object><name>&lol9;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax>
<ymax>2</ymax></bndbox></object></annotation>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><object><name>&xxe;</name></object></annotation>"""


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (BILLION_LAUGHS, "declares a document type"),
        (EXTERNAL_ENTITY, "declares a document type"),
        (b"<annotation><object><name>cat</name></annotation>", r"not well-formed XML \(line 1"),
        (b"<html><body/></html>", "root is <html>, not <annotation>"),
        (
            b"<annotation>" + b"<a>" * 60_000 + b"</a>" * 60_000 + b"</annotation>",
            "100,000 XML tags",
        ),
        (voc("<object><name>cat</name></object>"), r"Object 1 \(“cat”\) has no <bndbox>"),
        (voc("<object><name> </name></object>"), "Object 1's <name> is"),
    ],
)
def test_voc_hostile(data: bytes, match: str) -> None:
    start = time.perf_counter()
    lesson(match, A.from_voc, data, CANVAS)
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"0 0.5 0.5 0.2 0.2\n1 0.5 0.5\n", "Line 2 has 3 values; a YOLO box line has 5"),
        (b"0 0.5 abc 0.2 0.2\n", "Line 1's cy “abc” is not a number"),
        (b"cat 0.5 0.5 0.2 0.2\n", "Line 1's class “cat” is not a whole number"),
        (b"-1 0.5 0.5 0.2 0.2\n", "Line 1's class is -1"),
        (b"\n0 0.5 nan 0.2 0.2\n", "Line 2's cy is nan, not a finite number"),
        (b"0 0.5 0.5 inf 0.2\n", "Line 1's w is inf, not a finite number"),
        (b"0 0.5 0.5 -0.2 0.2\n", r"Line 1 has a negative width w \(-40\)"),
        (b"\xff\xfe0 1 1 1 1", "not UTF-8"),
    ],
)
def test_yolo_hostile(text: bytes, match: str) -> None:
    lesson(match, A.from_yolo, text, CANVAS)


def test_ten_thousand_boxes_refused_fast_in_every_format() -> None:
    n = 10_000
    inputs = [
        (A.from_coco, coco([{"bbox": [1, 1, 2, 2], "category_id": 1}] * n), "10,000 boxes"),
        (A.from_voc, voc(obj("cat", 1, 1, 2, 2) * n), "10,000 objects"),
        (A.from_yolo, b"0 0.5 0.5 0.1 0.1\n" * n, "10,000 lines"),
    ]
    # one box each first: a first call imports and compiles (0.16 s for COCO), not timed
    A.from_coco(coco([{"bbox": [1, 1, 2, 2], "category_id": 1}]), CANVAS)
    A.from_voc(voc(obj("cat", 1, 1, 2, 2)), CANVAS)
    A.from_yolo(b"0 0.5 0.5 0.1 0.1\n", CANVAS)
    for reader, data, match in inputs:
        start = time.perf_counter()
        lesson(match, reader, data, CANVAS)
        assert time.perf_counter() - start < 0.5, reader.__name__
    rows = [{"x1": 1, "y1": 1, "x2": 2, "y2": 2, "label": "cat"}] * n
    start = time.perf_counter()
    lesson("10,000 rows", A.from_rows, rows, CANVAS, BoxFormat.XYXY)
    many = Annotations(CANVAS, BoxFormat.XYXY, ((1, 1, 2, 2),) * n, (1,) * n)
    lesson("10,000 boxes", A.validate, many)
    assert time.perf_counter() - start < 0.5


def test_numbers_sizes_and_places() -> None:
    nan = coco(
        [
            {"bbox": [1, 1, 2, 2], "category_id": 1},
            {"id": 5, "bbox": [1, float("nan"), 2, 2], "category_id": 1},
        ]
    )
    lesson(r"Annotation 2 \(id 5\)'s y is nan, not a finite number", A.from_coco, nan, CANVAS)
    inf = [{"x": 1, "y": 1, "w": float("inf"), "h": 2, "label": "a"}]
    lesson("Row 1's w is inf", A.from_rows, inf, CANVAS, BoxFormat.XYWH)
    lesson(
        r"Annotation 1 has a negative height h \(-2\)",
        A.from_coco,
        coco([{"bbox": [1, 1, 2, -2], "category_id": 1}]),
        CANVAS,
    )
    lesson(
        r"Object 1 \(“cat”\) has x2 \(5\) smaller than x1 \(10\)",
        A.from_voc,
        voc(obj("cat", 10, 1, 5, 9)),
        CANVAS,
    )
    lesson(
        r"Object 2 \(“Dog”\) lies entirely outside the 200×100 photo",
        A.from_voc,
        voc(obj("cat", 1, 1, 9, 9) + obj("Dog", 200, 10, 250, 20)),
        CANVAS,
    )
    lesson("far outside any photo", A.from_voc, voc(obj("cat", 1, 1, 1e300, 9)), CANVAS)
    # partly outside: accepted as is
    assert A.from_voc(voc(obj("cat", -10, -10, 20, 20)), CANVAS).boxes == ((-10, -10, 20, 20),)


def test_validate_labels_format_keypoints_mask() -> None:
    ok = Annotations(CANVAS, BoxFormat.XYXY, ((1, 1, 5, 5), (2, 2, 9, 9)), (0, 1))
    assert A.validate(ok) == ok
    assert A.validate(replace(ok, box_format="xyxy")).box_format is BoxFormat.XYXY  # type: ignore[arg-type]
    lesson("“'XYZW'” is not a box format", A.validate, replace(ok, box_format="XYZW"))  # type: ignore[arg-type]
    lesson("2 boxes but 1 labels", A.validate, replace(ok, labels=(0,)))
    lesson("Box 2's label is -1", A.validate, replace(ok, labels=(0, -1)))
    lesson("Box 1's label is “1.5”, not a whole number", A.validate, replace(ok, labels=(1.5, 0)))  # type: ignore[arg-type]
    lesson(
        "Box 2's label 1 is not one of the categories",
        A.validate,
        replace(ok, categories=((0, "a"),)),
    )
    lesson(
        r"Keypoint 1 \(“nose”\) at \(300, 5\) is outside",
        A.validate,
        replace(ok, keypoints=((300, 5),), keypoint_names=("nose",)),
    )
    lesson(
        "1 keypoints but 2 keypoint names",
        A.validate,
        replace(ok, keypoints=((3, 5),), keypoint_names=("a", "b")),
    )
    lesson(r"Keypoint 1 is at \(3, nan\)", A.validate, replace(ok, keypoints=((3, float("nan")),)))
    lesson(
        "is 10×10 but the photo is 200×100",
        A.validate,
        replace(ok, mask_png=png_of(np.zeros((10, 10)))),
    )
    lesson("marks instance 3", A.validate, replace(ok, mask_png=png_of(np.full(CANVAS, 3))))


# ------------------------------------------------------------------------------ samples


def test_samples_fit_their_photos() -> None:
    found = A.samples()
    assert (
        set(found)
        == set(sample_names())
        == {"astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"}
    )
    for name, ann in found.items():
        with PIL.Image.open(SAMPLES_DIR / name) as im:
            assert ann.canvas == (im.height, im.width), name
        h, w = ann.canvas
        assert len(ann.boxes) >= 2 and len(ann.keypoints) >= 1, name
        for x1, y1, x2, y2 in ann.xyxy:
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h, name
        for x, y in ann.keypoints:
            assert 0 <= x <= w and 0 <= y <= h, name
        assert len(ann.keypoint_names) == len(ann.keypoints) and all(ann.keypoint_names)
        assert {label for label, _ in ann.categories} == set(ann.labels)
        t = target(ann)
        assert t["boxes"].shape == (len(ann.boxes), 4) and t["labels"].tolist() == list(ann.labels)
        assert t["masks"].shape == (len(ann.boxes), h, w), name
        areas = t["masks"].flatten(1).sum(1)
        assert int((areas > 0).sum()) >= 1, name
        # each instance's pixels lie within (a pixel of) its box
        for m, (x1, y1, x2, y2) in zip(t["masks"], ann.xyxy, strict=True):
            ys, xs = torch.nonzero(m, as_tuple=True)
            if len(xs):
                assert x1 - 1 <= xs.min() and xs.max() <= x2 + 1, name
                assert y1 - 1 <= ys.min() and ys.max() <= y2 + 1, name
        assert to_xyxy(ann.boxes[0], ann.box_format) == ann.xyxy[0]
    credits = (SAMPLES_DIR / "CREDITS.md").read_text()
    assert "annotations.json" in credits


def test_each_sample_photos_mask_file_is_the_mask_its_annotations_make() -> None:
    """The exported script reads assets/samples/masks/<photo>.png: the same instance ids
    the JSON's polygons rasterize to (regenerate with PTX_UPDATE_GOLDEN=1 after editing
    the annotations)."""
    import os

    from ptexplore.augment.annotations import sample_mask_path
    from ptexplore.images.samples import SAMPLES_DIR

    for name, ann in A.samples().items():
        assert ann.mask_png is not None
        if os.environ.get("PTX_UPDATE_GOLDEN"):
            (SAMPLES_DIR / "masks" / f"{Path(name).stem}.png").write_bytes(ann.mask_png)
        path = sample_mask_path(name)
        assert path is not None, name
        with PIL.Image.open(path) as im:
            assert np.array_equal(np.asarray(im), ann.instance_ids()), name


def test_an_upload_is_read_by_its_extension_in_the_sandbox() -> None:
    from ptexplore.augment.annotations import read_sandboxed

    yolo = b"0 0.5 0.5 0.2 0.4\n"
    ann = read_sandboxed("photo.txt", yolo, (100, 200))
    assert ann.box_format is BoxFormat.CXCYWH and ann.boxes == ((100.0, 50.0, 40.0, 40.0),)
    with pytest.raises(InputError, match="not an annotation file"):
        read_sandboxed("photo.csv", yolo, (100, 200))


def test_the_export_tabs_coco_download_reads_back_as_the_same_target() -> None:
    from ptexplore.augment.annotations import read_sandboxed, to_coco

    for name, ann in A.samples().items():
        back = read_sandboxed("annotations.coco.json", to_coco(ann, name).encode(), ann.canvas)
        assert back.boxes == ann.boxes and back.labels == ann.labels, name
        assert back.keypoints == ann.keypoints and back.mask_png is not None
        assert np.array_equal(back.instance_ids(), ann.instance_ids())


def test_a_table_of_blank_rows_is_no_boxes_yet() -> None:
    """The editor's blank cells come as None, NaN, pandas' NA or "": none is a box."""
    import pandas as pd

    blank = [{"x1": None, "y1": float("nan"), "x2": pd.NA, "y2": np.nan, "label": " "}]
    assert not A.any_filled(blank) and not A.any_filled([])
    assert A.any_filled([*blank, {"x1": 0.0, "y1": None, "label": None}])


def test_a_name_too_long_is_refused_naming_where_it_is() -> None:
    from ptexplore.limits import ANNOTATION_MAX_NAME_CHARS as MAX

    long = "x" * (MAX + 1)
    row = {"x1": 1, "y1": 2, "x2": 30, "y2": 40, "label": long}
    err = lesson(
        f"Row 1's label is {MAX + 1} characters long", A.from_rows, [row], CANVAS, BoxFormat.XYXY
    )
    assert str(MAX) in err.fix
    doc = json.loads(coco([{"bbox": [1, 2, 3, 4], "category_id": 2}]))
    doc["categories"][1]["name"] = long
    lesson(
        f"Category 2's name is {MAX + 1} characters long",
        A.from_coco,
        json.dumps(doc).encode(),
        CANVAS,
    )
    lesson(f"<name> is {MAX + 1} characters long", A.from_voc, voc(obj(long, 0, 0, 5, 5)), CANVAS)
    ann = A.from_rows([{**row, "label": "x" * MAX}], CANVAS, BoxFormat.XYXY)  # at the limit
    assert ann.categories == ((1, "x" * MAX),)

"""Reading and checking a photo's detection/segmentation annotations for the Augmentation
lab: COCO JSON (:func:`from_coco`), Pascal VOC XML (:func:`from_voc`), YOLO txt
(:func:`from_yolo`), the learner's table (:func:`from_rows`) and an uploaded PNG mask
(:func:`with_mask`), each into a frozen :class:`~ptexplore.augment.targets.Annotations`
that :func:`validate` has checked; :func:`to_coco` writes one back, and :func:`samples`
gives the hand-made annotations of the bundled sample photos.

Everything here reads untrusted bytes: sizes and counts are checked on the raw input
before anything big is built, XML is parsed by ``defusedxml`` with document types
refused (no entity can expand), a PNG's declared size is read from its header before it
is decoded, and every refusal is an :class:`~ptexplore.errors.InputError` that names the
box, line or row at fault and says how to fix it. Names from a file (file names,
category names) stay data: they appear only inside quoted plain text.

A canvas is ``(height, width)`` in pixels, as :attr:`Annotations.canvas` and
``tv_tensors``' ``canvas_size`` have it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import math
import numbers
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, cast

import defusedxml
import defusedxml.ElementTree as DET
import numpy as np
import PIL.Image
import PIL.ImageDraw

from ptexplore import isolate
from ptexplore.augment.targets import Annotations, Box, BoxFormat, from_xyxy, png_of, to_xyxy
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.images.samples import SAMPLES_DIR
from ptexplore.limits import (
    ANNOTATION_MAX_BOXES,
    ANNOTATION_MAX_BYTES,
    ANNOTATION_MAX_CATEGORIES,
    ANNOTATION_MAX_COORD,
    ANNOTATION_MAX_KEYPOINTS,
    ANNOTATION_MAX_LABEL,
    ANNOTATION_MAX_MASK_INSTANCES,
    ANNOTATION_MAX_NAME_CHARS,
    ANNOTATION_MAX_POLYGON_POINTS,
    ANNOTATION_MAX_XML_TAGS,
    MAX_PIXELS,
    SANDBOX_ANNOTATION_CPU_S,
    SANDBOX_ANNOTATION_MEMORY_MB,
)

# ------------------------------------------------------------------------------ helpers

#: Names in a lesson (``where``, ``what``) are translated where they are made: every
#: helper below takes them in the learner's language.
_PIXELS_FIX = N_("Write coordinates in pixels of this photo.")
_CATEGORIES_FIX = N_("Keep only the categories this photo uses.")
_KEYPOINTS_FIX = N_("Keep only the keypoints the lesson needs.")
_SIZE_FIX = N_("Upload the annotations made for this photo, at this size.")
_YOLO_FIX = N_("Write cx cy w h as fractions of the photo's size, e.g. 0.5.")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The custom COCO keys :func:`to_coco` writes so that :func:`from_coco` reads back the
#: exact mask and the keypoints (which an :class:`Annotations` does not tie to a box).
MASK_KEY = "ptexplore_mask_png"
KEYPOINTS_KEY = "ptexplore_keypoints"


def _quote(text: str, limit: int = 40) -> str:
    """User text shown inside a lesson: quoted, one line, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return f"“{flat[:limit]}…”" if len(flat) > limit else f"“{flat}”"


def _cap(text: str) -> str:
    """``text`` with its first letter upper-case (the rest, user names included, kept)."""
    return text[:1].upper() + text[1:]


def _size(canvas: tuple[int, int]) -> str:
    h, w = canvas
    return f"{w}×{h}"


def _check_bytes(data: object, what: str) -> bytes:
    """``data`` as bytes, of a bounded size; ``what`` names it in a lesson (translated)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(
            _("The {what} must be bytes.").format(what=what),
            fix=_("Pass the uploaded file's bytes."),
        )
    if len(data) > ANNOTATION_MAX_BYTES:
        raise InputError(
            _("The {what} is {size:.1f} MB; at most {most} MB of annotations are read.").format(
                what=what, size=len(data) / 2**20, most=ANNOTATION_MAX_BYTES // 2**20
            ),
            fix=_("Keep only this photo's annotations (at most {n} boxes).").format(
                n=ANNOTATION_MAX_BOXES
            ),
        )
    return bytes(data)


def _check_canvas(canvas: object) -> tuple[int, int]:
    ok = (
        isinstance(canvas, tuple)
        and len(canvas) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in canvas)
    )
    if not ok:
        raise InputError(
            _("The canvas {canvas!r} is not (height, width) in whole pixels.").format(
                canvas=canvas
            ),
            fix=_("Pass the photo's size as (height, width), e.g. (300, 451)."),
        )
    h, w = cast(tuple[int, int], canvas)
    if h * w > MAX_PIXELS:
        raise InputError(
            _("The canvas {w}×{h} has more than {most:,} pixels.").format(
                w=w, h=h, most=MAX_PIXELS
            ),
            fix=_("Annotate a smaller copy of the photo."),
        )
    return (h, w)


#: Too many boxes, by where they were counted: the lesson and its fix (English, marked)
_TOO_MANY = {
    "annotation": (
        N_("The annotation has {count:,} boxes; at most {most:,} are read."),
        N_("Keep at most {most:,} boxes for this photo."),
    ),
    "coco": (
        N_("The COCO file has {count:,} boxes; at most {most:,} are read."),
        N_("Keep at most {most:,} boxes for this photo."),
    ),
    "coco image": (
        N_("The COCO file's image has {count:,} boxes; at most {most:,} are read."),
        N_("Keep at most {most:,} boxes for this photo."),
    ),
    "voc": (
        N_("The VOC file has {count:,} objects; at most {most:,} are read."),
        N_("Keep at most {most:,} objects for this photo."),
    ),
    "yolo": (
        N_("The YOLO file has {count:,} lines; at most {most:,} are read."),
        N_("Keep at most {most:,} lines for this photo."),
    ),
    "table": (
        N_("The table has {count:,} rows; at most {most:,} are read."),
        N_("Keep at most {most:,} rows for this photo."),
    ),
}


def _too_many(count: int, where: str) -> InputError:
    message, fix = _TOO_MANY[where]
    return InputError(
        _(message).format(count=count, most=ANNOTATION_MAX_BOXES),
        fix=_(fix).format(most=ANNOTATION_MAX_BOXES),
    )


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _number(v: object, what: str) -> float:
    """``v`` as a float, or a lesson naming ``what`` (a JSON number; not a bool)."""
    if not _is_number(v):
        raise InputError(
            _("{what} is {value}, not a number.").format(what=what, value=_quote(repr(v))),
            fix=_("Write plain numbers (pixels) there, e.g. 12 or 12.5."),
        )
    try:
        return float(v)  # type: ignore[arg-type]
    except OverflowError:
        raise InputError(
            _("{what} is a number too large for any photo.").format(what=what),
            fix=_(_PIXELS_FIX),
        ) from None


def _integer(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise InputError(
            _("{what} is {value}, not a whole number.").format(what=what, value=_quote(repr(v))),
            fix=_("Write a whole number there, e.g. 1."),
        )
    return int(v)


def _name(v: object, what: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise InputError(
            _("{what} is {value}, not a name.").format(what=what, value=_quote(repr(v))),
            fix=_("Give it a non-empty name, e.g. “cat”."),
        )
    return _short(v.strip(), what)


def _short(name: str, what: str) -> str:
    if len(name) > ANNOTATION_MAX_NAME_CHARS:
        raise InputError(
            _("{what} is {n} characters long.").format(what=what, n=len(name)),
            fix=_("Use a name of at most {n} characters.").format(n=ANNOTATION_MAX_NAME_CHARS),
        )
    return name


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise InputError(
            _("The {what} is not UTF-8 text (byte {byte} cannot be read).").format(
                what=what, byte=e.start
            ),
            fix=_("Upload the JSON file itself, saved as UTF-8."),
        ) from None
    except json.JSONDecodeError as e:
        raise InputError(
            _("The {what} is not valid JSON: {error} at line {line}, column {column}.").format(
                what=what, error=e.msg, line=e.lineno, column=e.colno
            ),
            fix=_("Open it in an editor or a JSON checker and fix that spot."),
        ) from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise InputError(
            _("The {what} holds a value JSON cannot read here ({error}).").format(
                what=what, error=str(e)[:60]
            ),
            fix=_("Write numbers as plain decimals of a sensible size, e.g. 12.5."),
        ) from None
    except RecursionError:
        raise InputError(
            _("The {what} nests lists or objects too deeply to read.").format(what=what),
            fix=_("Upload a COCO file: images, annotations and categories, a few levels deep."),
        ) from None


# ----------------------------------------------------------------------------- validate


def _format(fmt: object) -> BoxFormat:
    if isinstance(fmt, BoxFormat):
        return fmt
    if isinstance(fmt, str) and fmt.strip().upper() in BoxFormat.__members__:
        return BoxFormat[fmt.strip().upper()]
    raise InputError(
        _("{value} is not a box format.").format(value=_quote(repr(fmt))),
        fix=_("Use one of {formats}.").format(formats=", ".join(f.value for f in BoxFormat)),
    )


def _check_box(box: object, fmt: BoxFormat, canvas: tuple[int, int], where: str) -> Box:
    if not isinstance(box, tuple | list) or len(box) != 4:
        raise InputError(
            _("{where} is {value}, not four numbers.").format(
                where=_cap(where), value=_quote(repr(box))
            ),
            fix=_("Give each box four numbers: {columns}.").format(columns=", ".join(fmt.columns)),
        )
    values = tuple(
        _number(v, _("{where}'s {column}").format(where=_cap(where), column=col))
        for v, col in zip(box, fmt.columns, strict=True)
    )
    for v, col in zip(values, fmt.columns, strict=True):
        if not math.isfinite(v):
            raise InputError(
                _("{where}'s {column} is {value}, not a finite number.").format(
                    where=_cap(where), column=col, value=v
                ),
                fix=_("Replace it with the pixel coordinate (NaN and infinity mark no place)."),
            )
        if abs(v) > ANNOTATION_MAX_COORD:
            raise InputError(
                _("{where}'s {column} is {value:g}, far outside any photo.").format(
                    where=_cap(where), column=col, value=v
                ),
                fix=_(_PIXELS_FIX),
            )
    a, b, c, d = values
    x1, y1, x2, y2 = to_xyxy((a, b, c, d), fmt)
    if fmt is BoxFormat.XYXY:
        if x2 < x1 or y2 < y1:
            hi, lo, hi_v, lo_v = ("x2", "x1", x2, x1) if x2 < x1 else ("y2", "y1", y2, y1)
            raise InputError(
                _(
                    "{where} has {hi} ({hi_value:g}) smaller than {lo} ({lo_value:g}): a "
                    "negative size."
                ).format(where=_cap(where), hi=hi, hi_value=hi_v, lo=lo, lo_value=lo_v),
                fix=_("In XYXY, (x1, y1) is the top-left corner and (x2, y2) the bottom-right."),
            )
    elif c < 0 or d < 0:
        negative = (
            _("{where} has a negative width w ({value:g}).")
            if c < 0
            else _("{where} has a negative height h ({value:g}).")
        )
        raise InputError(
            negative.format(where=_cap(where), value=c if c < 0 else d),
            fix=_("Width and height are sizes in pixels, zero or more."),
        )
    h, w = canvas
    if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
        raise InputError(
            _(
                "{where} lies entirely outside the {w}×{h} photo (x {x1:g} to {x2:g}, y {y1:g} "
                "to {y2:g})."
            ).format(where=_cap(where), w=w, h=h, x1=x1, x2=x2, y1=y1, y2=y2),
            fix=_(
                "Check the annotations belong to this photo and that the numbers are pixels in "
                "{format} order ({columns})."
            ).format(format=fmt.value, columns=", ".join(fmt.columns)),
        )
    return (a, b, c, d)


def _decode_png(png: object, canvas: tuple[int, int], what: str) -> np.ndarray:
    """A PNG's first frame as an array (mode kept: ``L``/``P`` uint8, ``1`` bool,
    ``I;16``/``I`` ints), after checking its header declares exactly ``canvas``; ``what``
    names it in a lesson (translated)."""
    data = _check_bytes(png, what)
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise InputError(
            _("The {what} is not a PNG file.").format(what=what),
            fix=_("Save the mask as PNG (grayscale or palette), the photo's size."),
        )
    width, height = struct.unpack(">II", data[16:24])
    if (height, width) != canvas:
        raise InputError(
            _("The {what} is {width}×{height} but the photo is {size}.").format(
                what=what, width=width, height=height, size=_size(canvas)
            ),
            fix=_("Make the mask exactly the photo's size: one mask pixel per photo pixel."),
        )
    try:
        with PIL.Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            if im.size != (width, height):
                raise ValueError("size changed")
            if im.mode not in ("L", "P", "1", "I;16", "I"):
                raise InputError(
                    _("The {what} is a {mode} image; a mask holds one number per pixel.").format(
                        what=what, mode=im.mode
                    ),
                    fix=_(
                        "Save it as a grayscale (8-bit) or palette PNG whose values are "
                        "instance numbers, or black and white (0/255) for one instance."
                    ),
                )
            im.load()
            arr = np.asarray(im)
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, zlib.error, struct.error):
        raise InputError(
            _("The {what} could not be decoded (the file is damaged or truncated).").format(
                what=what
            ),
            fix=_("Export the mask again as PNG."),
        ) from None
    except PIL.Image.DecompressionBombError:
        raise InputError(
            _("The {what} is too large to decode.").format(what=what),
            fix=_("Use a mask the photo's size."),
        ) from None
    return arr


def _instance_ids(arr: np.ndarray, n_boxes: int, what: str, *, binary_ok: bool) -> np.ndarray:
    """A decoded mask as uint8 instance ids ≤ ``n_boxes``; a black-and-white (0/255 or
    1-bit) mask means one instance, box 1, when ``binary_ok``."""
    if arr.dtype == np.bool_:
        ids = arr.astype(np.uint8)
    else:
        top = int(arr.max()) if arr.size else 0
        if binary_ok and top == 255 and arr.dtype == np.uint8 and n_boxes < 255:
            counts = np.bincount(arr.ravel(), minlength=256)
            if not counts[1:255].any():
                arr = arr == 255
        ids = arr.astype(np.uint8) if int(arr.max(initial=0)) <= 255 else arr
    top = int(ids.max(initial=0))
    if top > ANNOTATION_MAX_MASK_INSTANCES:
        raise InputError(
            _("The {what} marks instance {top}; an 8-bit mask marks at most {most}.").format(
                what=what, top=top, most=ANNOTATION_MAX_MASK_INSTANCES
            ),
            fix=_("Give masks to at most 255 boxes, numbered 1 to 255."),
        )
    if top > n_boxes:
        if n_boxes == 0:
            marks = _("The {what} marks instance {top}, but there are no boxes.")
        elif n_boxes == 1:
            marks = _("The {what} marks instance {top}, but there is only 1 box.")
        else:
            marks = _("The {what} marks instance {top}, but there are only {n} boxes.")
        raise InputError(
            marks.format(what=what, top=top, n=n_boxes),
            fix=_(
                "Pixel value i marks box i's instance (0: background): add the missing boxes, "
                "or repaint those pixels with a box's number."
            ),
        )
    return np.ascontiguousarray(ids, dtype=np.uint8)


def validate(ann: Annotations, *, where: Sequence[str] | None = None) -> Annotations:
    """``ann`` checked throughout (what every reader returns): the canvas, the format,
    bounded counts, four finite numbers per box with a size of zero or more and some part
    on the photo, one label (a whole number ≥ 0, listed in ``categories`` if those are
    given) per box, keypoints on the photo with one name each, and a mask of the canvas
    size whose values stay within the boxes. ``where[i]`` names box ``i`` in a lesson
    ("line 4", "row 2"); by default "box i+1". Returns ``ann`` (its format normalised)."""
    canvas = _check_canvas(ann.canvas)
    fmt = _format(ann.box_format)
    n = len(ann.boxes)
    if n > ANNOTATION_MAX_BOXES:
        raise _too_many(n, "annotation")
    names = list(where) if where is not None and len(where) == n else None

    def at(i: int) -> str:
        return names[i] if names is not None else _("box {n}").format(n=i + 1)

    boxes = tuple(_check_box(b, fmt, canvas, at(i)) for i, b in enumerate(ann.boxes))
    if len(ann.labels) != n:
        raise InputError(
            _("There are {n} boxes but {labels} labels.").format(n=n, labels=len(ann.labels)),
            fix=_("Give every box exactly one label."),
        )
    if len(ann.categories) > ANNOTATION_MAX_CATEGORIES:
        raise InputError(
            _("There are {n:,} categories; at most {most:,} are read.").format(
                n=len(ann.categories), most=ANNOTATION_MAX_CATEGORIES
            ),
            fix=_(_CATEGORIES_FIX),
        )
    known: dict[int, str] = {}
    for entry in ann.categories:
        if not isinstance(entry, tuple) or len(entry) != 2:
            raise InputError(
                _("The category {entry} is not (id, name).").format(entry=_quote(repr(entry))),
                fix=_("Give each category a whole-number id and a name."),
            )
        cid = _integer(entry[0], _("A category's id"))
        cname = _name(entry[1], _("Category {id}'s name").format(id=cid))
        if cid in known:
            raise InputError(
                _("Category id {id} is listed twice ({first} and {second}).").format(
                    id=cid, first=_quote(known[cid]), second=_quote(cname)
                ),
                fix=_("Give every category its own id."),
            )
        known[cid] = cname
    for i, label in enumerate(ann.labels):
        value = _integer(label, _("{where}'s label").format(where=_cap(at(i))))
        if not 0 <= value <= ANNOTATION_MAX_LABEL:
            raise InputError(
                _("{where}'s label is {value}.").format(where=_cap(at(i)), value=value),
                fix=_("Labels are category ids from 0 to {most:,}.").format(
                    most=ANNOTATION_MAX_LABEL
                ),
            )
        if known and value not in known:
            raise InputError(
                _("{where}'s label {value} is not one of the categories.").format(
                    where=_cap(at(i)), value=value
                ),
                fix=_("Use a listed category id, or add that category."),
            )
    k = len(ann.keypoints)
    if k > ANNOTATION_MAX_KEYPOINTS:
        raise InputError(
            _("There are {n:,} keypoints; at most {most:,} are read.").format(
                n=k, most=ANNOTATION_MAX_KEYPOINTS
            ),
            fix=_(_KEYPOINTS_FIX),
        )
    if len(ann.keypoint_names) not in (0, k):
        raise InputError(
            _("There are {n} keypoints but {names} keypoint names.").format(
                n=k, names=len(ann.keypoint_names)
            ),
            fix=_("Give every keypoint one name."),
        )
    h, w = canvas
    for j, point in enumerate(ann.keypoints):
        kp_label = (
            _("Keypoint {n} ({name})").format(n=j + 1, name=_quote(ann.keypoint_names[j]))
            if ann.keypoint_names
            else _("Keypoint {n}").format(n=j + 1)
        )
        if not isinstance(point, tuple | list) or len(point) != 2:
            raise InputError(
                _("{keypoint} is not (x, y).").format(keypoint=kp_label),
                fix=_("Give each keypoint two numbers."),
            )
        x, y = (_number(v, kp_label) for v in point)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(
                _("{keypoint} is at ({x:g}, {y:g}), not a finite place.").format(
                    keypoint=kp_label, x=x, y=y
                ),
                fix=_("Give its x and y in pixels."),
            )
        if not (0 <= x <= w and 0 <= y <= h):
            raise InputError(
                _("{keypoint} at ({x:g}, {y:g}) is outside the {w}×{h} photo.").format(
                    keypoint=kp_label, x=x, y=y, w=w, h=h
                ),
                fix=_("Keypoints are pixel positions on the photo; drop those it does not show."),
            )
    for j, kname in enumerate(ann.keypoint_names):
        if not isinstance(kname, str):
            raise InputError(
                _("Keypoint {n}'s name is {value}, not a text.").format(
                    n=j + 1, value=_quote(repr(kname))
                ),
                fix=_("Name each keypoint, e.g. “left eye”."),
            )
        _short(kname, _("Keypoint {n}'s name").format(n=j + 1))
    if ann.mask_png is not None:
        arr = _decode_png(ann.mask_png, canvas, _("mask"))
        if arr.dtype != np.uint8:
            raise InputError(
                _("The stored mask is not an 8-bit PNG of instance ids."),
                fix=_("Attach masks with with_mask(), which writes that PNG."),
            )
        _instance_ids(arr, n, _("mask"), binary_ok=False)
    if fmt is not ann.box_format or boxes != ann.boxes or canvas != ann.canvas:
        ann = replace(ann, canvas=canvas, box_format=fmt, boxes=boxes)
    return ann


# ---------------------------------------------------------------------------------- COCO


def _pick_image(images: list[Any], file_name: str | None) -> dict[str, Any] | None:
    if not images:
        return None
    for i, image in enumerate(images):
        if not isinstance(image, dict):
            raise InputError(
                _("Entry {n} of “images” is not an object.").format(n=i + 1),
                fix=_("Each image is an object with id, file_name, width and height."),
            )
    if file_name is not None:
        base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
        for key in (file_name, base):
            hits = [im for im in images if im.get("file_name") == key]
            if not hits:
                hits = [
                    im
                    for im in images
                    if isinstance(im.get("file_name"), str)
                    and im["file_name"].replace("\\", "/").rsplit("/", 1)[-1] == base
                ]
            if hits:
                return hits[0]  # type: ignore[no-any-return]
    if len(images) == 1:
        return images[0]  # type: ignore[no-any-return]
    listed = ", ".join(_quote(str(im.get("file_name", "?"))) for im in images[:5])
    listed += ", …" if len(images) > 5 else ""
    none = (
        _("The COCO file describes {n:,} images ({listed}) and none is {name}.")
        if file_name
        else _("The COCO file describes {n:,} images ({listed}) and none is chosen.")
    )
    raise InputError(
        none.format(n=len(images), listed=listed, name=_quote(file_name or "")),
        fix=_("Upload the photo whose file name the file lists, or keep only its image."),
    )


def _polygons(seg: object, where: str, budget: list[int]) -> list[list[tuple[float, float]]]:
    if isinstance(seg, dict):
        raise InputError(
            _("{where}'s segmentation is run-length encoded (RLE).").format(where=_cap(where)),
            fix=_("Give polygons ([[x1, y1, x2, y2, …]]), or upload the mask as a PNG instead."),
        )
    if not isinstance(seg, list):
        raise InputError(
            _("{where}'s segmentation is not a list of polygons.").format(where=_cap(where)),
            fix=_("Write it as [[x1, y1, x2, y2, x3, y3, …], …] in pixels."),
        )
    out: list[list[tuple[float, float]]] = []
    for p, poly in enumerate(seg):
        if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
            raise InputError(
                _("Polygon {n} of {where} is not a flat list of at least three x, y pairs.").format(
                    n=p + 1, where=where
                ),
                fix=_("Write each polygon as [x1, y1, x2, y2, x3, y3, …] in pixels."),
            )
        budget[0] -= len(poly) // 2
        if budget[0] < 0:
            raise InputError(
                _("The polygons have more than {most:,} points in all.").format(
                    most=ANNOTATION_MAX_POLYGON_POINTS
                ),
                fix=_("Simplify the outlines (a few dozen points each), or upload a PNG mask."),
            )
        coordinate = _("A coordinate of polygon {n} of {where}").format(n=p + 1, where=where)
        coords = [_number(v, coordinate) for v in poly]
        if not all(math.isfinite(v) and abs(v) <= ANNOTATION_MAX_COORD for v in coords):
            raise InputError(
                _("Polygon {n} of {where} has a coordinate that is not a pixel position.").format(
                    n=p + 1, where=where
                ),
                fix=_("Write finite pixel coordinates (no NaN or infinity)."),
            )
        out.append(list(zip(coords[0::2], coords[1::2], strict=True)))
    return out


def from_coco(data: bytes, canvas: tuple[int, int], *, file_name: str | None = None) -> Annotations:
    """A COCO-style JSON file's annotations of one photo: the image whose ``file_name``
    matches (or the only one; its width and height must be the canvas), its boxes kept in
    XYWH exactly as written, ``category_id`` as labels, polygon segmentations rasterized
    into the instance mask, visible keypoints (v > 0) named from their category; plus the
    exact mask and keypoints :func:`to_coco` writes under its own keys."""
    canvas = _check_canvas(canvas)
    coco = _("COCO file")
    doc = _json(_check_bytes(data, coco), coco)
    if not isinstance(doc, dict) or not isinstance(doc.get("annotations"), list):
        raise InputError(
            _("The JSON is not a COCO annotation file: it has no “annotations” list."),
            fix=_(
                "Upload a COCO file: an object with “images”, “annotations” (each with a "
                "bbox [x, y, w, h] and a category_id) and “categories”."
            ),
        )
    images, cats = doc.get("images", []), doc.get("categories", [])
    for key, value in (("images", images), ("categories", cats)):
        if not isinstance(value, list):
            raise InputError(
                _("The COCO file's “{key}” is not a list.").format(key=key),
                fix=_("Write “{key}” as a list of objects.").format(key=key),
            )
    image = _pick_image(images, file_name)
    if image is not None:
        w, h = image.get("width"), image.get("height")
        if w is not None and h is not None and (h, w) != canvas:
            raise InputError(
                _("The COCO file says {name} is {w}×{h}, but the photo is {size}.").format(
                    name=_quote(str(image.get("file_name", "?"))), w=w, h=h, size=_size(canvas)
                ),
                fix=_(_SIZE_FIX),
            )
    raw: list[Any] = doc["annotations"]
    if image is None:
        mine = raw
    else:
        iid = image.get("id")
        count = sum(1 for a in raw if isinstance(a, dict) and a.get("image_id") == iid)
        if count > ANNOTATION_MAX_BOXES:  # counted before any box is built
            raise _too_many(count, "coco image")
        mine = [a for a in raw if isinstance(a, dict) and a.get("image_id") == iid]
    if len(mine) > ANNOTATION_MAX_BOXES:
        raise _too_many(len(mine), "coco")
    if len(cats) > ANNOTATION_MAX_CATEGORIES:
        raise InputError(
            _("The COCO file lists {n:,} categories; at most {most:,} are read.").format(
                n=len(cats), most=ANNOTATION_MAX_CATEGORIES
            ),
            fix=_(_CATEGORIES_FIX),
        )
    categories: list[tuple[int, str]] = []
    point_names: dict[int, list[str]] = {}
    for c, cat in enumerate(cats):
        if not isinstance(cat, dict):
            raise InputError(
                _("Category {n} is not an object.").format(n=c + 1),
                fix=_("Write each as {“id”: 1, “name”: …}."),
            )
        cid = _integer(cat.get("id"), _("Category {n}'s id").format(n=c + 1))
        categories.append((cid, _name(cat.get("name"), _("Category {id}'s name").format(id=cid))))
        kp = cat.get("keypoints", [])
        if not isinstance(kp, list) or len(kp) > ANNOTATION_MAX_KEYPOINTS:
            raise InputError(
                _("Category {id}'s keypoint names are not a short list of names.").format(id=cid),
                fix=_("List its keypoints' names, e.g. [“left_eye”, “right_eye”]."),
            )
        point_names[cid] = [
            _name(v, _("A keypoint name of category {id}").format(id=cid)) for v in kp
        ]
    ids = {cid for cid, _name_ in categories}

    boxes: list[Box] = []
    labels: list[int] = []
    wheres: list[str] = []
    polys: list[list[list[tuple[float, float]]]] = []
    points: list[tuple[float, float]] = []
    names: list[str] = []
    budget = [ANNOTATION_MAX_POLYGON_POINTS]
    for i, a in enumerate(mine):
        if not isinstance(a, dict):
            raise InputError(
                _("Annotation {n} is not an object.").format(n=i + 1),
                fix=_("Write each annotation as an object with bbox and category_id."),
            )
        where = (
            _("annotation {n} (id {id})").format(n=i + 1, id=a["id"])
            if _is_number(a.get("id"))
            else _("annotation {n}").format(n=i + 1)
        )
        bbox = a.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise InputError(
                _("{where} has no bbox of four numbers [x, y, width, height].").format(
                    where=_cap(where)
                ),
                fix=_("Give it a bbox [x, y, w, h] in pixels (COCO's XYWH)."),
            )
        bbox_number = _("A bbox number of {where}").format(where=where)
        boxes.append(tuple(_number(v, bbox_number) for v in bbox))  # type: ignore[arg-type]
        label = _integer(a.get("category_id"), _("{where}'s category_id").format(where=_cap(where)))
        if ids and label not in ids:
            raise InputError(
                _("{where} has category_id {label}, which “categories” does not list.").format(
                    where=_cap(where), label=label
                ),
                fix=_("Add that category (id and name), or fix the category_id."),
            )
        labels.append(label)
        wheres.append(where)
        seg = a.get("segmentation")
        polys.append([] if seg is None or seg == [] else _polygons(seg, where, budget))
        kps = a.get("keypoints")
        if kps is not None:
            if not isinstance(kps, list) or len(kps) % 3 or len(kps) > 3 * ANNOTATION_MAX_KEYPOINTS:
                raise InputError(
                    _("{where}'s keypoints are not a list of x, y, v triples.").format(
                        where=_cap(where)
                    ),
                    fix=_("Write them as [x1, y1, v1, x2, y2, v2, …] (v = 0: not labelled)."),
                )
            kp_names = point_names.get(label, [])
            for j in range(len(kps) // 3):
                kp_of = _("Keypoint {n} of {where}").format(n=j + 1, where=where)
                x, y, v = (_number(t, kp_of) for t in kps[3 * j : 3 * j + 3])
                if v > 0:
                    points.append((x, y))
                    names.append(kp_names[j] if j < len(kp_names) else f"keypoint {j + 1}")
            if len(points) > ANNOTATION_MAX_KEYPOINTS:
                raise InputError(
                    _("The COCO file has more than {most:,} keypoints.").format(
                        most=ANNOTATION_MAX_KEYPOINTS
                    ),
                    fix=_(_KEYPOINTS_FIX),
                )
    extra = doc.get(KEYPOINTS_KEY, [])
    if not isinstance(extra, list) or len(extra) + len(points) > ANNOTATION_MAX_KEYPOINTS:
        raise InputError(
            _("“{key}” is not a short list of keypoints.").format(key=KEYPOINTS_KEY),
            fix=_("Write it as a list of {{“name”, “x”, “y”}} objects, at most {most:,}.").format(
                most=ANNOTATION_MAX_KEYPOINTS
            ),
        )
    for j, p in enumerate(extra):
        if not isinstance(p, dict):
            raise InputError(
                _("Entry {n} of “{key}” is not an object.").format(n=j + 1, key=KEYPOINTS_KEY),
                fix=_("Write each as {“name”: …, “x”: …, “y”: …}."),
            )
        what = _("Entry {n} of “{key}”").format(n=j + 1, key=KEYPOINTS_KEY)
        points.append((_number(p.get("x"), what), _number(p.get("y"), what)))
        names.append(_name(p.get("name"), _("{what}'s name").format(what=what)))

    mask: bytes | None = None
    if MASK_KEY in doc:
        encoded = doc[MASK_KEY]
        try:
            if not isinstance(encoded, str) or len(encoded) > ANNOTATION_MAX_BYTES * 4 // 3 + 4:
                raise ValueError
            png = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise InputError(
                _("“{key}” is not a base64-encoded PNG.").format(key=MASK_KEY),
                fix=_("Remove that key, or write it again with to_coco()."),
            ) from None
        arr = _decode_png(png, canvas, _("mask in “{key}”").format(key=MASK_KEY))
        mask = png_of(_instance_ids(arr, len(boxes), _("mask"), binary_ok=False))
    elif any(polys):
        if len(boxes) > ANNOTATION_MAX_MASK_INSTANCES:
            raise InputError(
                _(
                    "The COCO file has {n} boxes with polygons; a mask can mark at most {most} "
                    "instances."
                ).format(n=len(boxes), most=ANNOTATION_MAX_MASK_INSTANCES),
                fix=_("Keep polygons for at most 255 boxes."),
            )
        h, w = canvas
        im = PIL.Image.new("L", (w, h), 0)
        draw = PIL.ImageDraw.Draw(im)
        for i, shapes in enumerate(polys):
            for shape in shapes:
                draw.polygon(shape, fill=i + 1)
        mask = png_of(np.asarray(im))
    ann = Annotations(
        canvas,
        BoxFormat.XYWH,
        tuple(boxes),
        tuple(labels),
        tuple(categories),
        tuple(points),
        tuple(names),
        mask,
    )
    return validate(ann, where=wheres)


def to_coco(ann: Annotations, file_name: str) -> str:
    """``ann`` as a COCO JSON file for one image called ``file_name``: boxes as bbox
    [x, y, w, h] (XYWH: an XYXY or CXCYWH target is converted), ``category_id`` labels and
    the categories; the keypoints under ``"ptexplore_keypoints"`` (a target's keypoints
    belong to no box) and the mask as a base64 PNG under ``"ptexplore_mask_png"``, so
    :func:`from_coco` reads back an equal :class:`Annotations` (an XYWH one exactly)."""
    ann = validate(ann)
    h, w = ann.canvas
    boxes = (
        ann.boxes
        if ann.box_format is BoxFormat.XYWH
        else tuple(from_xyxy(to_xyxy(b, ann.box_format), BoxFormat.XYWH) for b in ann.boxes)
    )
    doc: dict[str, Any] = {
        "info": {
            "description": "One photo's boxes, labels, keypoints and mask, written by ptexplore.",
        },
        "images": [{"id": 1, "file_name": str(file_name), "width": w, "height": h}],
        "categories": [{"id": cid, "name": name} for cid, name in ann.categories],
        "annotations": [
            {
                "id": i + 1,
                "image_id": 1,
                "category_id": label,
                "bbox": [float(v) for v in box],
                "area": float(box[2] * box[3]),
                "iscrowd": 0,
            }
            for i, (box, label) in enumerate(zip(boxes, ann.labels, strict=True))
        ],
    }
    if ann.keypoints:
        doc[KEYPOINTS_KEY] = [
            {
                "name": ann.keypoint_names[j] if ann.keypoint_names else f"keypoint {j + 1}",
                "x": float(x),
                "y": float(y),
            }
            for j, (x, y) in enumerate(ann.keypoints)
        ]
    if ann.mask_png is not None:
        doc[MASK_KEY] = base64.b64encode(ann.mask_png).decode("ascii")
    return json.dumps(doc, indent=1, ensure_ascii=False)


# ----------------------------------------------------------------------------------- VOC


def from_voc(data: bytes, canvas: tuple[int, int]) -> Annotations:
    """A Pascal VOC XML file's objects: ``<name>`` as categories numbered 1, 2, … in order
    of first appearance, ``<bndbox>`` as XYXY boxes; ``<size>`` must match the canvas.
    Parsed by ``defusedxml`` with document types refused, so no entity ever expands."""
    canvas = _check_canvas(canvas)
    raw = _check_bytes(data, _("VOC file"))
    count = raw.count(b"<object>") + raw.count(b"<object ")
    if count > ANNOTATION_MAX_BOXES:
        raise _too_many(count, "voc")
    if raw.count(b"<") > ANNOTATION_MAX_XML_TAGS:
        raise InputError(
            _("The VOC file has more than {most:,} XML tags.").format(most=ANNOTATION_MAX_XML_TAGS),
            fix=_("Keep only this photo's objects (at most {n:,}).").format(n=ANNOTATION_MAX_BOXES),
        )
    try:
        root = DET.fromstring(raw, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise InputError(
            _(
                "The VOC file declares a document type (<!DOCTYPE …>), which can define "
                "entities that expand or read other files; it is not read."
            ),
            fix=_("Remove the <!DOCTYPE …> part: a VOC annotation never needs one."),
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise InputError(
            _("The VOC file defines entities (<!ENTITY …>); they are not expanded."),
            fix=_("Remove the entity definitions and write the values out."),
        ) from None
    except DET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise InputError(
            _("The VOC file is not well-formed XML (line {line}, column {column}).").format(
                line=line, column=col
            ),
            fix=_("Open it in an editor and fix that spot: every <tag> needs its </tag>."),
        ) from None
    if root.tag != "annotation":
        raise InputError(
            _("The XML's root is <{tag}>, not <annotation>.").format(tag=root.tag[:40]),
            fix=_("Upload a Pascal VOC file: <annotation> with <size> and <object>s."),
        )
    objects = root.findall("object")  # counted on the raw bytes too, before parsing
    if len(objects) > ANNOTATION_MAX_BOXES:
        raise _too_many(len(objects), "voc")
    size = root.find("size")
    if size is not None:
        sw, sh = size.findtext("width"), size.findtext("height")
        try:
            dims = (int(float(sh or "")), int(float(sw or "")))
        except ValueError:
            dims = None
        if dims is not None and dims != canvas and dims != (0, 0):
            raise InputError(
                _("The VOC file's <size> says {w}×{h}, but the photo is {size}.").format(
                    w=dims[1], h=dims[0], size=_size(canvas)
                ),
                fix=_(_SIZE_FIX),
            )
    ids: dict[str, int] = {}
    boxes: list[Box] = []
    labels: list[int] = []
    wheres: list[str] = []
    for k, obj in enumerate(objects):
        where = _("object {n}").format(n=k + 1)
        name = _name(obj.findtext("name"), _("{where}'s <name>").format(where=_cap(where)))
        where = _("object {n} ({name})").format(n=k + 1, name=_quote(name))
        bnd = obj.find("bndbox")
        if bnd is None:
            raise InputError(
                _("{where} has no <bndbox>.").format(where=_cap(where)),
                fix=_("Give it <bndbox><xmin>…</xmin><ymin>…</ymin><xmax>…</xmax><ymax>…</ymax>."),
            )
        values: list[float] = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            text = bnd.findtext(tag)
            try:
                values.append(float((text or "").strip()))
            except ValueError:
                raise InputError(
                    _("{where}'s <{tag}> is {value}, not a number.").format(
                        where=_cap(where), tag=tag, value=_quote(text or "")
                    ),
                    fix=_("Write the pixel coordinate in <{tag}>.").format(tag=tag),
                ) from None
        if name not in ids:
            ids[name] = len(ids) + 1
        boxes.append((values[0], values[1], values[2], values[3]))
        labels.append(ids[name])
        wheres.append(where)
    ann = Annotations(
        canvas,
        BoxFormat.XYXY,
        tuple(boxes),
        tuple(labels),
        tuple((i, n) for n, i in ids.items()),
    )
    return validate(ann, where=wheres)


# ---------------------------------------------------------------------------------- YOLO


def from_yolo(text: bytes, canvas: tuple[int, int], *, names: tuple[str, ...] = ()) -> Annotations:
    """A YOLO label file: one ``class cx cy w h`` line per box, the four numbers fractions
    (0–1) of the photo's width and height, turned into CXCYWH pixels; class ids are the
    labels, named by ``names`` (``names[i]`` is class ``i``) or "class N"."""
    canvas = _check_canvas(canvas)
    raw = _check_bytes(text, _("YOLO file"))
    if raw.count(b"\n") >= ANNOTATION_MAX_BOXES and (
        sum(1 for line in raw.splitlines() if line.strip()) > ANNOTATION_MAX_BOXES
    ):
        raise _too_many(sum(1 for line in raw.splitlines() if line.strip()), "yolo")
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(
            _("The YOLO file is not UTF-8 text."), fix=_("Upload the .txt label file itself.")
        ) from None
    if len(names) > ANNOTATION_MAX_CATEGORIES:
        raise InputError(
            _("{n:,} class names are given; at most {most:,}.").format(
                n=len(names), most=ANNOTATION_MAX_CATEGORIES
            ),
            fix=_("Give only the classes the dataset uses."),
        )
    class_names = [_name(n, _("Class name {i}").format(i=i)) for i, n in enumerate(names)]
    h, w = canvas
    boxes: list[Box] = []
    labels: list[int] = []
    wheres: list[str] = []
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        where = _("line {n}").format(n=number)
        if len(parts) != 5:
            values_on_line = (
                _("Line {n} has {count} value; a YOLO box line has 5: class cx cy w h.")
                if len(parts) == 1
                else _("Line {n} has {count} values; a YOLO box line has 5: class cx cy w h.")
            )
            raise InputError(
                values_on_line.format(n=number, count=len(parts)),
                fix=_(
                    "Write one box per line as “class cx cy w h” (polygon or keypoint YOLO files "
                    "are not read here)."
                ),
            )
        try:
            cls = int(parts[0])
        except ValueError:
            raise InputError(
                _("Line {n}'s class {value} is not a whole number.").format(
                    n=number, value=_quote(parts[0])
                ),
                fix=_("The first value is the class index: 0, 1, 2, …"),
            ) from None
        if cls < 0 or cls > ANNOTATION_MAX_LABEL:
            raise InputError(
                _("Line {n}'s class is {cls}.").format(n=number, cls=cls),
                fix=_("Class indices run from 0 to {most:,}.").format(most=ANNOTATION_MAX_LABEL),
            )
        if class_names and cls >= len(class_names):
            raise InputError(
                _("Line {n}'s class {cls} has no name: {names} names are given.").format(
                    n=number, cls=cls, names=len(class_names)
                ),
                fix=_("Add its name to the class names, or fix the class index."),
            )
        values: list[float] = []
        for column, part in zip(("cx", "cy", "w", "h"), parts[1:], strict=True):
            try:
                value = float(part)
            except ValueError:
                raise InputError(
                    _("Line {n}'s {column} {value} is not a number.").format(
                        n=number, column=column, value=_quote(part)
                    ),
                    fix=_(_YOLO_FIX),
                ) from None
            if not math.isfinite(value):
                raise InputError(
                    _("Line {n}'s {column} is {value}, not a finite number.").format(
                        n=number, column=column, value=value
                    ),
                    fix=_(_YOLO_FIX),
                )
            if value > 1:
                raise InputError(
                    _(
                        "Line {n}'s {column} is {value:g}: more than 1, so it looks like pixels."
                    ).format(n=number, column=column, value=value),
                    fix=_(
                        "YOLO numbers are fractions of the photo's width (cx, w) and height "
                        "(cy, h), from 0 to 1: divide pixels by the photo's size."
                    ),
                )
            values.append(value)
        cx, cy, bw, bh = values
        boxes.append((cx * w, cy * h, bw * w, bh * h))
        labels.append(cls)
        wheres.append(where)
    categories = (
        tuple(enumerate(class_names))
        if class_names
        else tuple((c, f"class {c}") for c in sorted(set(labels)))
    )
    ann = Annotations(canvas, BoxFormat.CXCYWH, tuple(boxes), tuple(labels), categories)
    return validate(ann, where=wheres)


# ---------------------------------------------------------------------------------- rows


def any_filled(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any cell of the table's ``rows`` holds a value (blank rows are dropped by
    :func:`from_rows`: a table of them is no boxes yet, not an error)."""
    return any(not _empty(v) for row in rows for v in row.values())


def _empty(v: object) -> bool:
    return (
        v is None
        or (isinstance(v, str) and not v.strip())
        or (isinstance(v, float) and math.isnan(v))
        or type(v).__name__ in ("NAType", "NaTType")
    )


def from_rows(
    rows: Sequence[Mapping[str, object]], canvas: tuple[int, int], box_format: BoxFormat
) -> Annotations:
    """The learner's box table (``st.data_editor`` rows): one row per box with the
    format's four columns (``box_format.columns``) and a ``label`` name; labels are
    numbered 1, 2, … in order of first appearance. Fully empty rows are skipped; a row
    with some cells empty is a lesson naming the row and the cells."""
    canvas = _check_canvas(canvas)
    fmt = _format(box_format)
    if len(rows) > ANNOTATION_MAX_BOXES:
        raise _too_many(len(rows), "table")
    columns = (*fmt.columns, "label")
    ids: dict[str, int] = {}
    boxes: list[Box] = []
    labels: list[int] = []
    wheres: list[str] = []
    for r, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise InputError(
                _("Row {n} is not a table row.").format(n=r),
                fix=_("Pass the table's rows as dicts."),
            )
        cells = [row.get(c) for c in columns]
        missing = [c for c, v in zip(columns, cells, strict=True) if _empty(v)]
        if len(missing) == len(columns):
            continue
        if missing:
            raise InputError(
                _("Row {n} has no value for {columns}.").format(n=r, columns=", ".join(missing)),
                fix=_("Fill in every cell of the row, or clear the whole row to drop it."),
            )
        values: list[float] = []
        for c, v in zip(fmt.columns, cells[:4], strict=True):
            if isinstance(v, str):
                try:
                    values.append(float(v.strip()))
                except ValueError:
                    raise InputError(
                        _("Row {n}'s {column} is {value}, not a number.").format(
                            n=r, column=c, value=_quote(v)
                        ),
                        fix=_("Write the pixel coordinate as a number, e.g. 12.5."),
                    ) from None
            else:
                values.append(_number(v, _("Row {n}'s {column}").format(n=r, column=c)))
        label = cells[-1]
        if _is_number(label) and float(label).is_integer():  # type: ignore[arg-type]
            label = str(int(label))  # type: ignore[call-overload]
        name = _name(label, _("Row {n}'s label").format(n=r))
        if name not in ids:
            ids[name] = len(ids) + 1
        boxes.append((values[0], values[1], values[2], values[3]))
        labels.append(ids[name])
        wheres.append(_("row {n}").format(n=r))
    ann = Annotations(
        canvas, fmt, tuple(boxes), tuple(labels), tuple((i, n) for n, i in ids.items())
    )
    return validate(ann, where=wheres)


# ---------------------------------------------------------------------------------- mask


def with_mask(ann: Annotations, png: bytes) -> Annotations:
    """``ann`` with an uploaded PNG as its instance mask: a palette or grayscale PNG whose
    value ``i`` marks box ``i``'s instance (0: background), or a black-and-white (0/255)
    image for one instance, box 1. It must be the photo's size (checked from the PNG
    header before decoding) and mark no more instances than there are boxes."""
    canvas = _check_canvas(ann.canvas)
    arr = _decode_png(png, canvas, _("mask"))
    ids = _instance_ids(arr, len(ann.boxes), _("mask"), binary_ok=True)
    return validate(replace(ann, mask_png=png_of(ids)))


# ------------------------------------------------------------------------------- samples


@functools.cache
def samples() -> dict[str, Annotations]:
    """The hand-made annotations of the bundled sample photos (package data,
    ``ptexplore/assets/samples/annotations.json``), keyed by photo file name; each keeps
    only the categories its own boxes use."""
    path = resources.files("ptexplore").joinpath("assets", "samples", "annotations.json")
    data = path.read_bytes()
    doc = json.loads(data)
    out: dict[str, Annotations] = {}
    for image in doc["images"]:
        name = image["file_name"]
        ann = from_coco(data, (image["height"], image["width"]), file_name=name)
        used = set(ann.labels)
        out[name] = replace(ann, categories=tuple(c for c in ann.categories if c[0] in used))
    return out


def sample_mask_path(name: str) -> Path | None:
    """The instance-id PNG of sample photo ``name``'s masks (what an exported script
    reads: ``assets/samples/masks/<stem>.png``, equal to the mask :func:`samples` gives —
    a test checks), or None when it has none."""
    path = SAMPLES_DIR / "masks" / f"{Path(name).stem}.png"
    return path if path.is_file() else None


# ------------------------------------------------------------------ uploads, sandboxed

#: the annotation files an upload may be, by extension
READERS = {".json": "COCO JSON", ".xml": "Pascal VOC XML", ".txt": "YOLO txt"}


def read_upload(
    name: str, data: bytes, canvas: tuple[int, int], photo: str | None = None
) -> Annotations:
    """An uploaded annotation file, read by its extension (:data:`READERS`); a COCO file
    that lists several images gives the one named ``photo``."""
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        return from_coco(data, canvas, file_name=photo)
    if suffix == ".xml":
        return from_voc(data, canvas)
    if suffix == ".txt":
        return from_yolo(data, canvas)
    raise InputError(
        _("{name} is not an annotation file this lab reads.").format(name=_quote(name)),
        fix=_("Upload one of: {readers}.").format(
            readers=", ".join(f"{v} ({k})" for k, v in READERS.items())
        ),
    )


_READ_JOB = isolate.job(
    N_("reading your annotations"),
    isolate.Limits(memory_mb=SANDBOX_ANNOTATION_MEMORY_MB, cpu_s=SANDBOX_ANNOTATION_CPU_S),
)


def read_sandboxed(
    name: str, data: bytes, canvas: tuple[int, int], photo: str | None = None
) -> Annotations:
    """:func:`read_upload` in a sandboxed child that ran nothing before (the bytes are the
    learner's): a parser that crashes or spins ends its job, never the server."""
    _check_bytes(data, _("annotation file"))
    return _READ_JOB.call(read_upload, name, data, canvas, photo)


def with_mask_sandboxed(ann: Annotations, png: bytes) -> Annotations:
    """:func:`with_mask` in a sandboxed child (the PNG is the learner's)."""
    _check_bytes(png, _("mask"))
    return _READ_JOB.call(with_mask, ann, png)

"""Safe image decoding for the Augmentation lab: explicit formats, explicit caps, plain errors.

Everything a learner can upload goes through :func:`decode_image_bytes`, which

* opens with an explicit ``formats=[...]`` list (nothing else is even tried);
* refuses decompression bombs: Pillow's ``Image.MAX_IMAGE_PIXELS`` is lowered to
  :data:`MAX_PIXELS` (process-wide, set once at import; it only ever gets stricter), and
  the ``DecompressionBombWarning`` Pillow emits above it is treated as an error — caught
  with ``ptexplore.live.capture_warnings`` (this thread only), never by changing the
  process-wide warning filters;
* loads the pixels inside ``try`` (a truncated or corrupt file only fails on ``load()``,
  not on ``open()``);
* applies the EXIF orientation, keeps the first frame of animations and converts every
  mode to 8-bit RGB explicitly, saying in :attr:`DecodedImage.notes` what it did;
* optionally decodes a *preview-sized copy* (JPEG ``draft()`` decodes at 1/2, 1/4 or 1/8
  scale directly, other formats are resized after decoding) and says so.
"""

from __future__ import annotations

import enum
import hashlib
import io
import struct
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ptexplore import isolate
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    MAX_ASPECT,
    MAX_FRAMES,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    SANDBOX_DECODE_MEMORY_MB,
    WARN_ASPECT,
)
from ptexplore.live import capture_warnings

#: Formats Pillow may try, in this order (``Image.open(..., formats=SUPPORTED_FORMATS)``).
SUPPORTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")
#: File-name extensions the uploader accepts (the browser enforces them, we do not rely on it).
UPLOAD_EXTENSIONS: tuple[str, ...] = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")
__all__ = ["MAX_ASPECT", "MAX_FRAMES", "MAX_PIXELS", "MAX_UPLOAD_BYTES", "MIN_SIDE", "WARN_ASPECT"]

if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_FORMAT_LIST = ", ".join(SUPPORTED_FORMATS)


class Conversion(enum.StrEnum):
    """How the pixels became 8-bit RGB (the exported script repeats the same steps)."""

    #: Pillow's ``convert("RGB")`` (RGB, L, 1, P, CMYK, …): identical to what most code does.
    RGB = "rgb"
    #: Alpha composited on white, then dropped (RGBA, LA, PA, P with transparency).
    ON_WHITE = "on_white"
    #: 16-bit (or 0–65535 ``I``) grayscale scaled to 0–255, not clipped.
    SCALE_16 = "scale_16"
    #: Other ``I``/``F`` grayscale: rescaled min–max to 0–255.
    MIN_MAX = "min_max"


@dataclass(frozen=True, slots=True, eq=False)
class DecodedImage:
    """An uploaded picture as a uint8 ``(3, H, W)`` RGB tensor plus what decoding did."""

    pixels: torch.Tensor
    name: str
    format: str
    original_mode: str
    #: (width, height) of the full image after EXIF orientation.
    original_size: tuple[int, int]
    n_frames: int
    notes: tuple[str, ...]
    conversion: Conversion = Conversion.RGB
    #: sha256 of the file's bytes (with the size decoded at, it identifies the pixels)
    digest: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of :attr:`pixels`."""
        return int(self.pixels.shape[-1]), int(self.pixels.shape[-2])

    @property
    def downscaled(self) -> bool:
        return self.size != self.original_size

    @property
    def scale(self) -> float:
        """Pixels width / original width (1.0 when decoded at full size)."""
        return self.size[0] / self.original_size[0]


def _bomb_warned(caught: list[object]) -> bool:
    return any(getattr(w, "category", "") == "DecompressionBombWarning" for w in caught)


def _open(data: bytes) -> Image.Image:
    try:
        with capture_warnings() as caught:
            im = Image.open(io.BytesIO(data), formats=list(SUPPORTED_FORMATS))
        if _bomb_warned(list(caught)):
            raise Image.DecompressionBombError("over MAX_IMAGE_PIXELS")
        return im
    except Image.DecompressionBombError as err:
        raise InputError(
            _(
                "This file declares a huge image and was refused as a possible decompression "
                "bomb (over {mp:.0f} megapixels)."
            ).format(mp=MAX_PIXELS / 1e6),
            fix=_("Upload a smaller image (resize it to at most ~6000×6000 pixels first)."),
        ) from err
    except UnidentifiedImageError as err:
        raise InputError(
            _("This file is not an image in a supported format ({formats}).").format(
                formats=_FORMAT_LIST
            ),
            fix=_("Upload a photo saved as PNG, JPEG, WebP, BMP, GIF or TIFF."),
        ) from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise InputError(
            _("The image header could not be read: the file is corrupt ({err}).").format(err=err),
            fix=_("Re-export the image from an image editor and upload it again."),
        ) from err


def _check_geometry(width: int, height: int, notes: list[str]) -> None:
    if width * height > MAX_PIXELS:
        raise InputError(
            _(
                "This image is {w}×{h} = {mp:.1f} megapixels; the cap is {cap:.0f} MP "
                "(decompression-bomb guard)."
            ).format(w=width, h=height, mp=width * height / 1e6, cap=MAX_PIXELS / 1e6),
            fix=_("Resize the image to at most ~6000×6000 pixels and upload it again."),
        )
    if min(width, height) < MIN_SIDE:
        raise InputError(
            _(
                "This image is only {w}×{h} pixels; augmenting needs at least {side} pixels "
                "on each side."
            ).format(w=width, h=height, side=MIN_SIDE),
            fix=_("Upload a larger photo."),
        )
    aspect = max(width, height) / min(width, height)
    if aspect > MAX_ASPECT:
        raise InputError(
            _(
                "This image is {w}×{h}: an aspect ratio of {aspect:.0f}:1 is too extreme to "
                "preview (limit {most:.0f}:1)."
            ).format(w=width, h=height, aspect=aspect, most=MAX_ASPECT),
            fix=_("Crop it to a less extreme shape first."),
        )
    if aspect > WARN_ASPECT:
        notes.append(
            _(
                "Very elongated image ({aspect:.1f}:1): RandomResizedCrop's default ratio "
                "range (3/4–4/3) will only ever see part of it."
            ).format(aspect=aspect)
        )


def _check_frames(im: Image.Image, fmt: str) -> int:
    """Every frame's declared size is checked like the first (only frame 0 is decoded)."""
    try:
        n_frames = int(getattr(im, "n_frames", 1))
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise InputError(
            _("The frames of this {fmt} file could not be counted: it is corrupt ({err}).").format(
                fmt=fmt, err=err
            ),
            fix=_("Re-export the image from an image editor and upload it again."),
        ) from err
    if n_frames > MAX_FRAMES:
        raise InputError(
            _(
                "This {fmt} file declares {n:,} frames; the lab reads at most {most} (it only "
                "uses the first)."
            ).format(fmt=fmt, n=n_frames, most=MAX_FRAMES),
            fix=_("Upload a single still image (export the first frame)."),
        )
    if n_frames > 1:
        try:
            for i in range(1, n_frames):
                im.seek(i)
                _check_geometry(*im.size, [])
            im.seek(0)
        except InputError as err:
            raise InputError(
                _("Frame {i}: {message}").format(i=i + 1, message=err.message), fix=err.fix
            ) from err
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
            raise InputError(
                _("Frame {i} of this {fmt} file is corrupt ({err}).").format(
                    i=i + 1, fmt=fmt, err=err
                ),
                fix=_("Upload a single still image (export the first frame)."),
            ) from err
    return n_frames


#: Fewer bytes of JPEG scan data per pixel than this cannot be a whole picture: even a flat
#: grey image needs ~2 bits per 8×8 block and channel (≈ 0.004 bytes per pixel, measured:
#: a uniform 6300×6300 JPEG at quality 5 is 621 KB = 0.016 B/px). A file below it ends
#: early, and libjpeg would silently fill the missing rows with grey.
JPEG_MIN_SCAN_BYTES_PER_PIXEL = 0.001


def _check_jpeg_data(data: bytes, fmt: str, width: int, height: int) -> None:
    """Refuse a JPEG whose header claims far more pixels than its data can hold."""
    if fmt != "JPEG":
        return
    sos = data.find(b"\xff\xda")
    scan = len(data) - sos if sos >= 0 else 0
    if scan < JPEG_MIN_SCAN_BYTES_PER_PIXEL * width * height:
        raise InputError(
            _(
                "This JPEG declares {w}×{h} pixels but holds only {scan:,} bytes of image "
                "data — far fewer than any complete picture of that size needs: the file is "
                "truncated (a decoder would fill the missing part with grey)."
            ).format(w=width, h=height, scan=scan),
            fix=_("Re-download or re-export the photo and upload it again."),
        )


def _load(im: Image.Image) -> None:
    try:
        with capture_warnings() as caught:
            im.load()
        if _bomb_warned(list(caught)):
            raise Image.DecompressionBombError("over MAX_IMAGE_PIXELS")
    except Image.DecompressionBombError as err:
        raise InputError(
            _(
                "A frame of this file is too large and was refused as a possible "
                "decompression bomb."
            ),
            fix=_("Upload a smaller image."),
        ) from err
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as err:
        raise InputError(
            _(
                "The image data is truncated or corrupt: its header was fine but the pixels "
                "could not be decoded ({err})."
            ).format(err=err),
            fix=_("Re-export or re-download the image and upload it again."),
        ) from err


_ORIENTATION_TEXT = {
    2: N_("mirrored horizontally"),
    3: N_("rotated 180°"),
    4: N_("mirrored vertically"),
    5: N_("transposed"),
    6: N_("rotated 90° clockwise"),
    7: N_("transversed"),
    8: N_("rotated 90° counter-clockwise"),
}


def _to_rgb(im: Image.Image, notes: list[str]) -> tuple[np.ndarray, Conversion]:
    """Convert any Pillow mode to an (H, W, 3) uint8 array, noting what was done."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8), Conversion.RGB
    has_alpha = mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (
        mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        transparent = float((alpha < 255).mean())
        if transparent == 0.0:
            notes.append(
                _("Mode {mode}: the alpha channel was fully opaque, so it was dropped.").format(
                    mode=mode
                )
            )
            return np.asarray(rgba.convert("RGB"), dtype=np.uint8), Conversion.ON_WHITE
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append(
            _(
                "Mode {mode}: {share:.0%} of the pixels are (partly) transparent; composited "
                "on a white background, then the alpha channel was dropped."
            ).format(mode=mode, share=transparent)
        )
        out = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8)
        return out, Conversion.ON_WHITE
    if mode == "P":
        notes.append(_("Palette image (mode P): colours looked up and converted to RGB."))
        return np.asarray(im.convert("RGB"), dtype=np.uint8), Conversion.RGB
    if mode in {"L", "1"}:
        notes.append(
            _(
                "Black-and-white (mode 1): copied into 3 identical channels so RGB "
                "transforms and a 3-channel Normalize apply."
            )
            if mode == "1"
            else _(
                "Grayscale (mode L): copied into 3 identical channels so RGB transforms and "
                "a 3-channel Normalize apply."
            )
        )
        gray = np.asarray(im.convert("L"), dtype=np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2), Conversion.RGB
    if mode == "CMYK":
        notes.append(_("CMYK image: converted to RGB (Pillow's conversion, no colour profile)."))
        return np.asarray(im.convert("RGB"), dtype=np.uint8), Conversion.RGB
    if mode.startswith("I;16") or mode in {"I", "F"}:
        raw = np.asarray(im)
        if mode.startswith("I;16") or (mode == "I" and raw.min() >= 0 and raw.max() <= 65535):
            conversion = Conversion.SCALE_16
            wide = raw.astype(np.uint32)
            gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)
            notes.append(
                _(
                    "16-bit grayscale (mode {mode}): values scaled 0–65535 → 0–255 (max "
                    "{high} → {low}), not clipped at 255."
                ).format(mode=mode, high=int(raw.max()), low=int(gray.max()))
            )
        else:
            conversion = Conversion.MIN_MAX
            values = raw.astype(np.float64)
            finite = np.isfinite(values)
            if not finite.any():
                raise InputError(
                    _(
                        "Every pixel of this mode {mode} image is NaN or infinite: there is no "
                        "picture to show."
                    ).format(mode=mode),
                    fix=_("Export the image with real pixel values."),
                )
            lo, hi = float(values[finite].min()), float(values[finite].max())
            span = hi - lo if hi > lo else 1.0
            values = np.where(finite, values, lo)
            gray = np.round((values - lo) / span * 255.0).astype(np.uint8)
            notes.append(
                _("Mode {mode} ({dtype} values {lo:g}…{hi:g}): rescaled min–max to 0–255.").format(
                    mode=mode, dtype=raw.dtype, lo=lo, hi=hi
                )
            )
            if not finite.all():
                notes.append(
                    _("{n} NaN/infinite pixel(s) were set to the minimum.").format(
                        n=int((~finite).sum())
                    )
                )
        return np.repeat(gray[:, :, None], 3, axis=2), conversion
    notes.append(_("Mode {mode}: converted to RGB.").format(mode=mode))
    return np.asarray(im.convert("RGB"), dtype=np.uint8), Conversion.RGB


def decode_image_bytes(
    data: bytes, *, name: str = "image", max_short_side: int | None = None
) -> DecodedImage:
    """Decode ``data`` into a :class:`DecodedImage` or raise a learner-facing ``InputError``.

    ``max_short_side``: when given and the image's shorter side is larger, decode a
    preview-sized copy whose shorter side is about that long (JPEG via ``draft()``).
    Every error message names the file (several uploads may fail at once).
    """
    try:
        return _decode(data, name, max_short_side)
    except InputError as err:
        prefix = f"“{name}”"
        if err.message.startswith(prefix):
            raise
        raise InputError(
            _("“{name}”: {message}").format(name=name, message=err.message), fix=err.fix
        ) from err


def decode_upload(
    data: bytes, *, name: str = "image", max_short_side: int | None = None
) -> DecodedImage:
    """:func:`decode_image_bytes` of a learner's upload, in the sandbox
    (:mod:`ptexplore.isolate`): a decoder that crashes, a file that needs more than
    :data:`~ptexplore.limits.SANDBOX_DECODE_MEMORY_MB` or more than the CPU limit ends in a
    lesson, and the server's other sessions never notice. The checks that refuse in
    microseconds (size, declared pixels) run first, here."""
    check_upload_size(len(data), name)
    return isolate.job(_("decoding “{name}”").format(name=name), _DECODE_LIMITS).call(
        decode_image_bytes, data, name=name, max_short_side=max_short_side
    )


_DECODE_LIMITS = isolate.Limits(memory_mb=SANDBOX_DECODE_MEMORY_MB)


def _decode(data: bytes, name: str, max_short_side: int | None) -> DecodedImage:
    if len(data) == 0:
        raise InputError(
            _("“{name}” is empty (0 bytes).").format(name=name),
            fix=_("Upload the image file itself, not an empty file."),
        )
    check_upload_size(len(data), name)
    notes: list[str] = []
    im = _open(data)
    fmt = str(im.format)
    stored_w, stored_h = im.size
    _check_geometry(stored_w, stored_h, notes)
    n_frames = _check_frames(im, fmt)
    if n_frames > 1:
        notes.append(
            _("{fmt} with {n} frames: only the first frame is used.").format(fmt=fmt, n=n_frames)
        )
    _check_jpeg_data(data, fmt, stored_w, stored_h)

    target: tuple[int, int] | None = None
    if max_short_side is not None and min(stored_w, stored_h) > max_short_side:
        ratio = max_short_side / min(stored_w, stored_h)
        target = (max(1, round(stored_w * ratio)), max(1, round(stored_h * ratio)))
        if fmt == "JPEG":
            drafted = im.draft(None, target)
            if drafted is not None and im.size != (stored_w, stored_h):
                notes.append(
                    _(
                        "Preview copy: JPEG decoded directly at 1/{k} scale (draft mode) — "
                        "{w}×{h} → {w2}×{h2}."
                    ).format(
                        k=stored_w // im.size[0],
                        w=stored_w,
                        h=stored_h,
                        w2=im.size[0],
                        h2=im.size[1],
                    )
                )
    _load(im)
    try:
        orientation = int(im.getexif().get(0x0112, 1))
    except (OSError, SyntaxError, ValueError, TypeError):
        orientation = 1
        notes.append(_("The EXIF block is unreadable: orientation left as stored."))
    original_size = (stored_h, stored_w) if orientation in {5, 6, 7, 8} else (stored_w, stored_h)
    original_mode = im.mode
    if orientation in _ORIENTATION_TEXT:
        im = ImageOps.exif_transpose(im)
        notes.append(
            _("EXIF orientation {n} applied: {what}.").format(
                n=orientation, what=_(_ORIENTATION_TEXT[orientation])
            )
        )
    try:
        rgb, conversion = _to_rgb(im, notes)
    except (OSError, ValueError) as err:  # e.g. a mode Pillow cannot convert to RGB
        raise InputError(
            _("This mode {mode} image could not be converted to RGB ({err}).").format(
                mode=original_mode, err=err
            ),
            fix=_("Save it as an ordinary RGB PNG or JPEG and upload that."),
        ) from err
    if target is not None:
        want = (target[1], target[0]) if orientation in {5, 6, 7, 8} else target
        h, w = rgb.shape[:2]
        if min(h, w) > 1.25 * min(want):
            small = Image.fromarray(rgb).resize(want, Image.Resampling.BILINEAR, reducing_gap=2.0)
            notes.append(
                _("Preview copy: resized {w}×{h} → {w2}×{h2} (antialiased) for speed.").format(
                    w=w, h=h, w2=want[0], h2=want[1]
                )
            )
            rgb = np.asarray(small, dtype=np.uint8)
    pixels = torch.from_numpy(np.require(rgb, requirements=["W"])).permute(2, 0, 1).contiguous()
    return DecodedImage(
        pixels=pixels,
        name=name,
        format=fmt,
        original_mode=original_mode,
        original_size=original_size,
        n_frames=n_frames,
        notes=tuple(notes),
        conversion=conversion,
        digest=hashlib.sha256(data).hexdigest(),
    )


def declared_pixels(data: bytes) -> int:
    """Width × height the file's header declares (nothing is decoded); 0 if unreadable
    (the decoder then says what is wrong)."""
    try:
        im = _open(data)
    except InputError:
        return 0
    w, h = im.size
    return int(w) * int(h)


def check_session_pixels(declared: list[int], limit: int) -> int:
    """How many of these images (in order) fit in ``limit`` pixels together."""
    total = 0
    for k, n in enumerate(declared):
        total += n
        if total > limit:
            return k
    return len(declared)


def check_upload_size(size: int, name: str) -> None:
    """Refuse an upload over the cap: by ``uploaded.size`` before reading it, and by
    ``len(data)`` again when decoding (the widget's own limit is only the browser's)."""
    if size > MAX_UPLOAD_BYTES:
        raise InputError(
            _("“{name}” is {mb:.1f} MB; uploads are limited to {most} MB.").format(
                name=name, mb=size / 2**20, most=MAX_UPLOAD_BYTES // 2**20
            ),
            fix=_("Upload a smaller file (re-save the photo as JPEG)."),
        )

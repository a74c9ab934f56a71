"""Safe decoding: every bad or odd input is generated here and gets a clear outcome.

Every test runs twice: with ``decode_image_bytes`` in this process, and through the
sandbox (``decode_upload``, what the page calls): the same pixels, the same lessons."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from ptexplore.errors import InputError
from ptexplore.images import decode
from ptexplore.images.decode import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    Conversion,
    check_upload_size,
    decode_image_bytes,
)


@pytest.fixture(autouse=True, params=["in-process", "sandboxed"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "sandboxed":
        monkeypatch.setitem(globals(), "decode_image_bytes", decode.decode_upload)
    return str(request.param)


def _encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _gradient(w: int = 64, h: int = 48) -> Image.Image:
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 90)], -1).astype(np.uint8)
    return Image.fromarray(rgb)


def _fails(data: bytes, needle: str) -> InputError:
    with pytest.raises(InputError) as info:
        decode_image_bytes(data, name="upload.bin")
    assert needle in info.value.message, info.value.message
    assert info.value.fix
    return info.value


def test_plain_rgb_png_is_exact() -> None:
    im = _gradient()
    d = decode_image_bytes(_encode(im, "PNG"), name="g.png")
    assert d.format == "PNG" and d.original_mode == "RGB" and d.notes == ()
    assert d.pixels.dtype == torch.uint8 and tuple(d.pixels.shape) == (3, 48, 64)
    assert torch.equal(d.pixels, torch.from_numpy(np.array(im)).permute(2, 0, 1))
    assert not d.downscaled and d.original_size == (64, 48)


def test_empty_not_image_and_unsupported_format() -> None:
    _fails(b"", "is empty (0 bytes)")
    _fails(b"hello, I am a text file\n" * 10, "not an image in a supported format")
    _fails(_encode(_gradient(), "PPM"), "not an image in a supported format")  # not in formats=[]


def test_truncated_files_fail_on_load_with_one_sentence() -> None:
    jpeg = _encode(_gradient(256, 256), "JPEG", quality=90)
    err = _fails(jpeg[: len(jpeg) // 3], "truncated or corrupt")
    assert "header was fine" in err.message
    png = _encode(_gradient(256, 256), "PNG")
    _fails(png[: len(png) // 2], "truncated or corrupt")
    broken_header = png[:16] + b"\x00" * 40 + png[56:]
    with pytest.raises(InputError):
        decode_image_bytes(broken_header)


def test_decompression_bombs_are_refused() -> None:
    side = int((MAX_PIXELS * 1.3) ** 0.5)  # above the cap: Pillow's bomb *warning* → error
    bomb = _encode(Image.new("1", (side, side)), "PNG")
    assert len(bomb) < 2_000_000
    _fails(bomb, "decompression bomb")
    side2 = int((MAX_PIXELS * 2.2) ** 0.5)  # above 2× the cap: Pillow's DecompressionBombError
    _fails(_encode(Image.new("1", (side2, side2)), "PNG"), "decompression bomb")
    assert MAX_PIXELS == Image.MAX_IMAGE_PIXELS


def test_extreme_sizes_and_aspect_ratios() -> None:
    _fails(_encode(_gradient(4, 4), "PNG"), "only 4×4 pixels")
    _fails(_encode(Image.new("RGB", (2000, 20)), "PNG"), "aspect ratio of 100:1")
    wide = decode_image_bytes(_encode(Image.new("RGB", (500, 50)), "PNG"))
    assert any("elongated" in n for n in wide.notes)


def test_over_size_uploads_are_refused_before_decoding() -> None:
    with pytest.raises(InputError, match="uploads are limited to 50 MB"):
        check_upload_size(MAX_UPLOAD_BYTES + 1, "huge.jpg")
    check_upload_size(MAX_UPLOAD_BYTES, "ok.jpg")
    _fails(b"\xff" * (MAX_UPLOAD_BYTES + 1), "uploads are limited")


def test_exif_orientation_is_applied() -> None:
    im = _gradient(60, 30)
    exif = Image.Exif()
    exif[0x0112] = 6
    d = decode_image_bytes(_encode(im, "JPEG", exif=exif.tobytes(), quality=95))
    assert d.original_size == (30, 60) and tuple(d.pixels.shape) == (3, 60, 30)
    assert any("EXIF orientation 6" in n for n in d.notes)
    # rotated 90° clockwise: the stored top-left corner (dark red) is now top-right
    top_right = d.pixels[:, 0, -1].tolist()
    assert top_right[0] < 40 and top_right[1] < 40


def test_alpha_is_composited_on_white() -> None:
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:10, :, 3] = 255  # top half opaque red, bottom half fully transparent
    d = decode_image_bytes(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert d.original_mode == "RGBA"
    assert d.pixels[:, 0, 0].tolist() == [200, 0, 0]
    assert d.pixels[:, 15, 0].tolist() == [255, 255, 255]
    assert any("composited on a white background" in n for n in d.notes)
    opaque = decode_image_bytes(_encode(_gradient().convert("RGBA"), "PNG"))
    assert any("fully opaque, so it was dropped" in n for n in opaque.notes)
    la = decode_image_bytes(_encode(Image.fromarray(rgba[..., [0, 3]], "LA"), "PNG"))
    assert la.pixels[:, 15, 0].tolist() == [255, 255, 255]


def test_palette_grayscale_and_cmyk_become_rgb() -> None:
    p = decode_image_bytes(_encode(_gradient().convert("P"), "GIF"))
    assert p.original_mode == "P" and any("Palette" in n for n in p.notes)
    trans = _gradient().convert("P")
    trans.info["transparency"] = 0
    pt = decode_image_bytes(_encode(trans, "PNG"))
    assert any("transparent" in n or "opaque" in n for n in pt.notes)
    gray = decode_image_bytes(_encode(_gradient().convert("L"), "PNG"))
    assert torch.equal(gray.pixels[0], gray.pixels[1]) and torch.equal(
        gray.pixels[1], gray.pixels[2]
    )
    cmyk = decode_image_bytes(_encode(_gradient().convert("CMYK"), "JPEG", quality=95))
    assert cmyk.original_mode == "CMYK" and cmyk.pixels.shape[0] == 3
    assert any("CMYK" in n for n in cmyk.notes)


def test_16_bit_grayscale_is_scaled_not_clipped() -> None:
    a = np.array([[0, 257, 32768, 65535] * 4] * 16, dtype=np.uint16)
    im = Image.fromarray(a)
    assert im.mode == "I;16"
    for fmt in ("PNG", "TIFF"):
        d = decode_image_bytes(_encode(im, fmt))
        assert d.pixels[0, 0, :4].tolist() == [0, 1, 128, 255], fmt
        assert any("scaled 0–65535 → 0–255" in n and "not clipped" in n for n in d.notes)


def test_gif_and_webp_animation_use_the_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    d = decode_image_bytes(gif)
    assert d.n_frames == 3 and d.pixels[:, 5, 5].tolist() == [255, 0, 0]
    assert any("only the first frame" in n for n in d.notes)
    webp = decode_image_bytes(_encode(_gradient(), "WEBP", lossless=True))
    assert webp.format == "WEBP" and tuple(webp.pixels.shape) == (3, 48, 64)
    bmp = decode_image_bytes(_encode(_gradient(), "BMP"))
    assert torch.equal(bmp.pixels, decode_image_bytes(_encode(_gradient(), "PNG")).pixels)


def test_preview_copy_is_downscaled_and_said_so() -> None:
    big = _encode(_gradient(2000, 1600), "JPEG", quality=85)
    d = decode_image_bytes(big, max_short_side=300)
    assert d.downscaled and d.original_size == (2000, 1600)
    assert min(d.size) >= 300 and min(d.size) <= 1.25 * 300
    assert any("draft" in n for n in d.notes)
    png = _encode(_gradient(1200, 900), "PNG")
    p = decode_image_bytes(png, max_short_side=300)
    assert p.size == (400, 300) and any("resized 1200×900 → 400×300" in n for n in p.notes)
    full = decode_image_bytes(png, max_short_side=900)
    assert not full.downscaled


def test_every_error_names_the_file() -> None:
    for data, needle in (
        (b"plain text" * 20, "not an image"),
        (_encode(_gradient(4, 4), "PNG"), "only 4×4 pixels"),
        (_encode(_gradient(256, 256), "PNG")[:300], "truncated or corrupt"),
    ):
        with pytest.raises(InputError) as info:
            decode_image_bytes(data, name="holiday 3.png")
        assert info.value.message.startswith("“holiday 3.png”: "), info.value.message
        assert needle in info.value.message
    with pytest.raises(InputError) as empty:  # already named: not prefixed twice
        decode_image_bytes(b"", name="x.png")
    assert empty.value.message.count("x.png") == 1


def test_float_images_with_nan_are_rescaled_or_refused() -> None:
    a = np.linspace(-1.0, 3.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    a[0, 0] = np.nan
    a[0, 1] = np.inf
    d = decode_image_bytes(_encode(Image.fromarray(a, "F"), "TIFF"))
    assert d.original_mode == "F" and d.conversion is Conversion.MIN_MAX
    assert d.pixels[0, 0, :2].tolist() == [0, 0]  # NaN/inf → the minimum
    finite = np.isfinite(a)
    lo, hi = float(a[finite].min()), float(a[finite].max())
    want = np.round((np.where(finite, a, lo).astype(np.float64) - lo) / (hi - lo) * 255)
    assert torch.equal(d.pixels[0], torch.from_numpy(want.astype(np.uint8)))
    assert int(d.pixels[0, -1, -1]) == 255 and torch.equal(d.pixels[0], d.pixels[2])
    assert any("2 NaN/infinite pixel(s)" in n for n in d.notes)
    nan = _encode(Image.fromarray(np.full((16, 16), np.nan, np.float32), "F"), "TIFF")
    _fails(nan, "NaN or infinite")


def test_conversion_kind_is_recorded_for_the_export() -> None:
    assert decode_image_bytes(_encode(_gradient(), "PNG")).conversion is Conversion.RGB
    assert decode_image_bytes(_encode(_gradient().convert("L"), "PNG")).conversion is Conversion.RGB
    rgba = decode_image_bytes(_encode(_gradient().convert("RGBA"), "PNG"))
    assert rgba.conversion is Conversion.ON_WHITE
    a16 = Image.fromarray(np.full((16, 16), 40000, dtype=np.uint16))
    assert decode_image_bytes(_encode(a16, "PNG")).conversion is Conversion.SCALE_16

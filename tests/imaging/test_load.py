"""Safe loading: every mode to RGB, orientation, first frames, limits, broken data, and
the ways an image can be handed to us (path, bytes, base64, data: URL)."""

from __future__ import annotations

import base64
import os
import random
from datetime import datetime, timezone

import pytest
from PIL import Image

from vlagent.imaging import errors
from vlagent.imaging.load import Limits, load_any, load_bytes, load_path, read_file
from vlagent.samples import (
    animated_gif,
    encoded,
    exif_rotated_jpeg,
    photo_like,
    png16_gradient,
    png_declaring,
    write_bad_inputs,
)


def close(px, want, tol=12):
    return all(abs(a - b) <= tol for a, b in zip(px, want))


# --- modes -----------------------------------------------------------------------------
def test_rgba_is_composited_on_white():
    img = Image.new("RGBA", (20, 10), (255, 0, 0, 0))  # fully transparent red
    img.paste((0, 0, 255, 255), (10, 0, 20, 10))  # opaque blue on the right
    out = load_bytes(encoded(img, "PNG"))
    assert out.mode == "RGBA" and out.image.mode == "RGB"
    assert out.image.getpixel((2, 5)) == (255, 255, 255)
    assert out.image.getpixel((15, 5)) == (0, 0, 255)


def test_la_and_palette_with_transparency():
    la = Image.new("LA", (8, 8), (0, 0))  # transparent black → white
    assert load_bytes(encoded(la, "PNG")).image.getpixel((1, 1)) == (255, 255, 255)
    p = Image.new("P", (8, 8), 1)
    p.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    p.paste(0, (0, 0, 4, 8))
    data = encoded(p, "PNG", transparency=0)
    out = load_bytes(data)
    assert out.mode == "P"
    assert out.image.getpixel((1, 1)) == (255, 255, 255)  # transparent index → white
    assert out.image.getpixel((6, 1)) == (200, 30, 30)


def test_cmyk_jpeg_becomes_rgb():
    img = Image.new("CMYK", (40, 30), (0, 255, 255, 0))  # pure red in CMYK
    out = load_bytes(encoded(img, "JPEG", quality=95))
    assert out.mode == "CMYK" and out.format == "JPEG"
    assert close(out.image.getpixel((20, 15)), (255, 0, 0), tol=20)


def test_16bit_png_is_scaled_not_clipped():
    out = load_bytes(png16_gradient(256, 4))
    assert out.mode.startswith("I;16")
    row = [out.image.getpixel((x, 1))[0] for x in (0, 64, 128, 255)]
    # A plain convert("L") would clip every value above 255 to white.
    assert row == [0, 64, 128, 255]


def test_float_and_int32_modes():
    f = Image.new("F", (4, 1))
    f.putdata([-1.0, 0.0, 0.5, 1.0])
    out = load_bytes(encoded(f, "TIFF"))
    assert [out.image.getpixel((x, 0))[0] for x in range(4)] == [0, 128, 191, 255]
    i = Image.new("I", (3, 1))
    i.putdata([0, 100, 255])
    assert [load_bytes(encoded(i, "TIFF")).image.getpixel((x, 0))[0] for x in range(3)] == [0, 100, 255]


def test_bilevel_and_grey():
    one = Image.new("1", (8, 8), 1)
    assert load_bytes(encoded(one, "PNG")).image.getpixel((0, 0)) == (255, 255, 255)
    grey = Image.new("L", (8, 8), 77)
    assert load_bytes(encoded(grey, "PNG")).image.getpixel((0, 0)) == (77, 77, 77)


def test_animated_gif_gives_first_frame():
    out = load_bytes(animated_gif())
    assert out.frames == 3
    assert out.image.getpixel((5, 5)) == (255, 0, 0)


def test_exif_orientation_applied_and_capture_time_read():
    out = load_bytes(exif_rotated_jpeg(6))
    # Stored 80x40 (red left, blue right); orientation 6 → upright 40x80, red on top.
    assert out.image.size == (40, 80) and (out.width, out.height) == (40, 80)
    assert close(out.image.getpixel((20, 10)), (220, 20, 20), tol=30)
    assert close(out.image.getpixel((20, 70)), (20, 20, 220), tol=30)
    assert out.taken_at == datetime(2021, 2, 3, 4, 5, 6).timestamp()
    flipped = load_bytes(exif_rotated_jpeg(3, taken=None))  # 180°: blue now on the left
    assert flipped.image.size == (80, 40) and flipped.taken_at is None  # DateTime alone is not a capture time
    assert close(flipped.image.getpixel((10, 20)), (20, 20, 220), tol=30)


def test_capture_time_with_its_utc_offset():
    out = load_bytes(exif_rotated_jpeg(1, taken="2021:02:03 04:05:06", offset="+08:00"))
    assert out.taken_at == datetime(2021, 2, 2, 20, 5, 6, tzinfo=timezone.utc).timestamp()


# --- reduced decoding (thumbnails) -----------------------------------------------------
def test_reduce_to_keeps_the_full_size_and_orientation():
    big = photo_like(2400, 1600, seed=3)
    jpeg = load_bytes(encoded(big, "JPEG", quality=85), reduce_to=640)
    assert (jpeg.width, jpeg.height) == (2400, 1600)
    assert 640 <= max(jpeg.image.size) < 1280  # DCT-scaled, never below the target
    png = load_bytes(encoded(big, "PNG", compress_level=1), reduce_to=640)
    assert png.image.size == (800, 534)  # reduced by 3
    rotated = load_bytes(exif_rotated_jpeg(6), reduce_to=16)
    assert (rotated.width, rotated.height) == (40, 80)
    assert rotated.image.size[1] > rotated.image.size[0]
    # A palette image is converted before reducing (reducing palette indices would be noise).
    p = Image.new("P", (400, 400), 1)
    p.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    assert load_bytes(encoded(p, "PNG"), reduce_to=100).image.getpixel((5, 5)) == (10, 200, 10)


# --- limits and broken data -------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # pytest resets our module filter
def test_decompression_bomb_header_refused_before_decoding():
    with pytest.raises(errors.TooManyPixels) as e:
        load_bytes(png_declaring(30000, 30000), name="bomb.png")
    assert "bomb.png" in str(e.value) and "decompression bomb" in str(e.value)
    # Below PIL's own hard stop, our configurable limit decides.
    with pytest.raises(errors.TooManyPixels, match="12,000x12,000|12000x12000"):
        load_bytes(png_declaring(12000, 12000))
    small = encoded(Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(errors.TooManyPixels, match="over the limit of 9,999"):
        load_bytes(small, Limits(max_pixels=9999))
    assert load_bytes(small, Limits(max_pixels=10000)).width == 100


def test_byte_limit_on_bytes_and_files(tmp_path):
    data = encoded(Image.new("RGB", (50, 50)), "PNG")
    with pytest.raises(errors.TooLarge):
        load_bytes(data, Limits(max_bytes=len(data) - 1))
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:  # sparse: refused from its size, never read
        f.truncate(300 * 1024 * 1024)
    with pytest.raises(errors.TooLarge, match="over the limit"):
        read_file(huge)


@pytest.mark.parametrize("key,err,words", [
    ("empty", errors.EmptyFile, "empty (0 bytes)"),
    ("truncated_png", errors.CorruptImage, "truncated"),
    ("truncated_jpeg", errors.CorruptImage, "truncated"),
    ("not_an_image", errors.NotAnImage, "looks like a text file"),
    ("bomb", errors.TooManyPixels, "decompression bomb"),
])
def test_bad_files_raise_typed_errors(tmp_path, key, err, words):
    path = write_bad_inputs(tmp_path)[key]
    with pytest.raises(err) as e:
        load_path(path)
    assert str(path) in str(e.value) and words in str(e.value)
    assert e.value.code == err.code


def _interlaced_png(img: Image.Image) -> bytes:
    """An Adam7-interlaced RGB PNG (Pillow only reads them), written by hand."""
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    w, h = img.size
    px = img.convert("RGB").load()
    rows = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        for y in range(y0, h, dy):
            if x0 < w:
                rows += b"\0" + bytes(c for x in range(x0, w, dx) for c in px[x, y])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("interlaced", [False, True])
def test_truncated_png_reason_is_about_the_file_not_the_decoder(interlaced):
    """A truncated interlaced PNG used to read "corrupt image data (function takes at most 3
    arguments (4 given))": reading EXIF had loaded (and failed) once already, and PIL's
    second try tripped over its own half-set-up state."""
    img = photo_like(120, 80, seed=3)
    data = _interlaced_png(img) if interlaced else encoded(img, "PNG")
    assert load_bytes(data).image.tobytes() == img.convert("RGB").tobytes()  # whole, it reads right
    for cut in (41, 60, len(data) // 2):
        with pytest.raises(errors.CorruptImage) as e:
            load_bytes(data[:cut], name="cut.png")
        assert str(e.value).startswith("cut.png: truncated image data (image file is truncated"), (cut, str(e.value))


def test_special_files_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(errors.NotAnImage, match="not a regular file"):
        read_file(fifo)  # a blocking open() would hang here forever
    with pytest.raises(errors.NotAnImage, match="is a directory"):
        read_file(tmp_path)
    with pytest.raises(errors.FileVanished, match="no such file"):
        read_file(tmp_path / "nope.png")


# --- inputs: path, bytes, base64, data: URL ----------------------------------------------
def _png_whose_base64_has_a_slash() -> tuple[bytes, str]:
    rng = random.Random(1)
    while True:
        img = Image.new("RGB", (6, 6), tuple(rng.randrange(256) for _ in range(3)))
        data = encoded(img, "PNG")
        text = base64.b64encode(data).decode()
        if "/" in text:
            return data, text


def test_load_any_dispatches_every_kind_of_input(tmp_path):
    data, b64 = _png_whose_base64_has_a_slash()
    path = tmp_path / "a.png"
    path.write_bytes(data)
    want = load_bytes(data).sha256
    for source in (data, path, str(path), b64, b64[:40] + "\n" + b64[40:], f"data:image/png;base64,{b64}",
                   base64.urlsafe_b64encode(data).decode()):
        assert load_any(source).sha256 == want, source if isinstance(source, str) else type(source)


def test_load_any_refusals(tmp_path):
    with pytest.raises(errors.NotAnImage, match="text/plain"):
        load_any("data:text/plain;base64,aGVsbG8=")
    with pytest.raises(errors.BadInput):
        load_any("data:image/png;base64")  # no comma
    with pytest.raises(errors.URLNotAllowed, match="'file'"):
        load_any("file:///etc/passwd")
    with pytest.raises(errors.URLNotAllowed, match="'ftp'"):
        load_any("ftp://example.com/x.png")
    with pytest.raises(errors.FileVanished, match="no such file"):
        load_any(str(tmp_path / "missing.png"))
    with pytest.raises(errors.NotAnImage):
        load_any(base64.b64encode(b"just some words, not an image at all").decode())
    with pytest.raises(errors.BadInput):
        load_any("   ")

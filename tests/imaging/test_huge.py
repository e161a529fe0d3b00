"""Huge images and files that claim to be huge: the pixel limits bound the *work*. A file too
small to hold the pixels its header claims is refused (and recorded so by `index`); OCR
reads a huge image a band at a time and thumbnails never copy it whole."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from vlagent.imaging import errors
from vlagent.imaging.load import load_bytes
from vlagent.imaging.plausible import least_bytes
from vlagent.imaging.thumbnails import make_thumbnail
from vlagent.ocr.imageprep import plan_chunks
from vlagent.samples import encoded, font, png_declaring, text_image


def jpeg_declaring(width: int, height: int, **save_kw) -> bytes:
    """A real 16x16 JPEG whose frame header is rewritten to claim ``width`` x ``height``:
    libjpeg pads the missing blocks with grey without an error."""
    data = bytearray(encoded(Image.new("RGB", (16, 16), (200, 30, 30)), "JPEG", **save_kw))
    i = 2
    while data[i + 1] not in (0xC0, 0xC2):
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def engine(cjk_font_path):
    from vlagent.ocr.rapid import RapidOcrEngine

    eng = RapidOcrEngine()
    eng.warm_up()
    return eng


# --- files too small for the pixels they claim --------------------------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # pytest resets vlagent's filter
@pytest.mark.parametrize("make,fmt", [(png_declaring, "PNG"), (jpeg_declaring, "JPEG"),
                                      (lambda w, h: jpeg_declaring(w, h, progressive=True), "JPEG")],
                         ids=["png", "jpeg", "progressive-jpeg"])
def test_a_tiny_file_claiming_100_megapixels_is_refused_from_its_header(make, fmt):
    data = make(10000, 10000)
    assert len(data) < 1000 and Image.open(io.BytesIO(data)).size == (10000, 10000)
    with pytest.raises(errors.CorruptImage) as e:
        load_bytes(data, name="claim.img")
    msg = str(e.value)
    assert msg.startswith("claim.img: truncated image data")
    assert f"{len(data):,} bytes cannot hold 10000x10000 pixels" in msg and f"a {fmt} that size needs" in msg
    # Within the pixel limit, so only the size check stands between it and a 100 MP decode.
    assert 10000 * 10000 < 120_000_000


def test_real_flat_images_near_the_floor_are_accepted():
    """The floors are what the formats' coding cannot beat, not guesses: real images that
    compress as well as anything can still pass, and the floor is close to them."""
    cases = [
        (encoded(Image.new("1", (4000, 4000), 1), "PNG", optimize=True), "PNG"),
        (encoded(Image.new("L", (4000, 4000), 255), "PNG", optimize=True), "PNG"),
        (encoded(Image.new("RGBA", (3000, 3000), (0, 0, 0, 0)), "PNG", optimize=True), "PNG"),
        (encoded(Image.new("L", (4000, 4000), 255), "JPEG", optimize=True), "JPEG"),
        (encoded(Image.new("RGB", (4000, 4000), "white"), "JPEG", optimize=True, progressive=True), "JPEG"),
    ]
    for data, fmt in cases:
        least = least_bytes(fmt, data)
        assert least is not None and least <= len(data) < 4 * least, (fmt, least, len(data))
        assert load_bytes(data, reduce_to=64).width in (3000, 4000)
    assert least_bytes("WEBP", encoded(Image.new("RGB", (64, 64)), "WEBP")) is None  # no floor: not judged


def test_index_records_the_claiming_file_as_failed_with_its_reason(cli, tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    (pics / "claim.png").write_bytes(png_declaring(10000, 10000))
    text_image("A normal picture").save(pics / "normal.png")
    proc = cli("index", pics, "--no-ocr", "--json")
    assert proc.returncode in (0, 23), proc.stderr_text  # 23: some files failed (as rsync)
    summary = json.loads(proc.stdout_text)
    assert (summary["new"], summary["failed"]) == (1, 1)
    (failure,) = summary["failures"]
    assert Path(failure["path"]).name == "claim.png" and failure["type"] == "corrupt"
    assert "cannot hold 10000x10000 pixels" in failure["error"]


# --- OCR and thumbnails of huge images: bounded pieces ------------------------------------
def spy_on_bgr(monkeypatch) -> list[tuple[int, int]]:
    """Record the size of every image OCR turns into a full-size BGR array."""
    import vlagent.ocr.rapid as rapid

    sizes: list[tuple[int, int]] = []
    real = rapid.to_bgr

    def spy(image):
        sizes.append(image.size)
        return real(image)

    monkeypatch.setattr(rapid, "to_bgr", spy)
    return sizes


def test_ocr_reads_a_huge_image_in_bounded_bands_without_losing_or_repeating_lines(engine, monkeypatch):
    budget, overlap = 3_000_000, 160
    width, height = 4000, 4000
    bands = plan_chunks(width, height, max_pixels=budget, overlap=overlap)
    assert len(bands) >= 6
    img = Image.new("RGB", (width, height), (248, 248, 248))
    d = ImageDraw.Draw(img)
    truth = {}
    rows = [int(b.keep0) - 17 for b in bands[1:]]  # across each cut between two bands' shares
    rows += [b.y1 - 30 for b in bands[:-1]]  # cut off at the bottom edge of a band
    rows += [(b.y0 + b.y1) // 2 for b in bands]  # well inside
    for i, y in enumerate(sorted(rows)):
        text = f"Row {y} line {i}"
        d.text((300 + 900 * (i % 4), y), text, fill=(25, 25, 25), font=font(28))
        truth[text] = y
    sizes = spy_on_bgr(monkeypatch)
    result = engine.variant(chunk_pixels=budget, chunk_overlap=overlap).recognize(img)
    assert len(sizes) == len(bands) and all(w * h <= budget for w, h in sizes)
    assert sorted(line.text for line in result.lines) == sorted(truth)  # each line once
    for line in result.lines:  # boxes in the whole image's coordinates
        top = line.bounds[1]
        assert abs(top - truth[line.text]) < 20, (line.text, line.bounds)


def test_an_image_within_the_budget_is_read_whole(engine, monkeypatch):
    img = text_image("Read in one piece 42", size=(1920, 1080))
    sizes = spy_on_bgr(monkeypatch)
    result = engine.recognize(img)
    assert sizes == [(1920, 1080)] and "chunks" not in result.timings
    assert result.text == "Read in one piece 42"


def test_a_huge_image_too_wide_for_bands_is_narrowed(engine, monkeypatch):
    img = Image.new("RGB", (9000, 900), "white")
    ImageDraw.Draw(img).text((6000, 400), "Far right 77", fill="black", font=font(96))
    sizes = spy_on_bgr(monkeypatch)
    result = engine.variant(chunk_pixels=2_000_000, chunk_overlap=160).recognize(img)
    assert sizes and all(w * h <= 2_000_000 for w, h in sizes)
    assert result.text == "Far right 77"
    left, top, right, bottom = result.lines[0].bounds
    assert 5900 < left < 6100 and 380 < top < 460  # in the original image's coordinates


def test_a_thumbnail_of_a_huge_image_never_copies_it_whole(monkeypatch):
    copied: list[tuple[int, int]] = []
    real_copy = Image.Image.copy

    def spy(self):
        copied.append(self.size)
        return real_copy(self)

    monkeypatch.setattr(Image.Image, "copy", spy)
    big = Image.new("RGB", (6000, 4000), (10, 120, 200))
    thumb = make_thumbnail(big, 320)
    assert thumb.size == (320, 213) and thumb.getpixel((100, 100)) == (10, 120, 200)
    assert all(w * h < 1_000_000 for w, h in copied)

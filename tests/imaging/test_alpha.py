"""Transparent images: light text on a clear background (exported UI elements, logos,
stickers) must not vanish onto white. One mechanism (vlagent.imaging.load.flatten) serves
OCR, thumbnails and the model; real OCR reads what it produces."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from vlagent.eval.metrics import cer
from vlagent.imaging.load import flatten, flatten_background, load_bytes, to_rgb
from vlagent.imaging.thumbnails import make_thumbnail
from vlagent.samples import encoded, font, text_image

WHITE, BLACK = (255, 255, 255), (0, 0, 0)
TEXTS = {"en": ["Export settings 42", "Upload complete"], "zh": ["导出设置已完成", "上传文件成功"]}


def clear_text(lines: list[str], colour: tuple[int, int, int], font_size: int = 32) -> Image.Image:
    """Text in ``colour`` on a fully transparent background, as design tools export it: one
    colour throughout, the glyphs' coverage in the alpha channel."""
    coverage = ImageOps.invert(text_image(lines, font_size=font_size).convert("L"))
    img = Image.new("RGBA", coverage.size, (*colour, 0))
    img.putalpha(coverage)
    return img


@pytest.fixture(scope="module")
def engine(cjk_font_path):
    from vlagent.ocr.rapid import RapidOcrEngine

    eng = RapidOcrEngine()
    eng.warm_up()
    return eng


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("colour", [WHITE, BLACK, (255, 214, 0)], ids=["white", "black", "yellow"])
def test_text_on_a_clear_background_is_read_whatever_its_colour(engine, lang, colour):
    lines = TEXTS[lang]
    data = encoded(clear_text(lines, colour), "PNG")
    loaded = load_bytes(data)
    assert loaded.mode == "RGBA"
    # The loaded image (what the OCR job reads) and the RGBA image handed to OCR directly.
    for image in (loaded.image, Image.open(io.BytesIO(data))):
        text = engine.recognize(image).text
        assert cer("\n".join(lines), text) <= 0.05, (colour, text)


def test_light_content_goes_on_black_dark_content_stays_on_white():
    assert flatten_background(clear_text(["Save"], WHITE)) == BLACK
    assert flatten_background(clear_text(["Save"], (230, 230, 230))) == BLACK
    assert flatten_background(clear_text(["Save"], BLACK)) == WHITE
    assert flatten_background(clear_text(["Save"], (128, 128, 128))) == WHITE  # mid tones: as before
    assert flatten_background(Image.new("RGBA", (20, 20), (255, 255, 255, 0))) == WHITE  # nothing visible
    assert flatten_background(Image.new("RGBA", (20, 20), (255, 255, 255, 255))) == WHITE  # nothing clear
    out = to_rgb(clear_text(["Save"], WHITE))
    assert out.getpixel((1, 1)) == BLACK and out.convert("L").getextrema()[1] == 255


def test_a_light_window_with_a_drop_shadow_stays_on_white():
    """A window screenshot with its shadow (macOS): the light window's outline is the dark
    shadow, so the clear margin stays white, as it always was."""
    img = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for r in range(20, 0, -1):
        d.rounded_rectangle([30 - r, 30 - r, 370 + r, 270 + r], 8, fill=(0, 0, 0, int(90 * (1 - r / 20))))
    d.rectangle([30, 30, 370, 270], fill=(250, 250, 250, 255))
    d.text((50, 50), "Window", fill="black", font=font(24))
    assert flatten_background(img) == WHITE
    assert to_rgb(img).getpixel((2, 2)) == WHITE


def test_thumbnail_shows_light_text_on_a_clear_background():
    data = encoded(clear_text(["Export settings 42"] * 6, WHITE, font_size=40), "PNG")
    loaded = load_bytes(data, reduce_to=160)  # as ingest loads it for its thumbnail
    thumb = np.asarray(make_thumbnail(loaded.image, 160).convert("L"))
    assert thumb[0, 0] < 10  # the clear margin is dark...
    assert (thumb > 200).mean() > 0.02  # ...and the text on it is light: visible


def test_the_model_gets_the_same_flattening():
    torch = pytest.importorskip("torch")
    from vlagent.vlm.preprocess import resized_pixels

    img = clear_text(["Export settings 42"], WHITE)
    pixels = resized_pixels(img, 56, 280)
    assert pixels.dtype == torch.uint8
    assert pixels[:, 0, 0].tolist() == [0, 0, 0]  # background black behind the white text
    assert int(pixels.max()) > 200


def test_flattening_in_strips_equals_compositing_the_whole_image(monkeypatch):
    """Huge images are flattened a strip of rows at a time; strip edges must not show, nor
    change the choice of background."""
    import vlagent.imaging.load as load

    img = clear_text(["Strip edge test 0123456789 " * 3] * 12, WHITE, font_size=36)
    whole = Image.alpha_composite(Image.new("RGBA", img.size, (0, 0, 0, 255)), img).convert("RGB")
    monkeypatch.setattr(load, "_STRIP_PIXELS", img.width * 7)  # strips of 7 rows
    assert len(list(load._strips(img))) > 20
    assert flatten_background(img) == BLACK
    ours = np.asarray(flatten(img), dtype=int)
    assert np.abs(ours - np.asarray(whole, dtype=int)).max() <= 1

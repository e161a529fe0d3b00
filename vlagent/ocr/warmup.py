"""A small image with a word on it, for loading the OCR models before the first real image
(RapidOCR logs a warning about an empty page, so it must carry some text)."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont


def warmup_image(text: str = "vlagent", font_size: int = 20, margin: int = 6) -> Image.Image:
    font = ImageFont.load_default(size=font_size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    img = Image.new("RGB", (int(right - left) + 2 * margin, int(bottom - top) + 2 * margin), "white")
    ImageDraw.Draw(img).text((margin - left, margin - top), text, fill="black", font=font)
    return img

"""Light mode: a smaller image plus the OCR text, for screenshots that are mostly text.

A 1080p screenshot is ~1,000 visual tokens at the default ``vlm.max_pixels``: on a CPU the
vision encoder and the prefill of those tokens cost a minute or more before the first word.
When OCR has already read the text (it runs on every indexed image), the model can be given
the image at ``vlm.light_max_pixels`` (256 visual tokens by default: the layout, the colours,
the pictures) and the text as text. The answer starts several times sooner; the price is that
the model reads small print through OCR's eyes (OCR errors pass through, and the link
between a word and where it sits on screen is weaker).

``vlm.light_mode``: ``off``; ``on`` whenever OCR text exists; ``auto`` when OCR found at
least :data:`AUTO_MIN_CHARS` characters (a text-heavy image).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from vlagent.vlm.base import ChatMessage, GenerationOptions
from vlagent.vlm.prompts import language

if TYPE_CHECKING:
    from vlagent.settings import Settings

AUTO_MIN_CHARS = 200  # "auto": OCR text at least this long makes an image text-heavy
MAX_OCR_CHARS = 6000  # beyond this the text costs more tokens than the pixels it replaces
LEAD = {
    "en": "The text in this image, as read by OCR (line by line; it may contain errors):\n{text}\n\n",
    "zh": "图中的文字（OCR 逐行识别，可能有误）：\n{text}\n\n",
}


def applies(settings: Settings, ocr_text: str | None) -> bool:
    mode = settings.view.vlm.light_mode
    text = (ocr_text or "").strip()
    if mode == "on":
        return bool(text)
    if mode == "auto":
        return len(text) >= AUTO_MIN_CHARS
    return False


def lead(settings: Settings, ocr_text: str) -> str:
    """The text that goes before the prompt or question: the OCR text, introduced."""
    text = ocr_text.strip()
    if len(text) > MAX_OCR_CHARS:
        text = text[:MAX_OCR_CHARS] + " …"
    return LEAD.get(language(settings), LEAD["en"]).format(text=text)


def light_options(settings: Settings, opts: GenerationOptions) -> GenerationOptions:
    """``opts`` with the image budget lowered to ``vlm.light_max_pixels`` (an explicit size is dropped)."""
    budget = settings.view.vlm.light_max_pixels
    return dataclasses.replace(opts, max_pixels=max(opts.min_pixels, min(opts.max_pixels, budget)),
                               resized_height=0, resized_width=0)


def lighten(settings: Settings, messages: list[ChatMessage], opts: GenerationOptions,
            ocr_text: str | None) -> tuple[list[ChatMessage], GenerationOptions, bool]:
    """The conversation in light mode when it applies: the OCR text goes at the start of the
    text of the message holding the images (so it stays put turn after turn, and a prefill
    of that message covers it), and the image budget drops. Returns (messages, options, applied)."""
    if not applies(settings, ocr_text):
        return messages, opts, False
    k = next((i for i, m in enumerate(messages) if m.images), None)
    if k is None:
        return messages, opts, False
    out = list(messages)
    out[k] = ChatMessage(out[k].role, lead(settings, ocr_text or "") + out[k].text, out[k].images)
    return out, light_options(settings, opts), True

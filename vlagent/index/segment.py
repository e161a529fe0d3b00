"""CJK-aware text segmentation for the full-text index.

FTS5's unicode61 tokenizer treats a run of Chinese/Japanese characters as one token, so
``小狗`` never matches inside ``图片中有一只小狗站在雪地上``. We index CJK text one
character per token by inserting a separator (U+2060, declared as a separator in the
FTS table) between CJK characters; a query ``小狗`` becomes the phrase ``"小⁠狗"``, which
matches the two characters adjacent, in order. Latin words are left as words.
"""

from __future__ import annotations

import re

SEP = "\u2060"

# Han (incl. extensions and compatibility), kana, Hangul syllables, CJK punctuation, fullwidth forms.
_CJK_RANGES = (
    "\u2e80-\u2fdf"  # radicals
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3100-\u312f"  # bopomofo
    "\u31f0-\u31ff"  # katakana extensions
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\uff00-\uffef"  # half/fullwidth forms
    "\U00020000-\U0003134f"  # extensions B–H
)
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")
_CJK_BOUNDARY = re.compile(f"(?<=[{_CJK_RANGES}])|(?=[{_CJK_RANGES}])")


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def segment(text: str) -> str:
    """Text as stored in the FTS index: a separator around every CJK character."""
    if not text or not has_cjk(text):
        return text or ""
    out = _CJK_BOUNDARY.sub(SEP, text)
    # Collapse doubled separators and trim those at the very ends.
    return re.sub(f"{SEP}+", SEP, out).strip(SEP)


def unsegment(text: str) -> str:
    """Undo :func:`segment` (used on snippets)."""
    return text.replace(SEP, "")

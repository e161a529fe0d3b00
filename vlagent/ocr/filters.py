"""Readings that are not text: toolbar and tray icons read as CJK characters.

The recogniser knows only characters, so a pictogram on its own comes out as the character
it most resembles — a document icon as 目, a grid as 田, a chat bubble as 口, a hamburger
menu as 三 — and a one-character Chinese search then matches screenshots that hold no
Chinese at all.

A reading is taken for an icon when all of these hold:

- it is one CJK character, on its own: the detector found nothing else in its box (a
  character within a word or a line is never judged here, however short the line);
- its box is about square (a glyph alone: not an icon and its label read as one box);
- the recogniser was not near-certain of it (``min_score``), neither on the first reading
  nor on a second one with room around the glyph, which a real character in a tight crop
  (beside a button's edge, an icon swallowed by its box) reads better with, and an icon
  does not.

Measured on generated desktops (``bench/ocr_icons.py``: toolbar, taskbar and tray icons beside
real one-character labels such as 中, 是, 文, 件; tuned on seeds 0–39, reported on 100–123):
of the one-character CJK readings, 56% were real before and 92% after; 98.5% of the real ones
are kept (a 12 px 删 reads at 0.5–0.8 however often it is read). Icons that look exactly like
a character (a document icon's lines are 目, nine dots read as 斑) can read just as surely
and stay. An icon read in one box with its label ("目 Save", "十印") is not judged here.
"""

from __future__ import annotations

from collections.abc import Callable

from vlagent.ocr.base import OcrLine

# CJK ideographs: unified (with extensions A and B–) and compatibility ideographs.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


def is_cjk_char(text: str) -> bool:
    """True for one CJK ideograph."""
    if len(text) != 1:
        return False
    code = ord(text)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def icon_candidate(line: OcrLine, *, min_score: float, max_aspect: float) -> bool:
    """One CJK character alone in an about-square box, read with a score under ``min_score``."""
    if not is_cjk_char(line.text) or line.score >= min_score:
        return False
    left, top, right, bottom = line.bounds
    w, h = right - left, bottom - top
    return w > 0 and h > 0 and max(w / h, h / w) <= max_aspect


def drop_icon_readings(lines: list[OcrLine], second_look: Callable[[list[OcrLine]], list[tuple[str, float]]],
                       *, min_score: float, max_aspect: float) -> list[OcrLine]:
    """``lines`` without the readings of icons (see the module's docstring). ``second_look``
    reads the candidates again, with room around them: one (text, score) per candidate."""
    candidates = [line for line in lines if icon_candidate(line, min_score=min_score, max_aspect=max_aspect)]
    if not candidates:
        return lines
    icons = {id(line) for line, (text, score) in zip(candidates, second_look(candidates))
             if text != line.text or score < min_score}
    return [line for line in lines if id(line) not in icons]

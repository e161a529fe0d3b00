"""Text as the full-text index sees it: normalised, with Chinese/Japanese/Korean cut into n-grams.

FTS5's unicode61 tokenizer treats a run of CJK characters as one token, so ``小狗`` never
matches inside ``图片中有一只小狗站在雪地上``; ``trigram`` needs 3+ characters. We hand FTS5
text in which every CJK run is already cut:

- in place of the run, its overlapping **bigrams** (``小狗站`` → ``小狗 狗站``); a run of one
  character stays itself. A 2-character query is one bigram token; a longer one is a phrase
  of consecutive bigrams, which matches exactly the original substring;
- after the text, each CJK **character** of the longer runs once (the *tail*), so a
  1-character query is one token too.

Every other character is left to unicode61 (words of letters and digits). Before that, text is
normalised the same way for the index, for queries and for snippets (:func:`normalize`):
NFKC (fullwidth ``ＡＢＣ`` → ``ABC``, halfwidth kana → fullwidth, compatibility ideographs →
unified), lower case, Latin/Greek/Cyrillic diacritics removed (kana voicing marks are kept:
``が`` ≠ ``か``), private-use characters removed (they mark the index's filter tokens).
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Letters and digits of the scripts written without spaces (after NFKC): Han (with 々 〆 〇,
# Hangzhou numerals, extensions, compatibility ideographs), hiragana, katakana (with ー),
# bopomofo, Hangul. Punctuation in these blocks (、。・「」…) is not included: it separates.
CJK = (
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u303b\u303c"
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3105-\u312f\u31a0-\u31bf"
    "\u1100-\u11ff\u3131-\u318e\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
# Kana voicing marks attach to the character before them when NFKC could not compose them.
_CJK_CHAR = f"[{CJK}][\u3099\u309a]*"
_CJK_RUN = re.compile(f"(?:{_CJK_CHAR})+")
_CJK_ANY = re.compile(f"[{CJK}]")
_CJK_CHARS = re.compile(_CJK_CHAR)
_VOICING = re.compile("[\u3099\u309a]")
# A word for unicode61 (and for our snippets): letters and digits, with combining marks.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(f"(?:(?![{CJK}])[^\\W_]|[{_MARKS}])+")
_DROP = {c: None for r in (range(0x300, 0x370), range(0x1AB0, 0x1B00), range(0x1DC0, 0x1E00),
                           range(0x20D0, 0x2100), range(0xFE20, 0xFE30), range(0xE000, 0xF900))
         for c in r}


def normalize(text: str) -> str:
    """NFKC, lower case, no Latin/Greek/Cyrillic diacritics, no private-use characters."""
    if text.isascii():
        return text.lower()
    t = unicodedata.normalize("NFKC", text).lower()
    if t.isascii():
        return t
    # NFD splits é into e + U+0301; dropping the mark and recomposing keeps Hangul and kana intact.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", t).translate(_DROP))


def has_cjk(text: str) -> bool:
    return _CJK_ANY.search(text) is not None


def chars(run: str) -> str | list[str]:
    """The characters of a CJK run (a voicing mark NFKC could not compose stays with its character)."""
    return _CJK_CHARS.findall(run) if _VOICING.search(run) else run


def bigrams(run: str) -> str:
    """``小狗站`` → ``小狗 狗站``; one character stays itself."""
    cs = chars(run)
    if len(cs) == 1:
        return cs[0]
    return " ".join([cs[i] + cs[i + 1] for i in range(len(cs) - 1)])


def index_text(text: str) -> str:
    """What the index stores for ``text``: normalised, CJK runs as bigrams, then the tail."""
    t = normalize(text)
    if not has_cjk(t):
        return t
    runs: list[str | list[str]] = []

    def cut(m: re.Match[str]) -> str:
        run = m.group()
        if len(run) > 1:
            runs.append(chars(run))
        return f" {bigrams(run)} "

    body = _CJK_RUN.sub(cut, t)
    if not runs:
        return body
    return body + "\n" + " ".join(dict.fromkeys(c for cs in runs for c in cs))


class Token(NamedTuple):
    start: int  # span in the original text
    end: int
    norm: str  # normalised form, as the index has it
    cjk: bool  # one CJK character


def tokens(text: str) -> list[Token]:
    """The words and CJK characters of ``text`` with their spans in it (for snippets and queries)."""
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        piece = m.group()
        norm = normalize(piece)
        if _CJK_ANY.match(norm) and len(norm) <= 2:  # a CJK character (halfwidth kana may grow a mark)
            out.append(Token(m.start(), m.end(), norm, True))
            continue
        # NFKC can turn one original word into several (½ → 1⁄2) or into CJK (㍿ → 株式会社).
        for sub in _NORM_PIECE.findall(norm):
            out.append(Token(m.start(), m.end(), sub, bool(_CJK_ANY.match(sub))))
    return out


# In the original (un-normalised) text, a CJK character may still be halfwidth kana, a Kangxi
# radical or a compatibility ideograph: NFKC maps those into CJK, so they are characters too.
_ORIG_CJK = f"[{CJK}\u2e80-\u2fdf\uff66-\uff9d][\u3099\u309a\uff9e\uff9f]*"
_TOKEN = re.compile(f"{_ORIG_CJK}|(?:(?!{_ORIG_CJK})[^\\W_]|[{_MARKS}])+")
_NORM_PIECE = re.compile(f"{_CJK_CHAR}|{_WORD.pattern}")

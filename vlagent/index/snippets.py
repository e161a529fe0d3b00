"""Snippets: a window of a hit's original text around what matched, with the matches marked.

Snippets are cut from the original texts (not from the index, which holds normalised
bigrams), so they show exactly what was stored. Matches are found with a regular expression
per query unit (case-insensitive, word boundaries like the index's); a unit the expression
misses (a fullwidth or accented form, say) is looked for again token by token after
normalisation, the way the index compared it.
"""

from __future__ import annotations

import itertools
import re

from vlagent.index.query import Unit
from vlagent.index.search_docs import Doc
from vlagent.index.segment import CJK, Token, chars, has_cjk, normalize, tokens

HL_START, HL_END = "\x02", "\x03"
# Which field a snippet comes from when several match equally well.
FIELD_ORDER = ("ocr", "description", "answers", "names")
ELLIPSIS = "…"
# Matches looked at per unit and field: enough to choose a window, bounded for very common words.
MAX_MATCHES = 40
_NON_WORD = re.compile(r"\W")

_WORD_CHAR = re.compile(rf"(?![{CJK}])[^\W_]")
# Characters two columns wide (East Asian Wide and Fullwidth), for the snippet's width.
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
                   "\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")


def pattern(unit: Unit) -> re.Pattern[str]:
    """A case-insensitive expression for the unit; word boundaries are checked by :func:`find`."""
    parts = []
    prev_cjk = None
    for text, cjk in unit.pieces:
        if prev_cjk is not None:
            parts.append(r"[\W_]+" if not (cjk or prev_cjk) else r"[\W_]*")
        parts.append(re.escape(text))
        prev_cjk = cjk
    return re.compile("".join(parts), re.IGNORECASE)


def find(text: str, units: list[Unit], patterns: list[re.Pattern[str]]) -> list[tuple[int, int, int]]:
    """(start, end, unit index) of every match of the units in ``text``."""
    spans = []
    missed = []
    for i, (unit, pat) in enumerate(zip(units, patterns, strict=False)):
        first_cjk, last_cjk = unit.pieces[0][1], unit.pieces[-1][1]
        found = [(m.start(), m.end(), i) for m in itertools.islice(pat.finditer(text), MAX_MATCHES)
                 if (first_cjk or m.start() == 0 or not _WORD_CHAR.match(text, m.start() - 1))
                 and (last_cjk or unit.prefix or not _WORD_CHAR.match(text, m.end()))]
        spans += found
        if not found:
            missed.append(i)
    if missed:  # a form the expression can't see (fullwidth, accents, ligatures)? Compare tokens.
        norm = normalize(text)
        missed = [i for i in missed if units[i].pieces[0][0] in norm]
        if missed:
            toks = tokens(text)
            for i in missed:
                spans += [(s, e, i) for s, e in _token_matches(toks, units[i])]
    return sorted(spans)


def _token_matches(toks: list[Token], unit: Unit) -> list[tuple[int, int]]:
    want: list[tuple[str, bool, bool]] = []  # (token, cjk, prefix)
    for n, (text, cjk) in enumerate(unit.pieces):
        if cjk:
            want += [(c, True, False) for c in chars(text)]
        else:
            want.append((text, False, unit.prefix and n == len(unit.pieces) - 1))
    out = []
    for i in range(len(toks) - len(want) + 1):
        for k, (w, cjk, prefix) in enumerate(want):
            t = toks[i + k]
            if t.cjk != cjk or not (t.norm.startswith(w) if prefix else t.norm == w):
                break
            if cjk and k and want[k - 1][1] and toks[i + k - 1].end != t.start:
                break  # the characters of a CJK run must be adjacent
        else:
            out.append((toks[i].start, toks[i + len(want) - 1].end))
    return out


def make(doc: Doc, units: list[Unit], width: int, patterns: list[re.Pattern[str]] | None = None) -> tuple[str, str]:
    """(field, snippet): about ``width`` columns from the field of ``doc`` matching most units."""
    patterns = patterns if patterns is not None else [pattern(u) for u in units]
    best = None
    for name in FIELD_ORDER:
        text = doc.text(name)
        if not text.strip():
            continue
        spans = find(text, units, patterns) if units else []
        distinct = len({i for _, _, i in spans})
        if best is None or distinct > best[0]:
            best = (distinct, name, text, spans)
    if best is None:
        return "", ""
    return best[1], cut(best[2], best[3], width)


def _cols(text: str, start: int, end: int) -> int:
    return end - start + len(_WIDE.findall(text, start, end))


def cut(text: str, spans: list[tuple[int, int, int]], width: int) -> str:
    """The window of ``text`` (about ``width`` columns) holding the most distinct matches, marked."""
    if not spans:
        start, end = _snap(text, 0, _forward(text, 0, width), 0, 0)
    else:
        anchor = _best_anchor(text, spans, width)
        anchor_end = next(e for s, e, _ in spans if s == anchor)
        start = _back(text, anchor, width // 4)
        end = max(_forward(text, start, width), anchor_end)
        start, end = _snap(text, start, end, anchor, anchor_end)
    out = [ELLIPSIS if start > 0 else ""]
    pos = start
    for s, e in _merge([(max(s, start), min(e, end)) for s, e, _ in spans if s < end and e > start]):
        out += [text[pos:s], HL_START, text[s:e], HL_END]
        pos = e
    out += [text[pos:end], ELLIPSIS if end < len(text) else ""]
    return "".join(out)


def _best_anchor(text: str, spans: list[tuple[int, int, int]], width: int) -> int:
    """The start of the match that begins the window with the most distinct units (then matches)."""
    reach = width // 2 if has_cjk(text) else width  # in characters, roughly
    if len(spans) == 1:
        return spans[0][0]
    best, best_key = spans[0][0], (-1, -1)
    counts: dict[int, int] = {}
    j = 0
    for i, (s, _, unit) in enumerate(spans):  # a sliding window over the sorted matches
        j = max(j, i)
        while j < len(spans) and spans[j][1] <= s + reach:
            counts[spans[j][2]] = counts.get(spans[j][2], 0) + 1
            j += 1
        key = (len(counts), j - i)
        if key > best_key:
            best, best_key = s, key
        if j > i:
            counts[unit] -= 1
            if not counts[unit]:
                del counts[unit]
    return best


def _forward(text: str, start: int, width: int) -> int:
    """The end of the slice from ``start`` that fills ``width`` columns."""
    end = min(len(text), start + width)
    while end > start and (over := _cols(text, start, end) - width) > 0:
        end -= max(1, over // 2)
    return end


def _back(text: str, end: int, width: int) -> int:
    """The start of the slice ending at ``end`` that fills ``width`` columns."""
    start = max(0, end - width)
    while start < end and (over := _cols(text, start, end) - width) > 0:
        start += max(1, over // 2)
    return start


def _snap(text: str, start: int, end: int, keep_from: int, keep_to: int) -> tuple[int, int]:
    """Move the window's ends off the middle of words (up to 15 characters, never past
    ``keep_from``..``keep_to``) and off spaces."""
    if 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        m = _NON_WORD.search(text, start, min(start + 15, keep_from))
        if m:
            start = m.end()
    if end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        lo = max(keep_to, end - 15)
        k = max((m.start() for m in _NON_WORD.finditer(text, lo, end)), default=None)
        if k is not None:
            end = k
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]

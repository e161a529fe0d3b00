"""Accuracy measures for OCR output: character error rate against a ground truth."""

from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1).

    Bit-parallel (Myers / Hyyrö): one pass over ``b`` with ``a`` held as bit vectors in
    Python ints, so a whole page (thousands of characters) takes milliseconds.
    """
    if not a:
        return len(b)
    if not b:
        return len(a)
    m = len(a)
    full = (1 << m) - 1
    high = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, ch in enumerate(a):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    pv, mv, score = full, 0, m
    for ch in b:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edits needed to turn ``hypothesis`` into ``reference``, per
    reference character. Line breaks count as characters, so reading order matters."""
    if not reference:
        return float(len(hypothesis) > 0)
    return edit_distance(reference, hypothesis) / len(reference)


def cer_unordered(reference_lines: list[str], hypothesis_lines: list[str]) -> float:
    """CER with both sides' lines sorted first: recognition accuracy, ignoring order."""
    return cer("\n".join(sorted(reference_lines)), "\n".join(sorted(hypothesis_lines)))

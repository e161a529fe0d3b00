"""Text quality metrics, CJK-aware.

- Character error rate: (substitutions + deletions + insertions) / reference characters, by
  jiwer's Levenshtein alignment, on text normalised with NFKC and whitespace folding (runs of
  whitespace become one space; spaces next to a CJK character, which Chinese doesn't write, go).
- Word recall: the share of the reference's words found in the output (each counted as often
  as it occurs), Latin words case-folded, every CJK character a word, punctuation ignored.
- BLEU-1..4 and CIDEr(-D): pycocoevalcap's scorers, the ones behind published COCO caption
  numbers. Its PTB tokenizer needs Java, so captions are tokenised here the way it does
  (lower case, punctuation dropped) with CJK text split into characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from vlagent.index.segment import has_cjk

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")  # 42.50, 1,000 and don't stay one word


def is_cjk(ch: str) -> bool:
    return has_cjk(ch) and not unicodedata.category(ch).startswith(("P", "S", "Z"))


def normalize(text: str) -> str:
    """NFKC, whitespace folded to single spaces, no spaces beside CJK characters."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()
    if not has_cjk(text):
        return text
    out = []
    for i, ch in enumerate(text):
        if ch == " " and (is_cjk(text[i - 1]) or is_cjk(text[i + 1])):
            continue
        out.append(ch)
    return "".join(out)


def words(text: str) -> list[str]:
    """Words for recall and captions: case-folded Latin words and numbers, one per CJK character."""
    out: list[str] = []
    for run in _split_cjk(unicodedata.normalize("NFKC", text or "")):
        if len(run) == 1 and is_cjk(run):
            out.append(run)
        else:
            out.extend(m.group(0).casefold() for m in _WORD.finditer(run))
    return out


def _split_cjk(text: str) -> list[str]:
    """Text cut into single CJK characters and the runs between them."""
    parts: list[str] = []
    buf: list[str] = []
    for ch in text:
        if is_cjk(ch):
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(ch)
        else:
            buf.append(ch)
    if buf:
        parts.append("".join(buf))
    return parts


@dataclass
class CharErrors:
    errors: int  # substitutions + deletions + insertions
    reference_chars: int
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def cer(self) -> float:
        if self.reference_chars == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.reference_chars


def char_errors(reference: str, hypothesis: str) -> CharErrors:
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return CharErrors(len(hyp), 0, insertions=len(hyp))
    if not hyp:
        return CharErrors(len(ref), len(ref), deletions=len(ref))
    import jiwer

    o = jiwer.process_characters(ref, hyp)
    return CharErrors(o.substitutions + o.deletions + o.insertions, o.hits + o.substitutions + o.deletions,
                      o.substitutions, o.deletions, o.insertions)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate in reading order: lines in the wrong order count as errors."""
    return char_errors(reference, hypothesis).cer


def cer_unordered(reference_lines: list[str], hypothesis_lines: list[str]) -> float:
    """CER with both sides' lines sorted first: recognition accuracy, whatever the order."""
    return cer("\n".join(sorted(reference_lines)), "\n".join(sorted(hypothesis_lines)))


@dataclass
class Recall:
    found: int
    reference_words: int

    @property
    def recall(self) -> float:
        return self.found / self.reference_words if self.reference_words else 1.0


def word_hits(reference: str, hypothesis: str) -> Recall:
    ref, hyp = Counter(words(reference)), Counter(words(hypothesis))
    return Recall(sum((ref & hyp).values()), sum(ref.values()))


def word_recall(reference: str, hypothesis: str) -> float:
    return word_hits(reference, hypothesis).recall


def caption_tokens(text: str) -> str:
    """A caption as pycocoevalcap's scorers expect it: space-separated lower-case tokens."""
    return " ".join(words(text))


@dataclass
class CaptionScores:
    bleu: list[float]  # BLEU-1..4 over the whole set
    cider: float  # CIDEr-D over the whole set (×10 scale as published: COCO models score ~0.9–1.4)
    per_item_bleu4: list[float]
    per_item_cider: list[float]

    @property
    def bleu4(self) -> float:
        return self.bleu[3]


def caption_scores(candidates: list[str], references: list[list[str]]) -> CaptionScores:
    """Corpus BLEU-1..4 and CIDEr of ``candidates[i]`` against ``references[i]`` (one list per image).

    CIDEr weighs n-grams by how rare they are across the references of *all* images, so it
    needs several images to mean anything (with one image every weight is zero)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    if len(candidates) != len(references) or not candidates:
        raise ValueError("need one candidate per reference list, and at least one")
    if any(not refs for refs in references):
        raise ValueError("every image needs at least one reference caption")
    res = {i: [caption_tokens(c)] for i, c in enumerate(candidates)}
    gts = {i: [caption_tokens(r) for r in refs] for i, refs in enumerate(references)}
    bleu, bleu_items = Bleu(4).compute_score(gts, res, verbose=0)
    cider, cider_items = Cider().compute_score(gts, res)
    return CaptionScores([float(b) for b in bleu], float(cider), [float(x) for x in bleu_items[3]],
                         [float(x) for x in cider_items])

"""Running readers over an evaluation set and scoring what they read.

Images are loaded a batch at a time with the same safe loader indexing uses; an image that
can't be loaded, or that a reader fails on, is recorded and skipped — the rest goes on. A
reader that can't start at all (e.g. its model isn't downloaded) is reported with its one
sentence, and the other readers still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlagent.eval.data import Item
from vlagent.eval.metrics import caption_scores, char_errors, word_hits, words
from vlagent.eval.readers import Reader


@dataclass
class Outputs:
    engine: str
    model: str
    label: str
    texts: dict[str, str] = field(default_factory=dict)  # file -> what the reader produced
    ms: dict[str, float] = field(default_factory=dict)  # file -> its share of its batch's time
    errors: dict[str, str] = field(default_factory=dict)  # file -> why this image failed
    load_s: float = 0.0
    error: str | None = None  # the reader could not run at all

    def summary(self) -> dict:
        done = list(self.texts)
        return {"engine": self.engine, "model": self.model, "label": self.label, "images": len(done),
                "failed": len(self.errors), "load_s": round(self.load_s, 3),
                "ms_per_image": round(sum(self.ms.values()) / len(done), 1) if done else None,
                "error": self.error}


def read_all(items: list[Item], folder: Path, reader_factory: Callable[[], Reader], label: str, *, limits,
             on_image: Callable[[], None] | None = None) -> Outputs:
    """Every image through one reader; never raises for a single image."""
    from vlagent.imaging import load_path
    from vlagent.vlm.base import VlmError

    try:
        reader = reader_factory()
    except (VlmError, ImportError, ValueError) as e:
        return Outputs("?", "?", label, error=str(e))
    out = Outputs(reader.engine, reader.model, label)
    try:
        t0 = time.perf_counter()
        reader.prepare()
        out.load_s = time.perf_counter() - t0
        for start in range(0, len(items), reader.batch_size):
            batch, images = [], []
            for item in items[start:start + reader.batch_size]:
                try:
                    images.append(load_path(folder / item.file, limits).image)
                    batch.append(item)
                except Exception as e:  # noqa: BLE001 - per-image failure, recorded
                    out.errors[item.file] = f"{e.__class__.__name__}: {e}"
                    if on_image:
                        on_image()
            if not batch:
                continue
            t0 = time.perf_counter()
            texts: Sequence[str | None]
            try:
                texts = reader.read(images)
            except VlmError:
                raise
            except Exception as e:  # noqa: BLE001
                texts = [None] * len(batch)
                for item in batch:
                    out.errors[item.file] = f"{e.__class__.__name__}: {e}"
            share = (time.perf_counter() - t0) * 1000 / len(batch)
            for item, text in zip(batch, texts):
                if text is not None:
                    out.texts[item.file], out.ms[item.file] = text, share
                if on_image:
                    on_image()
    except VlmError as e:
        out.error = str(e)
    finally:
        reader.close()
    return out


def score_ocr(items: list[Item], out: Outputs) -> dict:
    """CER (total edits / total reference characters) and word recall over the images read."""
    report = out.summary()
    if out.error:
        return report
    rows, edits, ref_chars, found, ref_words = [], 0, 0, 0, 0
    for item in items:
        if item.file not in out.texts:
            continue
        ce, wr = char_errors(item.text, out.texts[item.file]), word_hits(item.text, out.texts[item.file])
        edits, ref_chars, found, ref_words = (edits + ce.errors, ref_chars + ce.reference_chars,
                                              found + wr.found, ref_words + wr.reference_words)
        rows.append({"file": item.file, "cer": round(ce.cer, 4), "word_recall": round(wr.recall, 4),
                     "ms": round(out.ms[item.file], 1), "text": out.texts[item.file]})
    report.update(cer=round(edits / ref_chars, 4) if ref_chars else None,
                  word_recall=round(found / ref_words, 4) if ref_words else None,
                  items=rows, failures=out.errors)
    return report


def score_captions(items: list[Item], out: Outputs) -> dict:
    """Corpus BLEU-1..4 and CIDEr of the captions against the references."""
    report = out.summary()
    if out.error:
        return report
    done = [item for item in items if item.file in out.texts]
    report["failures"] = out.errors
    if not done:
        report.update(bleu=None, bleu4=None, cider=None, items=[])
        return report
    s = caption_scores([out.texts[i.file] for i in done], [i.captions for i in done])
    report.update(bleu=[round(b, 4) for b in s.bleu], bleu4=round(s.bleu4, 4), cider=round(s.cider, 4),
                  mean_words=round(sum(len(words(out.texts[i.file])) for i in done) / len(done), 1),
                  items=[{"file": i.file, "bleu4": round(b, 4), "cider": round(c, 4), "ms": round(out.ms[i.file], 1),
                          "caption": out.texts[i.file]}
                         for i, b, c in zip(done, s.per_item_bleu4, s.per_item_cider)])
    return report

"""RapidOCR 3.x (PP-OCR models shipped inside the wheel, run by onnxruntime on the CPU)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
from PIL import Image

from vlagent.ocr.base import OcrLine, OcrResult
from vlagent.ocr.order import reading_order


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, *, min_score: float = 0.5, threads: int = 0):
        self.min_score = min_score
        self.threads = threads or (os.cpu_count() or 1)
        self._engine = None
        self._lock = threading.Lock()
        self.model = "PP-OCRv6-small"

    def _params(self) -> dict:
        return {
            "Global.log_level": "warning",
            "Global.text_score": self.min_score,
            "Global.use_cls": False,  # screenshots are upright; the classifier costs ~15%
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }

    def _get(self):
        if self._engine is None:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(params=self._params())
        return self._engine

    def recognize(self, image: Image.Image) -> OcrResult:
        t0 = time.perf_counter()
        arr = np.asarray(image.convert("RGB"))
        with self._lock:  # one onnxruntime session, not re-entrant-safe across threads here
            out = self._get()(arr)
        lines = []
        if out is not None and getattr(out, "txts", None):
            for text, score, box in zip(out.txts, out.scores, out.boxes):
                text = (text or "").strip()
                if text and score >= self.min_score:
                    lines.append(OcrLine(text, [[float(x), float(y)] for x, y in box], float(score)))
        lines = reading_order(lines)
        ms = (time.perf_counter() - t0) * 1000
        return OcrResult(lines=lines, engine=self.name, model=self.model, latency_ms=ms,
                         params={"min_score": self.min_score, "threads": self.threads, "use_cls": False})

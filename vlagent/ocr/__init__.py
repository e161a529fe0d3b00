"""OCR: engines behind one Protocol; :func:`create_engine` picks one from the settings."""

from __future__ import annotations

from vlagent.ocr.base import OcrEngine, OcrLine, OcrResult


def create_engine(settings) -> OcrEngine:
    name = settings.get("ocr.engine")
    if name == "rapidocr":
        from vlagent.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(min_score=settings.get("ocr.min_score"), threads=settings.get("ocr.threads"))
    raise ValueError(f"unknown OCR engine {name!r}")


__all__ = ["OcrEngine", "OcrLine", "OcrResult", "create_engine"]

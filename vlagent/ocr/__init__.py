"""OCR: engines behind one Protocol; :func:`create_engine` picks one from the settings."""

from __future__ import annotations

from vlagent.ocr.base import OcrEngine, OcrLine, OcrResult


def create_engine(settings) -> OcrEngine:
    name = settings.get("ocr.engine")
    if name == "rapidocr":
        from vlagent.ocr.rapid import RapidOcrConfig, RapidOcrEngine

        return RapidOcrEngine(RapidOcrConfig(
            min_score=settings.get("ocr.min_score"),
            threads=settings.get("ocr.threads"),
            det_max_pixels=settings.get("ocr.det_max_pixels"),
            enhance=settings.get("ocr.enhance_low_contrast"),
            idle_unload_s=settings.get("ocr.idle_unload_s"),
        ))
    raise ValueError(f"unknown OCR engine {name!r}")


__all__ = ["OcrEngine", "OcrLine", "OcrResult", "create_engine"]

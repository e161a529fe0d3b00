"""OCR: engines behind one Protocol; :func:`create_engine` picks one from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlagent.ocr.base import OcrEngine, OcrLine, OcrResult

if TYPE_CHECKING:
    from vlagent.settings import Settings


def create_engine(settings: Settings) -> OcrEngine:
    ocr = settings.view.ocr
    name = ocr.engine
    if name == "rapidocr":
        from vlagent.ocr.rapid import RapidOcrConfig, RapidOcrEngine

        return RapidOcrEngine(RapidOcrConfig(
            min_score=ocr.min_score,
            threads=ocr.threads,
            det_max_pixels=ocr.det_max_pixels,
            enhance=ocr.enhance_low_contrast,
            idle_unload_s=ocr.idle_unload_s,
        ))
    raise ValueError(f"unknown OCR engine {name!r}")


__all__ = ["OcrEngine", "OcrLine", "OcrResult", "create_engine"]

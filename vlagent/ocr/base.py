"""The OCR engine Protocol and its result types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image


@dataclass
class OcrLine:
    text: str
    box: list[list[float]]  # four corner points [[x, y], ...], clockwise from top-left
    score: float

    def as_dict(self) -> dict:
        return {"text": self.text, "box": self.box, "score": round(self.score, 4)}

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the box."""
        xs, ys = [p[0] for p in self.box], [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class OcrResult:
    lines: list[OcrLine]
    engine: str
    model: str
    latency_ms: float
    params: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def recognize(self, image: Image.Image) -> OcrResult:
        """Text lines in reading order from an RGB image."""
        ...

"""What an evaluation runs on each image: the OCR engine, or the vision-language model with a prompt.

A reader turns a batch of RGB images into one text each. Loading (OCR models, VLM weights) happens
in :meth:`prepare`, so it is timed apart from the per-image work.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image


class Reader(Protocol):
    engine: str  # "rapidocr", "transformers", "openai", …
    model: str
    batch_size: int

    def prepare(self) -> None: ...

    def read(self, images: list[Image.Image]) -> list[str]: ...

    def close(self) -> None: ...


class OcrReader:
    batch_size = 1

    def __init__(self, settings):
        from vlagent.jobs.build import build_ocr_engine

        self._ocr = build_ocr_engine(settings)
        self.engine = self._ocr.name
        self.model = getattr(self._ocr, "model", self._ocr.name)

    def prepare(self) -> None:
        from PIL import ImageDraw

        img = Image.new("RGB", (120, 48), "white")
        ImageDraw.Draw(img).text((8, 8), "ok 42", fill="black", font_size=24)
        self._ocr.recognize(img)  # loads the ONNX models

    def read(self, images: list[Image.Image]) -> list[str]:
        return [self._ocr.recognize(img).text for img in images]

    def close(self) -> None:
        pass


class VlmReader:
    """The configured VLM backend (``vlm.*`` settings) answering one prompt per image."""

    def __init__(self, settings, home, prompt: str):
        from vlagent.jobs.build import build_engine
        from vlagent.vlm.base import GenerationOptions

        if settings.view.vlm.backend == "transformers":  # a missing model fails here, before torch loads
            from vlagent.vlm.hub import resolve_model

            resolve_model(settings.view.vlm.model, home=home, settings=settings)
        self._vlm = build_engine(settings, home)
        self.engine = self._vlm.name
        self.model = self._vlm.model_id
        self.prompt = prompt
        self.options = GenerationOptions.from_settings(settings)
        self.batch_size = max(1, settings.view.vlm.batch_size)

    def prepare(self) -> None:
        self._vlm.load()

    def read(self, images: list[Image.Image]) -> list[str]:
        return [g.text for g in self._vlm.describe(images, self.prompt, self.options)]

    def close(self) -> None:
        self._vlm.unload()

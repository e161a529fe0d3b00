"""The steps: what each job kind does. ``ocr`` → ocr, ``describe`` → description,
``transcribe`` → vlm_ocr, ``ask`` → answer.

A step turns images into :class:`~vlagent.index.store.Result` records; the engines it calls
(:mod:`vlagent.ocr`, :mod:`vlagent.vlm`) know nothing of the index or the queue. The model
steps share one engine (loaded on first use). An engine problem fails the batch's jobs
with a reason instead of losing them: a missing model marks them failed (re-indexing or
``retry_failed`` queues them again), out-of-memory and cancellation send them back to the
queue. OCR never depends on any of this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vlagent.imaging.load import LoadedImage
from vlagent.index.queue import Job
from vlagent.index.store import Result
from vlagent.jobs.runner import StepError, StepOutput, step_context
from vlagent.vlm.base import ChatMessage, Generation, GenerationOptions, OutOfMemory, VlmError
from vlagent.vlm.factory import LazyEngine

if TYPE_CHECKING:
    from PIL import Image

    from vlagent.ocr.base import OcrEngine
    from vlagent.settings import Settings


OPTION_FIELDS = {f.name for f in dataclasses.fields(GenerationOptions)}


class OcrStep:
    """``ocr``: RapidOCR's lines and text for one image at a time."""

    kind = "ocr"
    batch_size = 1

    def __init__(self, engine_factory: Callable[[], OcrEngine]):
        self._factory = engine_factory
        self._engine: OcrEngine | None = None

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = self._factory()
        return self._engine

    def warm_up(self) -> None:
        """Load the OCR models now (~1 s) rather than on the first image."""
        from vlagent.ocr.warmup import warmup_image

        self.engine.recognize(warmup_image())

    def run(self, jobs: list[Job], images: list[LoadedImage | None]) -> list[StepOutput]:
        out = []
        for img in images:
            if img is None:
                out.append(StepOutput(error=StepError("the ocr job has no image")))
                continue
            r = self.engine.recognize(img.image)
            out.append(StepOutput([Result(
                kind="ocr", text=r.text, engine=r.engine, model=r.model, params=r.params,
                lines=[line.as_dict() for line in r.lines], latency_ms=round(r.latency_ms, 1), timings=r.timings)]))
        return out


def step_error(e: VlmError) -> StepError:
    return StepError(str(e), retry=isinstance(e, OutOfMemory))  # a missing model fails now, with the reason


def result_from(kind: str, g: Generation, *, prompt: str | None = None,
                extra: dict[str, Any] | None = None) -> Result:
    params = dict(g.params, **(extra or {}))
    return Result(kind=kind, text=g.text.strip(), engine=g.engine, model=g.model, prompt=prompt, params=params,
                  latency_ms=g.timings.get("total_ms"), timings=g.timings)


def outputs_for(kind: str, gens: list[Generation], prompt_param: str) -> list[StepOutput]:
    out = []
    for g in gens:
        if g.finish_reason == "cancelled":
            out.append(StepOutput(error=StepError("cancelled", retry=True, cancelled=True)))
        else:
            out.append(StepOutput([result_from(kind, g, extra={"prompt": prompt_param})]))
    return out


class ImageStep:
    """One prompt over a batch of images (description or transcription). With ``ocr_text``
    (image id → stored OCR text) and ``vlm.light_mode``, a description of a text-heavy image
    gets a smaller image plus its OCR text (:mod:`vlagent.vlm.light`)."""

    def __init__(self, kind: str, result_kind: str, prompt_fn: Callable[[Settings], str], engine: LazyEngine,
                 settings: Settings, ocr_text: Callable[[int], str] | None = None):
        self.kind, self.result_kind, self.prompt_fn = kind, result_kind, prompt_fn
        self.engine, self.settings = engine, settings
        self.ocr_text = ocr_text

    def _light_prompt(self, job: Job, prompt: str) -> str | None:
        """The light-mode prompt (OCR text + ``prompt``) for this job's image, or None."""
        from vlagent.vlm import light

        if self.kind != "describe" or self.ocr_text is None or job.image_id is None \
                or self.settings.view.vlm.light_mode == "off":
            return None
        text = self.ocr_text(job.image_id)
        return light.lead(self.settings, text) + prompt if light.applies(self.settings, text) else None

    @property
    def batch_size(self) -> int:
        return max(1, self.settings.view.vlm.batch_size)

    def run(self, jobs: list[Job], images: list[LoadedImage | None]) -> list[StepOutput]:
        """A job's payload may carry its own ``prompt`` (a batch row's); jobs sharing a prompt
        go to the model together, and each output comes back in its job's place."""
        from vlagent.vlm.light import light_options

        default = self.prompt_fn(self.settings)
        groups: dict[tuple[str, str, bool], list[int]] = {}  # (prompt sent, prompt, light mode) → jobs
        for i, job in enumerate(jobs):
            prompt = job.payload.get("prompt") if job.payload else None
            prompt = prompt if isinstance(prompt, str) and prompt.strip() else default
            lit = self._light_prompt(job, prompt)
            groups.setdefault((lit or prompt, prompt, lit is not None), []).append(i)
        ctx = step_context()  # the batch's cancel token and sink for streamed text
        options = GenerationOptions.from_settings(self.settings)
        out: list[StepOutput | None] = [None] * len(jobs)
        for (sent, prompt, light_mode), idx in groups.items():
            try:
                gens = self.engine.get().describe([_image_of(images[i]) for i in idx], sent,
                                                  light_options(self.settings, options) if light_mode else options,
                                                  cancel=ctx.cancel)
            except VlmError as e:
                raise step_error(e) from None
            for g in gens:
                g.params["light_mode"] = light_mode
            for i, o in zip(idx, outputs_for(self.result_kind, gens, prompt)):  # stored without the OCR text
                out[i] = o
        return [o if o is not None else StepOutput(error=StepError("no output from the model", retry=True))
                for o in out]


def ask_conversation(question: str, payload: dict[str, Any], first: list[Image.Image],
                     load_images: Callable[[list[Any] | None], list[Image.Image]], settings: Settings,
                     ocr_text: str | None = None) -> tuple[list[ChatMessage], GenerationOptions, bool]:
    """The conversation and options of a question (an ``ask`` payload, see :mod:`vlagent.worker.ask`):
    the earlier turns, then the question with its images (``first`` + ``payload["image_ids"]``).
    When the earlier turns carry no image, the images go with the first user turn instead: the
    conversation then starts as the first question's did, so the model's cache of that turn
    (the image already read) serves the follow-up. ``ocr_text`` (of a lone image) enables
    light mode (:mod:`vlagent.vlm.light`). Also used by the worker's prefill with an empty
    question: it must build the very prompt the question will have. Returns (messages,
    options, light mode applied)."""
    from vlagent.vlm.light import lighten

    messages = [ChatMessage(t["role"], str(t.get("text", "")), load_images(t.get("image_ids")))
                for t in payload.get("history") or []]
    images = first + load_images(payload.get("image_ids"))
    if images and not any(m.images for m in messages):
        k = next((i for i, m in enumerate(messages) if m.role == "user"), None)
        if k is not None:
            messages[k] = ChatMessage("user", messages[k].text, images)
            images = []
    messages.append(ChatMessage("user", question, images))
    overrides = {k: v for k, v in (payload.get("options") or {}).items() if k in OPTION_FIELDS}
    opts = GenerationOptions.from_settings(settings, **overrides)
    if sum(len(m.images) for m in messages) != 1:
        ocr_text = None  # light mode reads one image's text
    return lighten(settings, messages, opts, ocr_text)


class AskStep:
    """A question about an image (payload: ``question``; optional ``image_ids`` of more images,
    ``history`` of earlier turns ``{"role", "text", "image_ids"}``, and generation ``options``).
    ``ocr_text(image_id)``: the stored OCR text, for light mode."""

    kind = "ask"
    batch_size = 1

    def __init__(self, engine: LazyEngine, settings: Settings, load_image: Callable[[int], LoadedImage],
                 ocr_text: Callable[[int], str] | None = None):
        self.engine, self.settings, self.load_image = engine, settings, load_image
        self.ocr_text = ocr_text

    def run(self, jobs: list[Job], images: list[LoadedImage | None]) -> list[StepOutput]:
        return [self._one(job, img) for job, img in zip(jobs, images)]

    def _images(self, ids: list[Any] | None) -> list[Image.Image]:
        return [self.load_image(int(i)).image for i in ids or []]

    def conversation(self, image_id: int | None, question: str, payload: dict[str, Any],
                     first: list[Image.Image]) -> tuple[list[ChatMessage], GenerationOptions, bool]:
        ocr = None
        if self.ocr_text is not None and image_id is not None and self.settings.view.vlm.light_mode != "off":
            ocr = self.ocr_text(image_id)
        return ask_conversation(question, payload, first, self._images, self.settings, ocr)

    def _one(self, job: Job, loaded: LoadedImage | None) -> StepOutput:
        p = job.payload or {}
        question = str(p.get("question") or "").strip()
        if not question:
            return StepOutput(error=StepError("the ask job has no question"))
        try:
            first = [loaded.image] if loaded is not None else []
            messages, opts, light = self.conversation(job.image_id, question, p, first)
        except StepError as e:
            return StepOutput(error=e)
        except (KeyError, TypeError, ValueError) as e:
            return StepOutput(error=StepError(f"malformed ask payload: {e}"))
        ctx = step_context()  # the batch's cancel token and sink for streamed text
        try:
            g = self.engine.get().chat(messages, opts, on_token=lambda piece: ctx.token(job, piece),
                                       cancel=ctx.cancel)
        except VlmError as e:
            return StepOutput(error=step_error(e))
        if g.finish_reason == "cancelled":
            return StepOutput(error=StepError("cancelled", retry=True, cancelled=True))
        ids = ([job.image_id] if job.image_id is not None else []) + [int(i) for i in p.get("image_ids") or []]
        extra: dict[str, Any] = {"image_ids": ids, "turns": len(messages), "light_mode": light}
        return StepOutput([result_from("answer", g, prompt=question, extra=extra)])


def _image_of(loaded: LoadedImage | None) -> Image.Image:
    if loaded is None:
        raise StepError("this job has no image")
    return loaded.image

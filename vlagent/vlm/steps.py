"""The model's queue steps: ``describe`` → description, ``transcribe`` → vlm_ocr, ``ask`` → answer.

All steps share one engine (loaded on first use). An engine problem fails the batch's jobs
with a reason instead of losing them: a missing model marks them failed (re-indexing or
``retry_failed`` queues them again), out-of-memory and cancellation send them back to the
queue. OCR never depends on any of this.
"""

from __future__ import annotations

import dataclasses

from vlagent.index.store import Result
from vlagent.ingest.runner import StepError, StepOutput, step_context
from vlagent.vlm.base import ChatMessage, Generation, GenerationOptions, OutOfMemory, VlmError
from vlagent.vlm.factory import LazyEngine
from vlagent.vlm.prompts import describe_prompt, transcribe_prompt


OPTION_FIELDS = {f.name for f in dataclasses.fields(GenerationOptions)}


def step_error(e: VlmError) -> StepError:
    return StepError(str(e), retry=isinstance(e, OutOfMemory))  # a missing model fails now, with the reason


def result_from(kind: str, g: Generation, *, prompt: str | None = None, extra: dict | None = None) -> Result:
    params = dict(g.params, **(extra or {}))
    return Result(kind=kind, text=g.text.strip(), engine=g.engine, model=g.model, prompt=prompt, params=params,
                  latency_ms=g.timings.get("total_ms"), timings=g.timings)


def outputs_for(kind: str, gens: list[Generation], prompt_param: str) -> list[StepOutput]:
    out = []
    for g in gens:
        if g.finish_reason == "cancelled":
            out.append(StepOutput(error=StepError("cancelled", retry=True)))
        else:
            out.append(StepOutput([result_from(kind, g, extra={"prompt": prompt_param})]))
    return out


class ImageStep:
    """One prompt over a batch of images (description or transcription)."""

    def __init__(self, kind: str, result_kind: str, prompt_fn, engine: LazyEngine, settings):
        self.kind, self.result_kind, self.prompt_fn = kind, result_kind, prompt_fn
        self.engine, self.settings = engine, settings

    @property
    def batch_size(self) -> int:
        return max(1, int(self.settings.get("vlm.batch_size")))

    def run(self, jobs, images):
        prompt = self.prompt_fn(self.settings)
        ctx = step_context()  # the batch's cancel token and sink for streamed text
        try:
            gens = self.engine.get().describe([img.image for img in images], prompt,
                                              GenerationOptions.from_settings(self.settings),
                                              cancel=ctx.cancel)
        except VlmError as e:
            raise step_error(e) from None
        return outputs_for(self.result_kind, gens, prompt)


class AskStep:
    """A question about an image (payload: ``question``; optional ``image_ids`` of more images,
    ``history`` of earlier turns ``{"role", "text", "image_ids"}``, and generation ``options``)."""

    kind = "ask"
    batch_size = 1

    def __init__(self, engine: LazyEngine, settings, load_image):
        self.engine, self.settings, self.load_image = engine, settings, load_image

    def run(self, jobs, images):
        return [self._one(job, img) for job, img in zip(jobs, images)]

    def _images(self, ids) -> list:
        return [self.load_image(int(i)).image for i in ids or []]

    def _one(self, job, loaded) -> StepOutput:
        p = job.payload or {}
        question = str(p.get("question") or "").strip()
        if not question:
            return StepOutput(error=StepError("the ask job has no question"))
        try:
            messages = [ChatMessage(t["role"], str(t.get("text", "")), self._images(t.get("image_ids")))
                        for t in p.get("history") or []]
            first = [loaded.image] if loaded is not None else []
            messages.append(ChatMessage("user", question, first + self._images(p.get("image_ids"))))
        except StepError as e:
            return StepOutput(error=e)
        except (KeyError, TypeError, ValueError) as e:
            return StepOutput(error=StepError(f"malformed ask payload: {e}"))
        overrides = {k: v for k, v in (p.get("options") or {}).items() if k in OPTION_FIELDS}
        opts = GenerationOptions.from_settings(self.settings, **overrides)
        ctx = step_context()  # the batch's cancel token and sink for streamed text
        try:
            g = self.engine.get().chat(messages, opts, on_token=lambda piece: ctx.token(job, piece),
                                       cancel=ctx.cancel)
        except VlmError as e:
            return StepOutput(error=step_error(e))
        if g.finish_reason == "cancelled":
            return StepOutput(error=StepError("cancelled", retry=True))
        ids = ([job.image_id] if job.image_id is not None else []) + [int(i) for i in p.get("image_ids") or []]
        extra = {"image_ids": ids, "turns": len(messages)}
        return StepOutput([result_from("answer", g, prompt=question, extra=extra)])


def register_vlm_steps(runner, settings, home, engine=None) -> LazyEngine:
    """Register ``describe``, ``transcribe`` and ``ask`` on ``runner``, sharing one engine."""
    shared = engine if isinstance(engine, LazyEngine) else LazyEngine(settings, home, engine)
    runner.register(ImageStep("describe", "description", describe_prompt, shared, settings))
    runner.register(ImageStep("transcribe", "vlm_ocr", transcribe_prompt, shared, settings))
    runner.register(AskStep(shared, settings, runner.load_image))
    return shared

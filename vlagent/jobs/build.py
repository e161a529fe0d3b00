"""The one place that assembles engines and job runners from the settings.

The worker, ``vlagent index``, ``capture``, ``describe``/``ask``, the API, ``eval`` and the
batch job all call these; nothing else constructs a model engine, an OCR engine or a
:class:`~vlagent.jobs.runner.JobRunner`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlagent.index.queue import new_worker_id
from vlagent.jobs.runner import JobRunner, Step
from vlagent.jobs.steps import AskStep, ImageStep, OcrStep
from vlagent.vlm.factory import LazyEngine
from vlagent.vlm.prompts import describe_prompt, transcribe_prompt

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.ocr.base import OcrEngine
    from vlagent.settings import Settings
    from vlagent.vlm.base import VlmEngine


def build_engine(settings: Settings, home: Home) -> LazyEngine:
    """The configured model engine (``vlm.backend``), created on first use: an agent that
    never runs the model never imports torch (without the ``[vlm]`` extra, using it fails
    with what to install)."""
    return LazyEngine(settings, home)


def build_ocr_engine(settings: Settings) -> OcrEngine:
    """The configured OCR engine (``ocr.engine``); its models load on first use."""
    from vlagent.ocr import create_engine

    return create_engine(settings)


def build_steps(settings: Settings, home: Home,
                engine: VlmEngine | LazyEngine | None = None) -> dict[str, Step]:
    """The steps that need nothing but an image: ``ocr``, ``describe``, ``transcribe``, sharing
    one model engine (``engine``, or one built lazily). The batch job runs these directly."""
    shared = engine if isinstance(engine, LazyEngine) else LazyEngine(settings, home, engine)
    steps: list[Step] = [
        OcrStep(lambda: build_ocr_engine(settings)),
        ImageStep("describe", "description", describe_prompt, shared, settings),
        ImageStep("transcribe", "vlm_ocr", transcribe_prompt, shared, settings),
    ]
    return {s.kind: s for s in steps}


def build_runner(index: Index, settings: Settings, home: Home, *, worker_id: str | None = None,
                 engine: VlmEngine | LazyEngine | None = None) -> JobRunner:
    """A runner with every step: ``ocr``, ``describe``, ``transcribe`` and ``ask``.

    ``engine``: the model engine its steps share (the worker passes its own, so one model
    serves every step and the API); None builds one with :func:`build_engine`, loaded only
    when a model step first runs.
    """
    runner = JobRunner(index, settings, worker_id=worker_id or new_worker_id())
    shared = engine if isinstance(engine, LazyEngine) else LazyEngine(settings, home, engine)
    ocr_text = lambda image_id: index.latest_text(image_id, "ocr")  # noqa: E731  (light mode)
    for step in build_steps(settings, home, shared).values():
        if isinstance(step, ImageStep):
            step.ocr_text = ocr_text
        runner.register(step)
    runner.register(AskStep(shared, settings, runner.load_image, ocr_text))
    return runner

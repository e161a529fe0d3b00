"""The one place that assembles engines and job runners from the settings.

The worker, ``vlagent index``, ``capture``, ``describe``/``ask``, the API, ``eval`` and the
batch job all call these; nothing else constructs a model engine, an OCR engine or a
:class:`~vlagent.jobs.runner.JobRunner`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlagent.index.queue import new_worker_id
from vlagent.jobs.runner import JobRunner
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


def build_runner(index: Index, settings: Settings, home: Home, *, worker_id: str | None = None,
                 engine: VlmEngine | LazyEngine | None = None) -> JobRunner:
    """A runner with every step: ``ocr``, ``describe``, ``transcribe`` and ``ask``.

    ``engine``: the model engine its steps share (the worker passes its own, so one model
    serves every step and the API); None builds one with :func:`build_engine`, loaded only
    when a model step first runs.
    """
    runner = JobRunner(index, settings, worker_id=worker_id or new_worker_id())
    runner.register(OcrStep(lambda: build_ocr_engine(settings)))
    shared = engine if isinstance(engine, LazyEngine) else LazyEngine(settings, home, engine)
    runner.register(ImageStep("describe", "description", describe_prompt, shared, settings))
    runner.register(ImageStep("transcribe", "vlm_ocr", transcribe_prompt, shared, settings))
    runner.register(AskStep(shared, settings, runner.load_image))
    return runner

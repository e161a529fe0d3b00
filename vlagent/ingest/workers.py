"""Assembling the job runner with every step this installation can run."""

from __future__ import annotations

from vlagent.ingest.runner import JobRunner, OcrStep


def build_runner(index, settings, home, *, worker_id: str, vlm=None) -> JobRunner:
    """A runner with the OCR step and, when available, the model's steps.

    ``vlm`` is a shared model engine (the worker passes its own so one model serves
    every step); None means the steps create it lazily on first use.
    """
    from vlagent.ocr import create_engine

    runner = JobRunner(index, settings, worker_id=worker_id)
    runner.register(OcrStep(lambda: create_engine(settings)))
    import importlib.util

    if importlib.util.find_spec("vlagent.vlm.steps") is None:  # the model package is optional
        return runner
    from vlagent.vlm.steps import register_vlm_steps

    register_vlm_steps(runner, settings, home, engine=vlm)
    return runner

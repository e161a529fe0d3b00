"""Jobs: the one pipeline between the faces and the engines.

Every piece of work on an image is a *job* of one *kind*, kept in the index's persistent
queue (:mod:`vlagent.index.queue`). This package holds:

- :mod:`~vlagent.jobs.steps` — what each kind does (``ocr``, ``describe``, ``transcribe``,
  ``ask``): a *step* turns a batch of images into results, calling :mod:`vlagent.ocr` or
  :mod:`vlagent.vlm`, which know nothing of the index or the queue;
- :mod:`~vlagent.jobs.runner` — :class:`JobRunner`: claims a batch, runs its step, records
  results and job states in one transaction; :meth:`JobRunner.run_direct` runs a step on an
  image outside the queue (a capture's question, a batch row);
- :mod:`~vlagent.jobs.build` — :func:`build_runner` and :func:`build_engine`, the one place
  that assembles a runner and its engines from the settings.

Who drives it: the background worker (:mod:`vlagent.worker.inference`, a thread that loops
over the queue), ``vlagent index`` and ``capture`` (run until their own jobs are done), the
API (through the worker), ``describe``/``ask`` and the batch job (``run_direct``).

**Adding a job kind**: name it in ``JOB_KINDS`` (and ``MODEL_KINDS`` if it runs the model) in
:mod:`vlagent.index.queue` — the queue's stored vocabulary; write its step in
:mod:`vlagent.jobs.steps` (a class with ``kind``, ``batch_size`` and ``run(jobs, images)``
returning one :class:`StepOutput` per job); register it in :func:`build_runner`. Enqueue it
where images come in (:meth:`vlagent.ingest.pipeline.Ingestor.steps_for_new_image` for every
new image). Nothing else changes: every driver above runs it.
"""

from __future__ import annotations

from vlagent.index.queue import JOB_KINDS, MODEL_KINDS
from vlagent.jobs.runner import JobReport, JobRunner, Step, StepContext, StepError, StepOutput, execute, step_context

__all__ = ["JOB_KINDS", "MODEL_KINDS", "JobReport", "JobRunner", "Step", "StepContext", "StepError", "StepOutput",
           "execute", "step_context"]

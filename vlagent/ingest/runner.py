"""Running queued jobs: each job kind is a *step* (OCR, describe, transcribe, ask).

A step turns a batch of jobs into results; the runner writes each result and marks its
job done in one transaction. Steps are registered by kind, so the VLM steps plug in
beside OCR without the runner knowing them.

While a step runs, :func:`step_context` gives it the batch's :class:`StepContext`: a
cancel token to pass to the model (set when the worker is stopped or pre-empted by an
interactive job, or when a user cancels) and a token sink for streaming an answer to
whoever is waiting. A step that stops early because the token was set raises
:class:`vlagent.vlm.base.Cancelled`; the runner then gives the jobs back to the queue
(pre-emption, shutdown) or marks them cancelled (a user's cancel).
"""

from __future__ import annotations

import logging
import time
import traceback
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable, Protocol

from vlagent.imaging.errors import ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_path
from vlagent.index.db import transaction
from vlagent.index.queue import Job, JobQueue
from vlagent.index.store import Index, Result
from vlagent.vlm.base import CancelToken, Cancelled

log = logging.getLogger(__name__)


class StepError(Exception):
    """A job failed in a way worth recording. ``retry`` sends it back to the queue."""

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.retry = retry


@dataclass
class StepOutput:
    results: list[Result] = field(default_factory=list)
    error: StepError | None = None


@dataclass
class StepContext:
    cancel: CancelToken = field(default_factory=CancelToken)
    # Receives (job, text piece) while a step generates; the worker routes it to the asker.
    on_token: Callable[[Job, str], None] | None = None
    # True: a cancelled batch goes back to the queue untouched (shutdown, pre-emption, pause).
    # False: its jobs are marked cancelled (a user cancelled them).
    release_on_cancel: bool = True

    def token(self, job: Job, piece: str) -> None:
        if self.on_token is not None and piece:
            self.on_token(job, piece)


_CONTEXT: ContextVar[StepContext | None] = ContextVar("vlagent_step_context", default=None)


def step_context() -> StepContext:
    """The context of the batch being run on this thread (a fresh, inert one outside a run)."""
    return _CONTEXT.get() or StepContext()


class Step(Protocol):
    kind: str
    batch_size: int

    def run(self, jobs: list[Job], images: list[LoadedImage | None]) -> list[StepOutput]:
        """One output per job, in order. ``images[i]`` is None for jobs without an image."""
        ...


class OcrStep:
    kind = "ocr"
    batch_size = 1

    def __init__(self, engine_factory: Callable):
        self._factory = engine_factory
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._factory()
        return self._engine

    def run(self, jobs, images):
        out = []
        for img in images:
            r = self.engine.recognize(img.image)
            out.append(StepOutput([Result(
                kind="ocr", text=r.text, engine=r.engine, model=r.model, params=r.params,
                lines=[l.as_dict() for l in r.lines], latency_ms=round(r.latency_ms, 1), timings=r.timings)]))
        return out


@dataclass
class JobReport:
    job: Job
    ok: bool
    error: str | None = None
    state: str = "done"  # done | pending (retry or given back) | failed | cancelled
    ms: float = 0.0
    results: list[Result] = field(default_factory=list)


class JobRunner:
    def __init__(self, index: Index, settings, *, worker_id: str):
        self.index = index
        self.queue = JobQueue(index)
        self.settings = settings
        self.worker_id = worker_id
        self.steps: dict[str, Step] = {}
        self.limits = Limits.from_settings(settings)

    def register(self, step: Step) -> None:
        self.steps[step.kind] = step

    def claim(self, kinds=None) -> list[Job]:
        kinds = [k for k in (kinds or self.steps) if k in self.steps]
        if not kinds:
            return []
        return self.queue.claim(self.worker_id, kinds=kinds,
                                limit={k: self.steps[k].batch_size for k in kinds})

    def load_image(self, image_id: int) -> LoadedImage:
        """Read the image from its first readable location."""
        last: Exception | None = None
        for loc in self.index.locations(image_id, include_gone=False):
            try:
                return load_path(loc["path"], self.limits)
            except ImageInputError as e:
                last = e
        if last:
            raise StepError(f"no readable file for image {image_id}: {last}")
        raise StepError(f"image {image_id} has no file left to read")

    def run(self, jobs: list[Job], ctx: StepContext | None = None) -> list[JobReport]:
        if not jobs:
            return []
        ctx = ctx or StepContext()
        step = self.steps[jobs[0].kind]
        t0 = time.perf_counter()
        reports: list[JobReport] = []
        runnable, images = [], []
        for job in jobs:
            if job.image_id is None:
                runnable.append(job)
                images.append(None)
                continue
            try:
                images.append(self.load_image(job.image_id))
                runnable.append(job)
            except StepError as e:
                reports.append(self._record_failure(job, e))
        if runnable:
            token = _CONTEXT.set(ctx)
            try:
                if ctx.cancel.cancelled:  # cancelled before it started
                    raise Cancelled()
                outputs = step.run(runnable, images)
            except Cancelled:
                ctx.cancel.cancel()
                outputs = [StepOutput(error=StepError("cancelled")) for _ in runnable]
            except StepError as e:
                outputs = [StepOutput(error=e) for _ in runnable]
            except Exception as e:  # a bug or an engine crash: keep the item, record why
                log.exception("step %s failed", step.kind)
                msg = f"{e.__class__.__name__}: {e}"
                outputs = [StepOutput(error=StepError(msg, retry=True)) for _ in runnable]
                log.debug(traceback.format_exc())
            finally:
                _CONTEXT.reset(token)
            if ctx.cancel.cancelled:
                # Jobs that did not finish were cancelled (a step may also report that as a
                # per-job error): not a failed attempt. What did finish is kept.
                pairs = list(zip(runnable, outputs))
                reports += self._record_cancelled([j for j, o in pairs if o.error is not None],
                                                  release=ctx.release_on_cancel)
                runnable = [j for j, o in pairs if o.error is None]
                outputs = [o for j, o in pairs if o.error is None]
            for job, output in zip(runnable, outputs):
                if output.error is not None:
                    reports.append(self._record_failure(job, output.error))
                    continue
                with transaction(self.index.db):
                    for result in output.results:
                        self.index.add_result(job.image_id, result)
                    self.queue.done(job.id)
                reports.append(JobReport(job, True, results=output.results))
        ms = (time.perf_counter() - t0) * 1000 / max(len(jobs), 1)
        for r in reports:
            r.ms = ms
        return reports

    def _record_cancelled(self, jobs: list[Job], *, release: bool) -> list[JobReport]:
        if release:
            with transaction(self.index.db):
                self.queue.release(j.id for j in jobs)
            return [JobReport(j, False, "cancelled", "pending") for j in jobs]
        for j in jobs:
            self.queue.fail(j.id, "cancelled")
        return [JobReport(j, False, "cancelled", "cancelled") for j in jobs]

    def _record_failure(self, job: Job, err: StepError) -> JobReport:
        state = self.queue.fail(job.id, str(err), retry=err.retry)
        return JobReport(job, False, str(err), state)

    def run_until_empty(self, kinds=None, on_report: Callable[[JobReport], None] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> int:
        n = 0
        while not (should_stop and should_stop()):
            jobs = self.claim(kinds)
            if not jobs:
                break
            for rep in self.run(jobs):
                n += 1
                if on_report:
                    on_report(rep)
        return n

"""Running queued jobs: each job kind is a *step* (OCR, describe, transcribe, ask).

A step turns a batch of jobs into results; the runner writes each result and marks its
job done in one transaction. Steps are registered by kind (:func:`vlagent.jobs.build.build_runner`
registers every step this installation can run), so the runner knows none of them.

While a step runs, :func:`step_context` gives it the batch's :class:`StepContext`: a
cancel token to pass to the model (set when the worker is stopped or pre-empted by an
interactive job, or when a user cancels) and a token sink for streaming an answer to
whoever is waiting. A step that stops early because the token was set raises
:class:`vlagent.common.Cancelled`; the runner then gives the jobs back to the queue
(pre-emption, shutdown) or marks them cancelled (a user's cancel).

:meth:`JobRunner.run_direct` runs one step on an image right away, outside the queue (a
capture's question, a batch row): the same step code, the same stored result.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from vlagent.common import Cancelled, CancelToken
from vlagent.imaging.errors import ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_path
from vlagent.index.queue import Job, JobQueue
from vlagent.index.store import Index, Result

if TYPE_CHECKING:
    from vlagent.settings import Settings

log = logging.getLogger(__name__)


class StepError(Exception):
    """A job failed in a way worth recording. ``retry`` sends it back to the queue."""

    def __init__(self, message: str, *, retry: bool = False, cancelled: bool = False):
        super().__init__(message)
        self.retry = retry
        self.cancelled = cancelled  # stopped by its cancel token, not a failure of the job


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
    """One job kind's work. ``batch_size``: how many jobs of this kind are claimed together."""

    @property
    def kind(self) -> str: ...

    @property
    def batch_size(self) -> int: ...

    def run(self, jobs: list[Job], images: list[LoadedImage | None]) -> list[StepOutput]:
        """One output per job, in order. ``images[i]`` is None for jobs without an image."""
        ...


@dataclass
class JobReport:
    job: Job
    ok: bool
    error: str | None = None
    state: str = "done"  # done | pending (retry or given back) | failed | cancelled
    ms: float = 0.0
    results: list[Result] = field(default_factory=list)


class JobRunner:
    """Claims jobs from the index's queue, runs them through their registered step and records
    the outcome. Built by :func:`vlagent.jobs.build.build_runner`; owns no thread."""

    def __init__(self, index: Index, settings: Settings, *, worker_id: str):
        self.index = index
        self.queue = JobQueue(index)
        self.settings = settings
        self.worker_id = worker_id
        self.steps: dict[str, Step] = {}
        self.limits = Limits.from_settings(settings)

    def register(self, step: Step) -> None:
        self.steps[step.kind] = step

    def claim(self, kinds: Iterable[str] | None = None, *, image_ids: Iterable[int] | None = None) -> list[Job]:
        """A batch of pending jobs of ``kinds`` (default: every registered step), only of
        ``image_ids`` when given."""
        wanted = [k for k in (kinds or self.steps) if k in self.steps]
        if not wanted:
            return []
        return self.queue.claim(self.worker_id, kinds=wanted,
                                limit={k: self.steps[k].batch_size for k in wanted}, image_ids=image_ids)

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
        """Run one claimed batch (one kind) and record every job's outcome."""
        if not jobs:
            return []
        ctx = ctx or StepContext()
        t0 = time.perf_counter()
        reports: list[JobReport] = []
        runnable: list[Job] = []
        images: list[LoadedImage | None] = []
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
            outputs = execute(self.steps[jobs[0].kind], runnable, images, ctx)
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
                with self.index.transaction():
                    if job.image_id is not None:  # a job without an image keeps no result
                        for result in output.results:
                            self.index.add_result(job.image_id, result)
                    self.queue.done(job.id)
                reports.append(JobReport(job, True, results=output.results))
        ms = (time.perf_counter() - t0) * 1000 / max(len(jobs), 1)
        for r in reports:
            r.ms = ms
        return reports

    def run_direct(self, kind: str, image: LoadedImage, *, image_id: int | None = None,
                   payload: dict[str, object] | None = None, ctx: StepContext | None = None) -> JobReport:
        """Run ``kind``'s step on ``image`` now, outside the queue (nothing is claimed or
        marked); its results are stored with ``image_id`` when one is given. Same step code
        and same stored result as a queued job of that kind."""
        step = self.steps.get(kind)
        job = Job(id=0, image_id=image_id, kind=kind, priority=0, attempts=0, payload=dict(payload or {}))
        if step is None:
            return JobReport(job, False, f"no {kind} step is available in this installation", "failed")
        output = execute(step, [job], [image], ctx or StepContext())[0]
        if output.error is not None:
            return JobReport(job, False, str(output.error), "cancelled" if output.error.cancelled else "failed")
        if image_id is not None:
            with self.index.transaction():
                for result in output.results:
                    self.index.add_result(image_id, result)
        return JobReport(job, True, results=output.results)

    def _record_cancelled(self, jobs: list[Job], *, release: bool) -> list[JobReport]:
        if release:
            with self.index.transaction():
                self.queue.release(j.id for j in jobs)
            return [JobReport(j, False, "cancelled", "pending") for j in jobs]
        for j in jobs:
            self.queue.fail(j.id, "cancelled")
        return [JobReport(j, False, "cancelled", "cancelled") for j in jobs]

    def _record_failure(self, job: Job, err: StepError) -> JobReport:
        state = self.queue.fail(job.id, str(err), retry=err.retry)
        return JobReport(job, False, str(err), state)

    def run_until_empty(self, kinds: Iterable[str] | None = None,
                        on_report: Callable[[JobReport], None] | None = None,
                        should_stop: Callable[[], bool] | None = None,
                        image_ids: Iterable[int] | None = None) -> int:
        n = 0
        wanted = list(kinds) if kinds is not None else None
        images = list(image_ids) if image_ids is not None else None
        while not (should_stop and should_stop()):
            jobs = self.claim(wanted, image_ids=images)
            if not jobs:
                break
            for rep in self.run(jobs):
                n += 1
                if on_report:
                    on_report(rep)
        return n


def execute(step: Step, jobs: list[Job], images: list[LoadedImage | None], ctx: StepContext) -> list[StepOutput]:
    """Run ``step`` over ``jobs`` with ``ctx`` as the step context: one output per job, never
    an exception (a step's crash becomes a retryable error on each job; a cancel, a
    ``cancelled`` error). Records nothing: :class:`JobRunner` and the batch job do that."""
    token = _CONTEXT.set(ctx)
    try:
        if ctx.cancel.cancelled:  # cancelled before it started
            raise Cancelled()
        outputs = step.run(jobs, images)
    except Cancelled:
        ctx.cancel.cancel()
        outputs = [StepOutput(error=StepError("cancelled", cancelled=True)) for _ in jobs]
    except StepError as e:
        outputs = [StepOutput(error=e) for _ in jobs]
    except Exception as e:  # a bug or an engine crash: keep the item, record why
        log.exception("step %s failed", step.kind)
        msg = f"{e.__class__.__name__}: {e}"
        outputs = [StepOutput(error=StepError(msg, retry=True)) for _ in jobs]
        log.debug(traceback.format_exc())
    finally:
        _CONTEXT.reset(token)
    if len(outputs) != len(jobs):  # a step that broke its contract must not lose jobs silently
        log.error("step %s returned %d outputs for %d jobs", step.kind, len(outputs), len(jobs))
        err = StepError(f"the {step.kind} step returned no output for this job", retry=True)
        outputs = list(outputs[:len(jobs)]) + [StepOutput(error=err) for _ in range(len(jobs) - len(outputs))]
    return outputs

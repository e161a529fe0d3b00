"""The one background inference worker: a thread that owns the OCR engine and the model
and runs the persistent queue's jobs, most urgent first.

Everything that touches the index happens on the worker's own thread, through its own
connection (sqlite3 objects are thread-bound); other threads talk to it through an
inbox of calls and a wake-up event. Listeners (a GUI turns them into signals, the CLI
into a status line) are called on the worker's thread.

Scheduling: the queue orders jobs by priority (interactive > screenshot > fresh file >
backlog); a batch shares one kind and priority. A model batch (describe, transcribe) can
take minutes on a CPU, so a question or a screenshot arriving meanwhile pre-empts it: the
batch is cancelled at the next token and its jobs go back to the queue untouched.
Shutdown does the same, so a stopped worker leaves no job ``running``.
"""

from __future__ import annotations

import logging
import queue as queue_mod
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from vlagent.common import CancelToken, call_safely
from vlagent.index.db import IndexGone
from vlagent.index.queue import MODEL_KINDS, PRIO_INTERACTIVE, PRIO_SCREENSHOT, JobQueue, new_worker_id
from vlagent.index.thread import IndexThread, stop_reason
from vlagent.jobs.runner import JobReport, StepContext
from vlagent.vlm.base import VlmError
from vlagent.worker.ask import AskAnswer, AskHandle, ask_payload
from vlagent.worker.status import BUSY, IDLE, PAUSED, STARTING, STOPPED, STOPPING, RateMeter, WorkerStatus

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.jobs.runner import JobRunner
    from vlagent.settings.store import Settings
    from vlagent.worker.prefill import PrefillHandle

log = logging.getLogger(__name__)

PREEMPT_PRIORITY = PRIO_SCREENSHOT  # work at least this urgent interrupts a running model batch
POLL_S = 2.0  # look at the queue this often when idle (other processes may add jobs)
STATUS_EVERY_S = 0.25
AUTO = object()  # "build the engine from the settings"
ERROR_PAUSE_S = 1.0


class StoppableFuture(Future):
    """A future whose ``cancel()`` also stops the work once it runs: its token is set, so a
    generation ends at its next token (the future then fails with :class:`~vlagent.common.Cancelled`)."""

    def __init__(self, token: CancelToken):
        super().__init__()
        self.token = token

    def cancel(self) -> bool:
        self.token.cancel()
        return super().cancel()


class WorkerStopped(VlmError):
    """The worker stopped before answering; the question stays queued for the next start."""


class InferenceWorker(IndexThread):
    thread_name = "vlagent-worker"

    def __init__(self, home: Home, settings: Settings, *, worker_id: str | None = None, engine=AUTO,
                 runner_factory: Callable | None = None, poll_s: float = POLL_S):
        """``engine``: the model engine to share (default: built from the settings when a
        model backend is installed; None: no model). ``runner_factory(index, engine, worker_id)`` builds the job
        runner (default: :func:`vlagent.jobs.build.build_runner`)."""
        super().__init__(home)
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.engine = _default_engine(settings, home) if engine is AUTO else engine
        self._runner_factory = runner_factory
        self.poll_s = poll_s
        self._inbox: queue_mod.SimpleQueue[Callable[[], None]] = queue_mod.SimpleQueue()
        self._wake = threading.Event()
        self._started = threading.Event()
        self._paused = settings.view.privacy.paused
        self._lock = threading.Lock()
        self._current: tuple[list, StepContext] | None = None
        self._asks: dict[int, AskHandle] = {}
        self._prefilling: PrefillHandle | None = None  # the prefill running now (stop() cancels it)
        self._status_listeners: list[Callable[[WorkerStatus], None]] = []
        self._job_listeners: list[Callable[[JobReport], None]] = []
        self.status = WorkerStatus(state=PAUSED if self._paused else STARTING)
        self._rate = RateMeter()
        self._last_status = 0.0
        self._last_model_use = time.monotonic()
        self.runner: JobRunner | None = None  # built on the worker's thread, before its loop starts
        settings.subscribe(self._on_setting)

    # --- public API (any thread) ------------------------------------------------------
    def add_listener(self, on_status: Callable[[WorkerStatus], None] | None = None,
                     on_job: Callable[[JobReport], None] | None = None) -> None:
        if on_status:
            self._status_listeners.append(on_status)
        if on_job:
            self._job_listeners.append(on_job)

    def wait_started(self, timeout: float | None = None) -> bool:
        return self._started.wait(timeout)

    def stop(self, timeout: float | None = 60.0) -> bool:
        """Stop after the current step; a model batch is cancelled and its jobs requeued.
        Returns False when the thread did not end in time."""
        self._stop.set()
        self._preempt(PRIO_INTERACTIVE + 1, release=True)
        prefilling = self._prefilling
        if prefilling is not None:
            prefilling.token.cancel()  # stops at the next layer
        self._wake.set()
        return self._join(timeout)

    def wake(self, priority: int | None = None) -> None:
        """New jobs are in the queue. Work at ``priority`` ≥ screenshot pre-empts a model batch."""
        if priority is not None and priority >= PREEMPT_PRIORITY:
            self._preempt(priority, release=True)
        self._wake.set()

    def pause(self) -> None:
        """Stop background work (a running model batch is requeued); questions still run."""
        self._paused = True
        self._preempt(PRIO_INTERACTIVE, release=True)
        self._wake.set()

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def ask(self, image_ids: list[int], question: str, history=None,
            on_token: Callable[[str], None] | None = None, options: dict | None = None) -> AskHandle:
        """Ask about indexed images; see :mod:`vlagent.worker.ask`. ``options`` overrides
        generation settings for this question (``max_new_tokens``, ``temperature`` …)."""
        handle = AskHandle(*ask_payload(image_ids, question, history, options), on_token, self._request_cancel)
        if self._stop.is_set():
            handle._fail(WorkerStopped("the worker is stopped"))
            return handle
        self._call_soon(lambda: self._submit_ask(handle))
        self._preempt(PRIO_INTERACTIVE, release=True)
        return handle

    def prefill(self, image_ids: list[int], history=None, options: dict | None = None) -> PrefillHandle:
        """Start reading images the user is about to ask about (:mod:`vlagent.worker.prefill`):
        on the worker's thread ahead of queued jobs, pre-empting a background batch. Ask with
        the same ``image_ids``, ``history`` and ``options`` and only the question is read then.
        ``handle.close()`` when the image is closed (stops it, or frees its memory)."""
        from vlagent.worker.ask import normalize_history
        from vlagent.worker.prefill import PrefillHandle, run_prefill

        handle = PrefillHandle([int(i) for i in image_ids], normalize_history(history), options)
        if self.engine is None or self._stop.is_set():
            handle._fail(WorkerStopped("the worker is stopped") if self.engine is not None
                         else VlmError("no vision-language model backend is available"))
            return handle

        def task() -> None:
            if self.runner is None or self._stop.is_set():
                handle._fail(WorkerStopped("the worker stopped before reading the image"))
                return
            self.status.current = {"job_id": None, "kind": "prefill", "image_id": handle.image_ids[0],
                                   "name": "reading the image", "batch": 1, "priority": PRIO_INTERACTIVE}
            self._set_state(BUSY, force=True)
            self._prefilling = handle
            try:
                run_prefill(handle, self.runner, self.engine, self.settings)
            finally:
                self._prefilling = None
                self._last_model_use = time.monotonic()
                self.status.current = None

        self._call_soon(task)
        self._preempt(PRIO_INTERACTIVE, release=True)
        return handle

    def cancel(self, job_id: int) -> None:
        """Cancel a queued or running job (a running generation stops at its next token)."""
        self._cancel_running(job_id)
        self._call_soon(lambda: self._cancel_queued(job_id))

    def preload_model(self) -> None:
        """Load the model now, on the worker's thread (e.g. when a chat window opens)."""
        if self.engine is not None:
            self._call_soon(self._load_model)

    def run_model(self, fn: Callable, label: str = "request", future: Future | None = None) -> Future:
        """Run ``fn(engine)`` on the worker's thread ahead of every queued job, pre-empting a
        running model batch (its jobs go back to the queue). For callers that need the model
        now but keep nothing in the index (the API's chat completions): concurrent calls wait
        their turn here instead of running a second copy of the model. The future holds what
        ``fn`` returned or raised; it fails with :class:`WorkerStopped` if the worker stops first."""
        fut: Future = future if future is not None else Future()
        if self.engine is None:
            fut.set_exception(VlmError("no vision-language model backend is available"))
            return fut
        if self._stop.is_set():
            fut.set_exception(WorkerStopped("the worker is stopped"))
            return fut

        def task() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            if self._stop.is_set():
                fut.set_exception(WorkerStopped("the worker stopped before running the request"))
                return
            self.status.current = {"job_id": None, "kind": "chat", "image_id": None, "name": label, "batch": 1,
                                   "priority": PRIO_INTERACTIVE}
            self._set_state(BUSY, force=True)
            try:
                fut.set_result(fn(self.engine))
            except BaseException as e:
                fut.set_exception(e)
            finally:
                self._last_model_use = time.monotonic()
                self.status.current = None

        self._call_soon(task)
        self._preempt(PRIO_INTERACTIVE, release=True)
        return fut

    def ask_memory(self, question: str, on_token: Callable[[str], None] | None = None,
                   *, store: bool = True, settings=None, cancel: CancelToken | None = None) -> StoppableFuture:
        """A question over everything seen (:func:`vlagent.memory.ask_memory`), answered on the
        worker's thread with its model and its index connection, ahead of queued jobs. The
        future holds the :class:`~vlagent.memory.MemoryAnswer`; its ``cancel()`` (or ``cancel``
        set) stops the answer at its next token and stores nothing. ``settings``: this answer's
        own (e.g. the API's per-request length and sampling), else the worker's."""
        from vlagent.memory import ask_memory

        token = cancel or CancelToken()

        def fn(engine: object) -> object:
            runner = self.runner
            if runner is None:
                raise WorkerStopped("the worker has not started")
            return ask_memory(question, index=runner.index, settings=settings or self.settings,
                              engine=engine,  # type: ignore[arg-type]
                              on_token=on_token, store=store, cancel=token,
                              load_image=lambda image_id: runner.load_image(image_id).image)

        fut = self.run_model(fn, label="memory question", future=StoppableFuture(token))
        assert isinstance(fut, StoppableFuture)
        return fut

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the worker's thread between batches (it may use ``self.runner``)."""
        self._call_soon(fn)

    # --- the worker thread ------------------------------------------------------------
    def _open_failed(self, error: Exception) -> None:
        self.status.error = stop_reason(error)
        self._started.set()
        self._set_state(STOPPED, force=True)

    def _run(self, index: Index) -> None:
        self.runner = self._build_runner(index)
        self._prewarm_ocr()
        self._started.set()
        self._loop()

    def _cleanup(self, index: Index, error: BaseException | None) -> None:
        """Jobs stay resumable: this worker's claims go back to the queue, waiting askers are told."""
        self._started.set()
        self._set_state(STOPPING, force=True)
        call_safely(self._drain_inbox, what="worker: draining the inbox")
        if not isinstance(error, IndexGone):  # else nothing written now would be kept
            _requeue_own(JobQueue(index), self.worker_id)
        for handle in list(self._asks.values()):
            handle._fail(WorkerStopped(str(error) if isinstance(error, IndexGone) else
                                       "the worker stopped before answering; the question stays queued"))
        self._asks.clear()
        self._unload_model()
        self.status.error = stop_reason(error) if error is not None else None
        self._set_state(STOPPED, force=True)

    @property
    def _job_runner(self) -> JobRunner:
        """``self.runner``, for the code that runs on the worker's thread once it is built."""
        if self.runner is None:
            raise RuntimeError("the worker's job runner is not built")
        return self.runner

    def _build_runner(self, index: Index) -> JobRunner:
        if self._runner_factory is not None:
            return self._runner_factory(index, self.engine, self.worker_id)
        from vlagent.jobs.build import build_runner

        return build_runner(index, self.settings, self.home, worker_id=self.worker_id, engine=self.engine)

    def _prewarm_ocr(self) -> None:
        """Load the OCR models now (~1 s) rather than on the first drop."""
        step = self._job_runner.steps.get("ocr")
        if step is not None and self.settings.view.ocr.enabled and hasattr(step, "warm_up"):
            try:
                step.warm_up()
            except Exception:  # the real job will report the problem
                log.exception("OCR engine warm-up failed")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._check_index(self._job_runner.index)  # the data home deleted or unmounted: stop (IndexGone)
            self._drain_inbox()
            if self._stop.is_set():
                break
            try:
                jobs = self._job_runner.claim(["ask"] if self._paused else None)
                if jobs:
                    self._run_batch(jobs)
                    continue
            except sqlite3.OperationalError:  # the database stayed locked: requeue, breathe, retry
                log.exception("worker: database error")
                _requeue_own(self._job_runner.queue, self.worker_id)
                self._stop.wait(ERROR_PAUSE_S)
                continue
            self._set_state(PAUSED if self._paused else IDLE, force=self.status.state == BUSY)
            self._maybe_unload()
            self._wake.wait(self._idle_wait())

    def _run_batch(self, jobs: list) -> None:
        ctx = StepContext(on_token=self._on_token)
        with self._lock:
            self._current = (jobs, ctx)
            if self._stop.is_set():  # stop() came between the claim and now: give the batch back
                ctx.cancel.cancel()
        self.status.current = self._describe(jobs)
        self._set_state(BUSY, force=True)
        try:
            reports = self._job_runner.run(jobs, ctx)
        finally:
            with self._lock:
                self._current = None
        if jobs[0].kind in MODEL_KINDS:
            self._last_model_use = time.monotonic()
        for rep in reports:
            self._finish(rep)
        self._rate.add(len([r for r in reports if r.state != "pending"]))
        self.status.current = None
        self._set_state(BUSY)

    def _finish(self, rep: JobReport) -> None:
        if rep.ok:
            self.status.done += 1
        elif rep.state == "failed":
            self.status.failed += 1
        handle = self._asks.get(rep.job.id)
        if handle is not None and rep.state != "pending":
            del self._asks[rep.job.id]
            if rep.ok:
                r = rep.results[0] if rep.results else None
                handle.set_result(AskAnswer(
                    text=r.text if r else handle.partial, job_id=rep.job.id, image_id=handle.image_id,
                    engine=r.engine if r else "", model=r.model if r else None,
                    timings=(r.timings or {}) if r else {}))
            elif rep.state == "cancelled":
                handle._confirm_cancelled()
            else:
                handle._fail(VlmError(rep.error or "the question could not be answered"))
        elif handle is not None and handle.cancel_requested:
            # Given back to the queue while its asker cancelled: it must not run later
            # (_cancel_queued takes the handle out of _asks and tells the asker).
            self._cancel_queued(rep.job.id)
        for fn in self._job_listeners:
            call_safely(fn, rep, what="worker listener")

    def _describe(self, jobs: list) -> dict:
        job = jobs[0]
        name = None
        if job.image_id is not None:
            locs = self._job_runner.index.locations(job.image_id)
            if locs:
                import os

                name = os.path.basename(locs[-1]["path"])
        return {"job_id": job.id, "kind": job.kind, "image_id": job.image_id, "name": name,
                "batch": len(jobs), "priority": job.priority}

    def _idle_wait(self) -> float:
        wait = self.poll_s
        unload_s = self.settings.view.vlm.idle_unload_s
        if self.engine is not None and unload_s > 0 and _loaded(self.engine):
            wait = min(wait, max(0.05, self._last_model_use + unload_s - time.monotonic()))
        return wait

    def _maybe_unload(self) -> None:
        unload_s = self.settings.view.vlm.idle_unload_s
        if (self.engine is not None and unload_s > 0 and _loaded(self.engine)
                and time.monotonic() - self._last_model_use >= unload_s):
            self._unload_model()
            self._set_state(self.status.state, force=True)

    def _load_model(self) -> None:
        self.engine.load()
        self._last_model_use = time.monotonic()
        self._set_state(self.status.state, force=True)

    def _unload_model(self) -> None:
        if self.engine is not None and _loaded(self.engine):
            try:
                self.engine.unload()
            except Exception:
                log.exception("unloading the model failed")

    # --- inbox work (on the worker thread) ----------------------------------------------
    def _call_soon(self, fn: Callable[[], None]) -> None:
        self._inbox.put(fn)
        self._wake.set()

    def _drain_inbox(self) -> None:
        while True:
            try:
                fn = self._inbox.get_nowait()
            except queue_mod.Empty:
                return
            try:
                fn()
            except Exception:
                log.exception("worker task failed")

    def _submit_ask(self, handle: AskHandle) -> None:
        if handle.cancel_requested:
            handle._confirm_cancelled()
            return
        ids = [handle.image_id, *handle.payload["image_ids"]]
        runner = self._job_runner
        missing = [i for i in ids if runner.index.image(i) is None]
        if missing:
            handle._fail(VlmError(f"no indexed image with id {', '.join(map(str, missing))}"))
            return
        if "ask" not in runner.steps:
            handle._fail(VlmError("no vision-language model backend is available to answer questions"))
            return
        job_id = runner.queue.enqueue(handle.image_id, "ask", priority=PRIO_INTERACTIVE, payload=handle.payload)
        assert job_id is not None  # an ask job is always a new row
        self._asks[job_id] = handle
        handle._set_queued(job_id)

    def _cancel_queued(self, job_id: int) -> None:
        if self._job_runner.queue.cancel(job_id):
            handle = self._asks.pop(job_id, None)
            if handle is not None:
                handle._confirm_cancelled()

    def _request_cancel(self, handle: AskHandle) -> None:
        if handle.job_id is not None:
            self.cancel(handle.job_id)
        else:  # not stored yet: _submit_ask sees cancel_requested
            self._wake.set()

    # --- cancellation and pre-emption (any thread) ---------------------------------------
    def _preempt(self, priority: int, *, release: bool) -> None:
        with self._lock:
            if self._current is None:
                return
            jobs, ctx = self._current
            if jobs[0].kind in MODEL_KINDS and jobs[0].priority < priority:
                ctx.release_on_cancel = release
                ctx.cancel.cancel()

    def _cancel_running(self, job_id: int) -> None:
        with self._lock:
            if self._current is None:
                return
            jobs, ctx = self._current
            if any(j.id == job_id for j in jobs):
                # Alone in its batch: mark it cancelled. In a batch: requeue the others; the
                # cancelled one is then taken out of the queue by _cancel_queued.
                ctx.release_on_cancel = len(jobs) > 1
                ctx.cancel.cancel()

    def _on_token(self, job, piece: str) -> None:
        handle = self._asks.get(job.id)
        if handle is not None:
            call_safely(handle._token, piece, what="worker listener")

    # --- settings and status -----------------------------------------------------------
    def _on_setting(self, key: str, value) -> None:
        if self._stop.is_set():
            return
        if key == "privacy.paused":
            self.pause() if value else self.resume()
        elif key == "vlm.idle_unload_s":
            self._wake.set()  # recompute the idle wait
        # vlm.batch_size needs nothing here: each claim asks the step for its batch size.

    def _set_state(self, state: str, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = state != self.status.state
        if not (changed or force or now - self._last_status >= STATUS_EVERY_S):
            return
        self._last_status = now
        st = self.status
        st.state = state
        if self.runner is not None and state not in (STOPPED,):
            try:
                st.queued = self.runner.queue.pending_count(self.runner.steps.keys())
            except Exception:  # the DB is busy or closing: keep the last count
                pass
        st.rate = self._rate.rate()
        st.eta_s = self._rate.eta(st.queued)
        st.model_loaded = self.engine is not None and _loaded(self.engine)
        st.at = time.time()
        for fn in self._status_listeners:
            call_safely(fn, st, what="worker listener")


def _requeue_own(queue: JobQueue, worker_id: str) -> None:
    """Give this worker's claimed jobs back to the queue."""
    try:
        queue.recover(worker_prefix=worker_id)
    except Exception:
        log.exception("could not requeue this worker's jobs (they recover when their lease ends)")


def _loaded(engine) -> bool:
    try:
        return bool(engine.loaded)
    except Exception:
        return False


def _default_engine(settings, home):
    """The shared model engine, created on first use (see :func:`vlagent.jobs.build.build_engine`)."""
    from vlagent.jobs.build import build_engine

    return build_engine(settings, home)

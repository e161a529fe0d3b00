"""What the HTTP handlers ask of the running agent.

Model work goes through the agent's one inference worker: a chat completion runs as
:meth:`~vlagent.worker.inference.InferenceWorker.run_model` (ahead of queued jobs, nothing
stored), an uploaded image to describe becomes ordinary ``ocr`` / ``describe`` jobs at
interactive priority, stored like every other image's. Concurrent requests wait their
turn at the worker; past ``api.max_pending`` waiting requests the API answers 429.
Reads (search, image records) open their own read-only connection per request, since
sqlite3 connections are bound to the thread that made them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vlagent.api.errors import ApiError
from vlagent.index.queue import PRIO_INTERACTIVE, JobQueue
from vlagent.index.store import Index

if TYPE_CHECKING:
    from vlagent.worker.agent import Agent

MODEL_ALIAS = "vlagent"  # always means the model this agent runs
JOB_CHECK_S = 1.0  # how often a waiting request looks at its job in the database (another process may run it)
FINAL_STATES = ("done", "failed")


@dataclass
class StepOutcome:
    step: str
    job_id: int
    state: str  # done | failed | cancelled
    error: str | None = None


class ApiService:
    def __init__(self, agent: Agent):
        self.agent = agent
        self.worker = agent.worker
        self.home = agent.home
        self.settings = agent.settings
        self._lock = threading.Lock()
        self._pending = 0
        self._waiters: dict[int, Future] = {}
        self._cancels: set = set()
        self.worker.add_listener(on_job=self._on_job)

    # --- the model's name ---------------------------------------------------------------
    def model_id(self) -> str:
        """The name clients use: the remote model's, a hub id, or a local model folder's name."""
        vlm = self.settings.view.vlm
        if vlm.backend == "openai":
            return vlm.openai_model or MODEL_ALIAS
        model = vlm.model
        return os.path.basename(model.rstrip("/\\")) if os.path.isdir(model) else model

    def check_model(self, name: str) -> str:
        known = {self.model_id(), self.settings.view.vlm.model, MODEL_ALIAS}
        if name not in known:
            raise ApiError(404, f"the model {name!r} does not exist here; this server runs {self.model_id()!r} "
                                f"(GET /v1/models)", code="model_not_found", param="model")
        return self.model_id()

    # --- admission ----------------------------------------------------------------------
    def admit(self) -> Slot:
        """One of the ``api.max_pending`` places in the line for the model, or a 429."""
        limit = self.settings.view.api.max_pending
        with self._lock:
            if self._pending >= limit:
                raise ApiError(429, f"{self._pending} requests are already waiting for the model "
                                    f"(api.max_pending); retry shortly", code="too_many_pending",
                               headers={"Retry-After": "1"})
            self._pending += 1
        return Slot(self)

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def _require_worker(self) -> None:
        if not self.worker.running:
            raise ApiError(503, "the inference worker is not running", code="worker_stopped", type="server_error")

    # --- chat: the model, right now, nothing stored ----------------------------------------
    def chat(self, messages, options, on_token, cancel) -> Future:
        self._require_worker()
        with self._lock:
            self._cancels.add(cancel)
        fut = self.worker.run_model(lambda engine: engine.chat(messages, options, on_token=on_token, cancel=cancel),
                                    label="API request")
        fut.add_done_callback(lambda _: self._forget_cancel(cancel))
        return fut

    def _forget_cancel(self, cancel) -> None:
        with self._lock:
            self._cancels.discard(cancel)

    # --- describe: an upload becomes an indexed image with its jobs ----------------------------
    def queue_upload(self, data: bytes, name: str | None, steps: list[str]):
        """Record the upload (source ``api``) and queue each of ``steps`` it has no result for,
        at interactive priority. Returns (outcome, [(step, job id, future of its report)])."""
        from vlagent.ingest.pipeline import FAILED, RESULT_OF_STEP, Ingestor

        index = Index.open(self.home)
        try:
            outcome = Ingestor(index, self.settings, self.home).ingest_bytes(data, source="api", name=name, steps=[])
            if outcome.status == FAILED:
                return outcome, []
            image_id = outcome.image_id
            assert image_id is not None  # every outcome but FAILED names its image
            have = index.result_kinds(image_id)
            queue = JobQueue(index)
            waits = []
            for step in steps:
                if RESULT_OF_STEP[step] in have:
                    continue
                job_id = queue.enqueue(image_id, step, priority=PRIO_INTERACTIVE)
                assert job_id is not None  # a row id: enqueue either inserts or finds the job
                fut: Future = Future()
                with self._lock:
                    self._waiters[job_id] = fut
                waits.append((step, job_id, fut))
        finally:
            index.close()
        self.worker.wake(PRIO_INTERACTIVE)
        return outcome, waits

    async def wait_job(self, step: str, job_id: int, fut: Future) -> StepOutcome:
        """Until the job is done or failed: told by the worker, or seen in the database."""
        waiting = asyncio.wrap_future(fut)
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=JOB_CHECK_S)
            if done:
                state, error = waiting.result()
                return StepOutcome(step, job_id, state, error)
            row = await asyncio.to_thread(self._job_row, job_id)
            if row is None or row["state"] in FINAL_STATES:
                with self._lock:
                    self._waiters.pop(job_id, None)
                if row is None:
                    return StepOutcome(step, job_id, "failed", "the job was removed")
                return StepOutcome(step, job_id, row["state"], row["error"])
            if not self.worker.running:
                raise ApiError(503, "the inference worker stopped; the job stays queued", code="worker_stopped",
                               type="server_error")

    def _on_job(self, rep) -> None:  # on the worker's thread
        if rep.state == "pending":  # given back to the queue (pre-empted) or to be retried: not over yet
            return
        with self._lock:
            fut = self._waiters.pop(rep.job.id, None)
        if fut is not None and not fut.done():
            fut.set_result(("done" if rep.ok else rep.state, rep.error))

    def _job_row(self, job_id: int) -> dict | None:
        with self.read_index() as index:
            return JobQueue(index).get(job_id)

    # --- reads --------------------------------------------------------------------------
    @contextmanager
    def read_index(self):
        index = Index.open(self.home, readonly=True)
        try:
            yield index
        finally:
            index.close()

    # --- shutdown -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop every generation the API started; requests still waiting for a job fail."""
        from vlagent.worker.inference import WorkerStopped

        with self._lock:
            cancels, self._cancels = list(self._cancels), set()
            waiters, self._waiters = list(self._waiters.values()), {}
        for c in cancels:
            c.cancel()
        for fut in waiters:
            if not fut.done():
                fut.set_exception(WorkerStopped("the API server stopped"))


class Slot:
    """A held place in the line; ``release()`` may be called more than once."""

    def __init__(self, service: ApiService):
        self._service: ApiService | None = service

    def release(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            service._release()

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def elapsed_ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)

"""What the HTTP handlers ask of the running agent.

Model work goes through the agent's one inference worker. Generations (a chat completion,
a describe with a prompt or knobs) go through one :class:`~vlagent.api.batching.ChatScheduler`,
which runs the requests waiting for the model as one batch (``engine.chat_many``) in a
:meth:`~vlagent.worker.inference.InferenceWorker.run_model` turn, ahead of queued jobs, nothing
stored. An uploaded image to describe plainly becomes ordinary ``ocr`` / ``describe`` jobs at
interactive priority, stored like every other image's; a memory question runs as
:meth:`~vlagent.worker.inference.InferenceWorker.ask_memory`. Past ``api.max_pending`` waiting
requests the API answers 429.
Reads (search, image records) open their own read-only connection per request, since
sqlite3 connections are bound to the thread that made them. Every opening checks that the
index is still where the agent opened it: when the data home was deleted or its disk unmounted
the answer is a 503 saying so (code ``index_gone``), and no new index is created in its place.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vlagent.api.batching import ChatScheduler, Ticket
from vlagent.api.errors import ApiError
from vlagent.api.metrics import Metrics
from vlagent.api.tokens import NoTokenizer, Tokens
from vlagent.index.db import IndexGone
from vlagent.index.queue import PRIO_INTERACTIVE, JobQueue
from vlagent.index.store import Index
from vlagent.memory import MEMORY_MODEL_ID

if TYPE_CHECKING:
    from vlagent.api.server import ServeOptions
    from vlagent.worker.agent import Agent

log = logging.getLogger(__name__)

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
    def __init__(self, agent: Agent, options: ServeOptions | None = None):
        from vlagent.api.server import ServeOptions

        self.agent = agent
        self.worker = agent.worker
        self.home = agent.home
        self.settings = agent.settings
        self.options = options or ServeOptions()
        self._lock = threading.Lock()
        self._pending = 0
        self._waiters: dict[int, Future] = {}
        self._cancels: set = set()
        self.metrics = Metrics()
        self.scheduler = ChatScheduler(self.worker, lambda: self.settings.view.vlm.batch_size,
                                       on_batch=self.metrics.batch_size.observe,
                                       on_wait=self.metrics.queue_time.observe)
        self.tokens = Tokens()
        self.model_state = "not loaded"  # → loading → ready | unavailable (serve loads before it listens)
        self.load_seconds: float | None = None
        self.load_error: str | None = None
        self.metrics.bind(self)
        self.worker.add_listener(on_job=self._on_job)

    # --- the model's name ---------------------------------------------------------------
    def model_id(self) -> str:
        """The name clients use: the first ``--served-model-name``, else the remote model's, a
        hub id, or a local model folder's name."""
        if self.options.served_model_names:
            return self.options.served_model_names[0]
        return self.base_model_id()

    def base_model_id(self) -> str:
        vlm = self.settings.view.vlm
        if vlm.backend == "openai":
            return vlm.openai_model or MODEL_ALIAS
        model = vlm.model
        return os.path.basename(model.rstrip("/\\")) if os.path.isdir(model) else model

    def model_names(self) -> list[str]:
        """What ``GET /v1/models`` lists: the served names (or the model's), then the memory model."""
        return [*(self.options.served_model_names or [self.base_model_id()]), MEMORY_MODEL_ID]

    def check_model(self, name: str) -> str:
        """The name to answer with for a request naming ``name`` (any served name, the model's id
        or path, or ``vlagent``), or a 404."""
        known = {*self.options.served_model_names, self.base_model_id(), self.settings.view.vlm.model, MODEL_ALIAS}
        if name not in known:
            hint = "" if name in self.options.served_model_names else \
                f"; start it with --served-model-name {name} to answer to that name too"
            raise ApiError(404, f"the model {name!r} does not exist here; this server runs {self.model_id()!r} "
                                f"(GET /v1/models){hint}", code="model_not_found", param="model")
        return self.model_id()

    def max_images(self) -> int:
        """Images one request may carry (``--limit-mm-per-prompt image=N``; else the API's cap)."""
        from vlagent.api.chat import MAX_IMAGES

        n = self.options.max_images
        return MAX_IMAGES if n is None else n

    # --- the model in memory ------------------------------------------------------------
    def model_loaded(self) -> bool:
        engine = self.worker.engine
        try:
            return engine is not None and bool(engine.loaded)
        except Exception:
            return False

    def load_model(self, timeout: float | None = None) -> float | None:
        """Load the model and answer one token (warm-up) on the worker; the seconds it took, or
        None when there is nothing to load here (no model backend, a remote model) or the model
        is not available (logged; model requests then answer 503)."""
        engine = self.worker.engine
        if engine is None or self.settings.view.vlm.backend != "transformers":
            self.model_state = "ready" if engine is not None else "unavailable"
            return None
        from vlagent.vlm.base import VlmError
        from vlagent.vlm.factory import check_installed
        from vlagent.vlm.loading import resolve_model_dir

        self.model_state = "loading"
        t0 = time.perf_counter()
        try:
            check_installed("transformers")
            resolve_model_dir(self.settings.view.vlm.model, home=self.home, settings=self.settings)  # fails fast
            ms = self.worker.run_model(warm_up, label="loading the model").result(timeout)
        except VlmError as e:
            self.model_state, self.load_error = "unavailable", str(e)
            log.warning("the model is not available: %s; chat and describe requests answer 503", e)
            return None
        self.load_seconds = time.perf_counter() - t0
        self.model_state = "ready"
        log.info("model %s loaded and warmed up in %.1f s (warm-up %.0f ms)", self.settings.view.vlm.model,
                 self.load_seconds, ms)
        return self.load_seconds

    def bind_tokens(self) -> Tokens:
        """The local model's tokenizer (copied once per load); a 400 when there is none."""
        try:
            self.tokens.bind(self.worker.engine)
        except NoTokenizer as e:
            raise ApiError(400, str(e), code="tokenizer_unavailable") from None
        return self.tokens

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

    @property
    def pending(self) -> int:
        return self._pending

    def require_worker(self) -> None:
        """An ApiError (503, with the reason; index_gone when the data home went away) unless
        the inference worker runs."""
        if not self.worker.running:
            if self.worker.gone is not None:
                raise index_gone(self.worker.gone)
            error = self.worker.status.error
            raise ApiError(503, "the inference worker is not running" + (f": {error}" if error else ""),
                           code="worker_stopped", type="server_error")

    def open_index(self, *, readonly: bool = False) -> Index:
        """A connection of this request's thread; a 503 when the index is gone (nothing is created)."""
        try:
            return Index.open(self.home, readonly=readonly)
        except IndexGone as e:
            raise index_gone(e) from None

    # --- chat: the model, right now, nothing stored ----------------------------------------
    def chat(self, messages, options, on_token, cancel, ticket: Ticket | None = None) -> Future:
        """A generation through the batching scheduler; the future holds the Generation."""
        try:
            self.require_worker()
        except ApiError:
            if ticket is not None:
                ticket.drop()
            raise
        with self._lock:
            self._cancels.add(cancel)
        fut = self.scheduler.submit(messages, options, on_token, cancel, ticket)
        fut.add_done_callback(lambda _: self._forget_cancel(cancel))
        return fut

    def ask_memory(self, question: str, on_token, *, store: bool = True,
                   overrides: dict[str, Any] | None = None, cancel=None) -> Future:
        """A question over everything seen, on the worker; the future holds a MemoryAnswer.
        ``overrides``: settings for this answer only (its length and sampling); ``cancel`` set
        (the client went away) stops it at the next token, storing nothing."""
        self.require_worker()
        settings = None
        if overrides:
            from vlagent.settings import Settings

            settings = Settings(values=self.settings.as_dict(redact=False))
            for key, value in overrides.items():
                settings.override(key, value)
        return self.worker.ask_memory(question, on_token, store=store, settings=settings, cancel=cancel)

    def _forget_cancel(self, cancel) -> None:
        with self._lock:
            self._cancels.discard(cancel)

    # --- describe: an upload becomes an indexed image with its jobs ----------------------------
    def queue_upload(self, data: bytes, name: str | None, steps: list[str], source: str = "api"):
        """Record the upload (source ``api``, or ``web`` from the browser page) and queue each of
        ``steps`` it has no result for, at interactive priority. Returns (outcome, [(step, job id,
        future of its report)])."""
        from vlagent.ingest.pipeline import FAILED, RESULT_OF_STEP, Ingestor

        index = self.open_index()
        try:
            outcome = Ingestor(index, self.settings, self.home).ingest_bytes(data, source=source, name=name, steps=[])
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
                if self.worker.gone is not None:
                    raise index_gone(self.worker.gone)
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
        index = self.open_index(readonly=True)
        try:
            yield index
        finally:
            index.close()

    # --- shutdown -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop every generation the API started; requests still waiting for a job fail."""
        from vlagent.worker.inference import WorkerStopped

        self.scheduler.close()
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


def warm_up(engine: Any) -> float:
    """Load the model and generate one token about a small image: the first real request then
    finds the weights, the vision tower and the decoder ready. Returns the warm-up's ms."""
    from PIL import Image

    from vlagent.vlm.base import ChatMessage, GenerationOptions

    engine.load()
    t0 = time.perf_counter()
    image = Image.new("RGB", (56, 56), "white")
    engine.chat([ChatMessage("user", "Hi", [image])], GenerationOptions(max_new_tokens=1))
    return (time.perf_counter() - t0) * 1000


def index_gone(e: IndexGone) -> ApiError:
    return ApiError(503, str(e), code="index_gone", type="server_error")


def elapsed_ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)

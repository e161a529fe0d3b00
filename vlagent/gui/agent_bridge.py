"""The agent (inference worker + folder watcher, :mod:`vlagent.worker`) seen from Qt.

The agent's listeners run on its threads; this bridge turns them into Qt signals, which Qt
delivers on the GUI thread. Building and starting the agent (which may import torch) and
stopping it happen off the GUI thread too.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, Signal

from vlagent.gui.tasks import TaskThread
from vlagent.index.queue import MODEL_KINDS

log = logging.getLogger(__name__)

class AskSession(QObject):
    """One question in flight: ``token`` for each streamed piece, then ``answered`` (an
    :class:`~vlagent.worker.ask.AskAnswer`), ``failed`` (a message) or ``cancelled``."""

    token = Signal(str)
    answered = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.handle = None
        self.pieces: list[str] = []  # as streamed, on the GUI thread
        self.token.connect(self.pieces.append)

    def attach(self, handle) -> None:
        self.handle = handle
        handle.add_done_callback(self._done)  # called on the worker's thread

    def _done(self, handle) -> None:
        if handle.cancelled():
            self.cancelled.emit()
            return
        error = handle.exception()
        if error is not None:
            self.failed.emit(str(error) or error.__class__.__name__)
        else:
            self.answered.emit(handle.result())

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()


class AgentBridge(QObject):
    started = Signal()
    start_failed = Signal(str)
    status_changed = Signal(object)  # a WorkerStatus snapshot
    job_finished = Signal(object)  # a JobReport
    model_loaded = Signal(bool)  # after preload_model(): whether the model is now loaded

    def __init__(self, home, settings, parent=None):
        super().__init__(parent)
        self.home = home
        self.settings = settings
        self.agent = None
        self.error: str | None = None
        self.loading_model = False  # a preload was asked for and the model is not loaded yet
        self._thread = TaskThread("agent", self)

    # --- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread.submit(self._start, lambda _r: self.started.emit(), self._start_failed)

    def _start(self) -> None:
        from vlagent.worker import Agent

        agent = Agent(self.home, self.settings)
        agent.worker.add_listener(on_status=self._on_status, on_job=self._on_job)
        agent.start()
        self.agent = agent

    def _start_failed(self, error: BaseException) -> None:
        self.error = str(error) or error.__class__.__name__
        log.warning("the background worker did not start: %s", self.error)
        self.start_failed.emit(self.error)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the agent (blocks up to ``timeout``; a model batch is requeued, not lost)."""
        self._thread.stop(timeout)
        if self.agent is not None:
            self.agent.stop(timeout)
            self.agent = None

    @property
    def running(self) -> bool:
        return self.agent is not None

    @property
    def worker(self):
        return self.agent.worker if self.agent is not None else None

    @property
    def can_describe(self) -> bool:
        """The worker runs with a model engine (it may still fail to load a model: the answer says why)."""
        worker = self.worker
        return self.running and worker is not None and worker.engine is not None

    can_ask = can_describe

    # --- listeners (worker thread) → signals --------------------------------------------
    def _on_status(self, status) -> None:
        if status.model_loaded:
            self.loading_model = False
        self.status_changed.emit(dataclasses.replace(status, current=dict(status.current or {}) or None))

    def _on_job(self, report) -> None:
        self.job_finished.emit(report)

    # --- requests ---------------------------------------------------------------------------
    def wake(self, priority: int | None = None) -> None:
        if self.worker is not None:
            self.worker.wake(priority)

    def preload_model(self) -> None:
        """Load the model now (e.g. when the Ask panel opens), so the first answer is sooner."""
        worker = self.worker
        if worker is None or worker.engine is None or _loaded(worker.engine) or self.loading_model:
            return
        self.loading_model = True
        worker.preload_model()
        worker.call_soon(lambda: self._preloaded(worker))  # the worker's inbox runs in order

    def _preloaded(self, worker) -> None:
        self.loading_model = False
        loaded = _loaded(worker.engine)
        self.model_loaded.emit(loaded)
        if not loaded:
            log.warning("the model %s could not be loaded", worker.engine.model_id)

    def ask(self, image_ids: list[int], question: str, history=None, parent=None) -> AskSession:
        session = AskSession(parent)
        if self.worker is None:
            # Delivered after the caller connected its slots.
            self._thread.submit(lambda: None, lambda _r: session.failed.emit(
                self.tr("The background worker is not running: {reason}").format(
                    reason=self.error or self.tr("still starting"))))
            return session
        session.attach(self.worker.ask(image_ids, question, history, on_token=session.token.emit))
        return session


def _loaded(engine) -> bool:
    return engine is not None and bool(engine.loaded)


def tray_state(status, paused: bool, loading_model: bool = False) -> str:
    """The tray's state from a worker status: idle, busy, loading, paused or error."""
    if status is not None and status.error:
        return "error"
    if status is None or loading_model:
        return "loading"
    if status.state == "busy":
        current = status.current or {}
        if current.get("kind") in MODEL_KINDS and not status.model_loaded:
            return "loading"
        return "busy"
    if paused or status.state == "paused":
        return "paused"
    if status.state in ("starting",):
        return "loading"
    return "idle"

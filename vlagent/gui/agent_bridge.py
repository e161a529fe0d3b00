"""The agent (inference worker + folder watcher, :mod:`vlagent.worker`) seen from Qt.

The agent's listeners run on its threads; this bridge turns them into Qt signals, which Qt
delivers on the GUI thread. Building and starting the agent (which may import torch) and
stopping it happen off the GUI thread too.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, Qt, Signal

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


class MemorySession(QObject):
    """One question over everything seen in flight: ``token`` for each streamed piece, then
    ``answered`` (a :class:`~vlagent.memory.answer.MemoryAnswer`), ``failed`` (a message) or
    ``cancelled``. Every signal reaches the GUI thread after the caller connected its slots,
    whenever and on whichever thread the worker ends. ``stop()`` ends the session at once; a
    generation already running stops at its next token and nothing is stored."""

    token = Signal(str)
    answered = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    _settled = Signal(object)  # the future, from the thread that finished it

    def __init__(self, question: str, parent=None):
        super().__init__(parent)
        self.question = question
        self.handle = None
        self.pieces: list[str] = []  # as streamed, on the GUI thread
        self.finished = False
        self.token.connect(self._piece)
        self._settled.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def attach(self, handle) -> None:
        self.handle = handle
        handle.add_done_callback(self._settled.emit)  # on the worker's thread, or now when already done

    def on_token(self, piece: str) -> None:
        """The worker's token callback (its thread)."""
        if not self.finished:
            self.token.emit(piece)

    def fail_later(self, message: str) -> None:
        self._settled.emit(message)

    def _piece(self, piece: str) -> None:
        if not self.finished:
            self.pieces.append(piece)

    def _deliver(self, handle) -> None:
        if self.finished:
            return
        self.finished = True
        if isinstance(handle, str):
            self.failed.emit(handle)
        elif handle.cancelled():
            self.cancelled.emit()
        elif handle.exception() is not None:
            error = handle.exception()
            self.failed.emit(str(error) or error.__class__.__name__)
        else:
            self.answered.emit(handle.result())

    def stop(self) -> None:
        if self.finished:
            return
        if self.handle is not None:
            self.handle.cancel()  # still queued: it never runs
        self.finished = True
        self.cancelled.emit()

    cancel = stop


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
        self._watcher_error: str | None = None  # why the folder watcher stopped, if it did
        self._thread = TaskThread("agent", self)

    # --- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread.submit(self._start, lambda _r: self.started.emit(), self._start_failed)

    def _start(self) -> None:
        from vlagent.worker import Agent

        agent = Agent(self.home, self.settings)
        self._watcher_error = None
        agent.worker.add_listener(on_status=self._on_status, on_job=self._on_job)
        agent.watcher.add_listener(on_status=lambda st: self._on_watch_status(agent, st))
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
        # The watcher's error (the data home deleted: the index is gone) is the agent's too.
        error = status.error or self._watcher_error
        self.status_changed.emit(dataclasses.replace(status, current=dict(status.current or {}) or None,
                                                     error=error))

    def _on_watch_status(self, agent, status) -> None:
        """The watcher stopped on an error: the tray says so at once, as for the worker's own."""
        if status.error and status.error != self._watcher_error:
            self._watcher_error = status.error
            self._on_status(agent.worker.status)

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


    def ask_memory(self, question: str, parent=None) -> MemorySession:
        """Ask about everything seen (:meth:`vlagent.worker.InferenceWorker.ask_memory`): the
        answer streams into the session's ``token`` signal; it is stored with the images it cites."""
        session = MemorySession(question, parent)
        if self.worker is None:
            session.fail_later(self.tr("The background worker is not running: {reason}").format(
                reason=self.error or self.tr("still starting")))
            return session
        session.attach(self.worker.ask_memory(question, on_token=session.on_token))
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

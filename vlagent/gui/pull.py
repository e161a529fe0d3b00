"""Downloading a model from the settings dialog: :func:`vlagent.vlm.hub.pull` on a background
thread, its byte progress turned into Qt signals (at most ~10 a second)."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from vlagent.gui.tasks import TaskThread

EMIT_EVERY_S = 0.1


class PullTask(QObject):
    progress = Signal(int, int)  # bytes done (including those kept from an interrupted pull), total
    finished = Signal(object)  # vlagent.vlm.hub.PullResult
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tasks = TaskThread("pull", self)
        self._lock = threading.Lock()
        # vlagent.vlm.hub.progress.ByteSink: bytes done and to fetch in all (never None here)
        self.done = 0
        self.total: int | None = 0
        self._last = 0.0

    # ByteSink, called from the download threads
    def set_total(self, total: int) -> None:
        with self._lock:
            self.total = total
        self._emit(force=True)

    def advance(self, n: int = 1, note: str = "") -> None:
        with self._lock:
            self.done += n
        self._emit()

    def _emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= EMIT_EVERY_S:
            self._last = now
            self.progress.emit(self.done, self.total)

    def _sink(self, to_fetch: int, already: int) -> PullTask:
        with self._lock:
            self.done, self.total = already, to_fetch + already
        self._emit(force=True)
        return self


def start_pull(model: str, hub: str, home, parent=None) -> PullTask:
    from vlagent.vlm.hub import pull

    task = PullTask(parent)

    def run():
        return pull(model, home=home, hub=hub, progress=task._sink)

    def done(result) -> None:
        task.progress.emit(task.total, task.total)
        task.finished.emit(result)
        task.tasks.stop(0)

    def failed(error: BaseException) -> None:
        task.failed.emit(str(error) or error.__class__.__name__)
        task.tasks.stop(0)

    task.tasks.submit(run, done, failed)
    return task

"""Running work off the GUI thread and getting the answer back on it.

A :class:`TaskThread` is one Python thread with a queue of callables; each result (or
error) is delivered to its callback on the GUI thread through a queued Qt signal. A task
submitted with a ``key`` replaces any older task with the same key that has not started
yet, so typing fast runs only the newest search.

:class:`IndexThread` gives its tasks the thread's own index connection (sqlite3
connections are bound to the thread that made them).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from vlagent.index.store import Index

log = logging.getLogger(__name__)

_STOP = object()


class TaskThread(QObject):
    _delivered = Signal(object, object)  # callback, its argument (a result or an exception)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._latest: dict[str, int] = {}
        self._tickets = itertools.count(1)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._delivered.connect(self._deliver)

    def submit(self, fn: Callable[..., Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, *, key: str | None = None) -> int:
        """Run ``fn(*self.task_args())`` on the thread; ``on_done(result)`` or ``on_error(exc)``
        then run on the GUI thread."""
        ticket = next(self._tickets)
        with self._lock:
            if key is not None:
                self._latest[key] = ticket
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name=f"vlagent-{self.name}", daemon=True)
                self._thread.start()
        self._queue.put((ticket, key, fn, on_done, on_error))
        return ticket

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    # --- the thread -------------------------------------------------------------------
    def task_args(self) -> tuple:
        return ()

    def close_thread(self) -> None:
        """Called on the thread before it ends."""

    def _main(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                ticket, key, fn, on_done, on_error = item
                if key is not None and self._latest.get(key) != ticket:
                    continue  # a newer task with this key is queued
                try:
                    result, error = fn(*self.task_args()), None
                except BaseException as e:  # delivered to on_error, logged when nobody listens
                    result, error = None, e
                    if on_error is None:
                        log.exception("background task failed on %s", self.name)
                if key is not None and self._latest.get(key) != ticket:
                    continue  # finished, but a newer one was asked for meanwhile
                callback = on_error if error is not None else on_done
                if callback is not None:
                    self._delivered.emit(callback, error if error is not None else result)
        finally:
            self.close_thread()

    def _deliver(self, callback, value) -> None:
        callback(value)


class IndexThread(TaskThread):
    """Tasks get ``index``: this thread's own :class:`~vlagent.index.store.Index`, opened on
    first use (``None`` while nothing has been indexed, when ``create`` is False)."""

    def __init__(self, name: str, home, *, create: bool = False, parent: QObject | None = None):
        super().__init__(name, parent)
        self.home = home
        self.create = create
        self._index: Index | None = None

    def task_args(self) -> tuple:
        if self._index is None and (self.create or self.home.db_path.exists()):
            from vlagent.index.store import Index

            self._index = Index.open(self.home)
        elif self._index is not None and self.create:
            self._index.check_still_there()  # the data home deleted: no write into a lost file (IndexGone)
        return (self._index,)

    def close_thread(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

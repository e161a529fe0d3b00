"""A thread that owns its own :class:`~vlagent.index.store.Index` connection.

sqlite3 connections are bound to the thread that opened them, so each long-lived worker of
vlagent (the inference worker, the folder watcher) runs its loop on a thread of its own,
opened here; other threads reach it only through its own inbox. Subclasses implement
:meth:`IndexThread._run` and may override the hooks around it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.store import Index

log = logging.getLogger(__name__)


class IndexThread:
    """Start with :meth:`start`; :meth:`_run` runs on the thread with the open index, which is
    closed after :meth:`_cleanup`, whatever happened."""

    thread_name = "vlagent-index"

    def __init__(self, home: Home) -> None:
        self.home = home
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IndexThread:
        self._thread = threading.Thread(target=self._main, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _join(self, timeout: float | None) -> bool:
        """Wait for the thread; False when it did not end in time."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _main(self) -> None:
        from vlagent.index.store import Index

        try:
            index = Index.open(self.home)
        except Exception as e:  # an unusable index: say so, instead of leaving callers waiting
            log.exception("%s could not open the index", self.thread_name)
            self._open_failed(e)
            return
        error: BaseException | None = None
        try:
            self._run(index)
        except BaseException as e:  # keep the reason for listeners
            log.exception("%s stopped on an error", self.thread_name)
            error = e
        finally:
            try:
                self._cleanup(index, error)
            finally:
                index.close()

    # --- for subclasses -------------------------------------------------------------
    def _run(self, index: Index) -> None:
        raise NotImplementedError

    def _open_failed(self, error: Exception) -> None:
        """The index could not be opened; the thread ends."""

    def _cleanup(self, index: Index, error: BaseException | None) -> None:
        """On the thread, after :meth:`_run` (``error``: what ended it, if anything); the index is still open."""

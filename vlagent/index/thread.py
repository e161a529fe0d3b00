"""A thread that owns its own :class:`~vlagent.index.store.Index` connection.

sqlite3 connections are bound to the thread that opened them, so each long-lived worker of
vlagent (the inference worker, the folder watcher) runs its loop on a thread of its own,
opened here; other threads reach it only through its own inbox. Subclasses implement
:meth:`IndexThread._run` and may override the hooks around it.

Before each round of work a subclass calls :meth:`IndexThread._check_index`: when the data
home was deleted or its disk unmounted under the running process, the index file is no
longer at its path and everything written to the open connection would be lost. The check
raises :class:`~vlagent.index.db.IndexGone`, which ends the thread (no further writes), is
logged as an error and kept in :attr:`IndexThread.gone` for the faces to report.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from vlagent.index.db import IndexGone

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.store import Index

log = logging.getLogger(__name__)


def stop_reason(error: BaseException) -> str:
    """Why a thread stopped, for a status line (an :class:`IndexGone` says it in full already)."""
    return str(error) if isinstance(error, IndexGone) else f"{error.__class__.__name__}: {error}"


class IndexThread:
    """Start with :meth:`start`; :meth:`_run` runs on the thread with the open index, which is
    closed after :meth:`_cleanup`, whatever happened."""

    thread_name = "vlagent-index"

    def __init__(self, home: Home) -> None:
        self.home = home
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.gone: IndexGone | None = None  # set when the thread stopped because its index vanished

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
        except IndexGone as e:
            self._index_gone(e)
            self._open_failed(e)
            return
        except Exception as e:  # an unusable index: say so, instead of leaving callers waiting
            log.exception("%s could not open the index", self.thread_name)
            self._open_failed(e)
            return
        error: BaseException | None = None
        try:
            self._run(index)
        except IndexGone as e:
            self._index_gone(e)
            error = e
        except BaseException as e:  # keep the reason for listeners
            log.exception("%s stopped on an error", self.thread_name)
            error = e
        finally:
            try:
                self._cleanup(index, error)
            finally:
                index.close()

    def _index_gone(self, error: IndexGone) -> None:
        self.gone = error
        log.error("%s stopped: %s", self.thread_name, error)

    # --- for subclasses -------------------------------------------------------------
    def _check_index(self, index: Index) -> None:
        """Raise :class:`~vlagent.index.db.IndexGone` (ending the thread) when the index file
        is no longer at its path. One ``stat``: call it before each round of writes."""
        index.check_still_there()

    def _run(self, index: Index) -> None:
        raise NotImplementedError

    def _open_failed(self, error: Exception) -> None:
        """The index could not be opened; the thread ends."""

    def _cleanup(self, index: Index, error: BaseException | None) -> None:
        """On the thread, after :meth:`_run` (``error``: what ended it, if anything); the index is still open."""

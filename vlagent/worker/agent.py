"""The background agent: the inference worker and the folder watcher, one per data home.

``vlagent watch`` runs it in the foreground; the desktop app runs the same object
beside its windows. It takes the data home's lock (two workers on one database would
fight), wires the watcher to wake the worker, and follows ``config.toml``: a setting
changed by another process (``vlagent config privacy.paused true``) reaches the
running agent within a second.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from vlagent.watch.watcher import FolderWatcher
from vlagent.worker.inference import InferenceWorker
from vlagent.worker.lock import InstanceLock

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.ingest.pipeline import Outcome
    from vlagent.settings.store import Settings

log = logging.getLogger(__name__)

CONFIG_CHECK_S = 1.0


class Agent:
    def __init__(self, home: Home, settings: Settings, folders=None, *, worker_kwargs: dict | None = None):
        """``folders``: watch these (default: the ``watch.folders`` setting, followed live)."""
        self.home = home
        self.settings = settings
        self.lock = InstanceLock(home.root)
        self.worker = InferenceWorker(home, settings, **(worker_kwargs or {}))
        self.watcher = FolderWatcher(home, settings, folders, on_ingested=self._ingested)
        self._stop = threading.Event()
        self._config_thread: threading.Thread | None = None
        # The file as the settings were read from it (near enough: taken before anything can
        # start late), so a change saved before the follower thread first runs is still seen.
        self._config_version = _version(settings.path) if settings.path is not None else None

    def _ingested(self, outcome: Outcome, priority: int) -> None:
        self.worker.wake(priority)

    def start(self) -> Agent:
        """Take the lock (raises :class:`~vlagent.worker.lock.AlreadyRunning`) and start."""
        self.home.ensure()
        self.lock.acquire()
        try:
            self.worker.start()
            self.watcher.start()
        except BaseException:
            self.lock.release()
            raise
        if self.settings.path is not None:
            self._config_thread = threading.Thread(target=self._follow_config,
                                                   args=(self.settings.path, self._config_version),
                                                   name="vlagent-config", daemon=True)
            self._config_thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the watcher, then the worker (a model batch in flight is requeued); every
        job is left pending or finished. Returns False if a thread did not end in time."""
        self._stop.set()
        ok = self.watcher.stop(timeout)
        ok = self.worker.stop(timeout) and ok
        if self._config_thread is not None:
            self._config_thread.join(5)
        self.lock.release()
        return ok

    def _follow_config(self, path: Path, last: tuple | None) -> None:
        """Reload when the file differs from ``last`` (its :func:`_version` when followed from)."""
        while not self._stop.wait(CONFIG_CHECK_S):
            now = _version(path)
            if now != last:
                last = now
                try:
                    changed = self.settings.reload()
                except Exception:
                    log.exception("could not reload %s", path)
                    continue
                if changed:
                    log.info("settings changed: %s", ", ".join(changed))


def _version(path: Path) -> tuple | None:
    """What tells one save of the file from another: inode, size and mtime, and the content's
    hash — two saves within one coarse mtime tick can share the mtime, a replaced file's inode
    can be reused, an edit in place can keep the size. None while the file does not exist."""
    try:
        st = path.stat()
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, digest

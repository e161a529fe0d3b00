"""Choosing how a folder is watched: inotify (or the platform's native API) where it
works, a polling observer on network file systems, when the inotify watch limit is hit,
or when the user asks for it (``watch.polling``)."""

from __future__ import annotations

import errno
import logging
import os
import queue as queue_mod
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch

log = logging.getLogger(__name__)

# File systems whose changes made on other machines never reach inotify.
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph", "glusterfs", "lustre",
              "fuse.sshfs", "sshfs", "fuse.rclone", "fuse.s3fs", "davfs", "fuse.davfs2", "virtiofs",
              "vboxsf", "fuse.gvfsd-fuse", "fuse.glusterfs"}
LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE)
# watchdog warns when a new nested folder's watch is added twice (its own harmless race).
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)


@dataclass(frozen=True)
class RawEvent:
    """A file-system event as the watcher thread consumes it (watchdog's, flattened)."""
    type: str  # created | modified | closed | deleted | moved
    src: str
    dest: str
    is_dir: bool


class QueueingHandler(FileSystemEventHandler):
    """Runs on watchdog's thread: only hands events over, never touches the index."""

    TYPES = {"created", "modified", "closed", "deleted", "moved"}

    def __init__(self, out: queue_mod.SimpleQueue):
        self.out = out

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type not in self.TYPES:
            return
        if event.is_directory and event.event_type in ("modified", "closed"):
            return  # a folder's listing changed: the file events say what
        self.out.put(RawEvent(event.event_type, os.fsdecode(event.src_path), os.fsdecode(event.dest_path),
                              event.is_directory))


def fs_type(path: str, mounts: str = "/proc/self/mounts") -> str | None:
    """The file-system type of the mount holding ``path`` (Linux; None elsewhere)."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as f:
            table = [line.split() for line in f]
    except OSError:
        return None
    best, kind = "", None
    path = os.path.realpath(path)
    for parts in table:
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, parts[2]
    return kind


def wants_polling(path: str, mode: str, mounts: str = "/proc/self/mounts") -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    return fs_type(path, mounts) in NETWORK_FS


class Observers:
    """A native observer and, created on first need, a polling one; both feed one handler."""

    def __init__(self, handler: FileSystemEventHandler, *, poll_interval_s: float):
        self.handler = handler
        self.poll_interval_s = poll_interval_s
        self._native: BaseObserver | None = None
        self._polling: BaseObserver | None = None

    def _native_observer(self) -> BaseObserver:
        if self._native is None:
            try:
                from watchdog.observers.inotify import InotifyObserver

                # Full events: a file moved in from outside arrives as a move (complete at once),
                # not as a create that must settle.
                self._native = InotifyObserver(generate_full_events=True)
            except Exception:  # not Linux
                from watchdog.observers import Observer

                self._native = Observer()
            self._native.start()
        return self._native

    def _polling_observer(self) -> BaseObserver:
        if self._polling is None:
            from watchdog.observers.polling import PollingObserver

            self._polling = PollingObserver(timeout=self.poll_interval_s)
            self._polling.start()
        return self._polling

    def schedule(self, path: str, mode: str) -> tuple[ObservedWatch, bool, bool]:
        """Watch ``path`` recursively. Returns (watch, polling: bool, reports_closes: bool)."""
        if not wants_polling(path, mode):
            try:
                obs = self._native_observer()
                watch = obs.schedule(self.handler, path, recursive=True)
                return watch, False, _reports_closes(obs)
            except OSError as e:
                if mode == "never" or e.errno not in LIMIT_ERRNOS:
                    raise
                log.warning("%s: %s; watching it by polling every %.0f s", path, e.strerror, self.poll_interval_s)
        watch = self._polling_observer().schedule(self.handler, path, recursive=True)
        return watch, True, False

    def unschedule(self, watch: ObservedWatch, polling: bool) -> None:
        obs = self._polling if polling else self._native
        if obs is None:
            return
        try:
            obs.unschedule(watch)
        except (KeyError, OSError):
            pass

    def alive(self, watch: ObservedWatch, polling: bool) -> bool:
        """False once the watch's emitter stopped (its folder was deleted or unmounted)."""
        obs = self._polling if polling else self._native
        if obs is None:
            return False
        return any(em.watch == watch and em.is_alive() for em in obs.emitters)

    def stop(self) -> None:
        for obs in (self._native, self._polling):
            if obs is not None:
                obs.stop()
        for obs in (self._native, self._polling):
            if obs is not None:
                obs.join(5)
        self._native = self._polling = None


def _reports_closes(observer: BaseObserver) -> bool:
    return type(observer).__name__ == "InotifyObserver"

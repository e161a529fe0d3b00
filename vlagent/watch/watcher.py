"""Watching folders: new and changed images are indexed once complete, renames and moves
repoint their locations, deletes mark them gone, and a start-up backfill catches up.

Threads: watchdog's observers only hand events over (a queue); this watcher's own thread
owns an index connection and does everything else — settling, ingesting (hash, thumbnail,
record, queue the OCR job), moves and deletes, the backfill in slices between events,
and supervising the folders (one that disappears, e.g. an unplugged drive, is watched
again when it comes back). The expensive work (OCR, the model) is the inference
worker's: the watcher only queues jobs in the database and wakes it.
"""

from __future__ import annotations

import logging
import os
import queue as queue_mod
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlagent.common import call_safely
from vlagent.index.db import IndexGone
from vlagent.index.queue import PRIO_BACKLOG, PRIO_FRESH
from vlagent.index.thread import IndexThread, stop_reason
from vlagent.ingest.pipeline import DUPLICATE, NEW, UPDATED, Ingestor, Outcome
from vlagent.ingest.scan import FileFilter
from vlagent.watch.backfill import Backfill
from vlagent.watch.observers import Observers, QueueingHandler, RawEvent
from vlagent.watch.settle import CLOSED, COMPLETE, CREATED, MODIFIED, Pending, Settler

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.settings.store import Settings

log = logging.getLogger(__name__)

SUPERVISE_S = 2.0  # how often folders are checked for having vanished or come back
MOVE_WINDOW_S = 10.0  # a delete and an identical new file this close together are one move
BACKFILL_SLICE_S = 0.05
READY_SLICE_S = 0.1
STATUS_EVERY_S = 0.25
RETENTION_EVERY_S = 3600.0
ERROR_PAUSE_S = 1.0
FILTER_KEYS = ("watch.exclude", "watch.include_hidden", "ingest.extensions", "privacy.excluded_folders")


def normalize_folders(folders) -> list[str]:
    """Absolute paths, duplicates and folders inside another watched folder dropped."""
    roots = sorted({os.path.abspath(os.path.expanduser(str(f))).rstrip(os.sep) or os.sep for f in folders})
    out: list[str] = []
    for r in roots:
        if not any(r == o or r.startswith(o.rstrip(os.sep) + os.sep) for o in out):
            out.append(r)
    return out


@dataclass
class Folder:
    root: str
    state: str = "starting"  # watching | polling | missing | error
    watch: Any = None
    polling: bool = False
    closes: bool = False
    ident: tuple[int, int] | None = None
    error: str | None = None


@dataclass
class WatchStatus:
    folders: dict[str, str] = field(default_factory=dict)
    pending: int = 0  # files waiting to be complete
    backfill: str | None = None  # the folder being backfilled
    backfill_seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # new, duplicate, unchanged, failed, moved, gone …
    paused: bool = False
    error: str | None = None  # why the watcher stopped, when it did not stop cleanly (e.g. the index is gone)

    def line(self) -> str:
        watching = sum(1 for s in self.folders.values() if s in ("watching", "polling"))
        parts = [f"STOPPED: {self.error}"] if self.error else []
        parts.append(f"{watching}/{len(self.folders)} folders")
        missing = [r for r, s in self.folders.items() if s == "missing"]
        if missing:  # say which, and that it is not given up on
            parts.append(f"missing: {', '.join(missing)} (watched when it appears)")
        broken = [r for r, s in self.folders.items() if s == "error"]
        if broken:
            parts.append(f"cannot watch: {', '.join(broken)}")
        if self.paused:
            parts.append("paused")
        if self.backfill:
            parts.append(f"scanning {os.path.basename(self.backfill) or self.backfill} ({self.backfill_seen})")
        if self.pending:
            parts.append(f"{self.pending} settling")
        c = self.counts
        parts.append(f"{c.get('new', 0)} new")
        for k in ("duplicate", "skipped", "moved", "gone", "failed"):
            if c.get(k):
                parts.append(f"{c[k]} {k}")
        return " · ".join(parts)


class FolderWatcher(IndexThread):
    thread_name = "vlagent-watcher"

    def __init__(self, home: Home, settings: Settings, folders=None, *,
                 on_ingested: Callable[[Outcome, int], None] | None = None,
                 supervise_s: float = SUPERVISE_S, gone_grace_s: float = MOVE_WINDOW_S):
        """``folders``: the folders to watch (default: the ``watch.folders`` setting, followed
        live). ``on_ingested(outcome, priority)`` is called after an image was recorded with
        jobs queued (the agent wakes the inference worker with it)."""
        super().__init__(home)
        self.settings = settings
        self._fixed_folders = normalize_folders(folders) if folders is not None else None
        self.on_ingested = on_ingested
        self.supervise_s = supervise_s
        self.gone_grace_s = gone_grace_s
        self._events: queue_mod.SimpleQueue = queue_mod.SimpleQueue()
        self._idle = threading.Event()
        self.paused = settings.view.privacy.paused
        self.folders: dict[str, Folder] = {}
        self.counts: Counter = Counter()
        self.ignored_events = 0  # file events dropped while paused
        self.settler = Settler(settings.view.watch.settle_s)
        self.flt = FileFilter.from_settings(settings, home)
        self._backfills: deque[str] = deque()
        self._backfill: Backfill | None = None
        self._recent_gone: dict[int, tuple[str, float]] = {}
        self._recent_dup: dict[int, tuple[str, float]] = {}
        self._status_listeners: list[Callable[[WatchStatus], None]] = []
        self._outcome_listeners: list[Callable[[Outcome], None]] = []
        self._last_status = 0.0
        self._next_retention = 0.0
        self.status = WatchStatus(paused=self.paused)
        self.index: Index | None = None  # the watcher thread's connection, while it runs
        settings.subscribe(self._on_setting)

    # --- public API (any thread) ------------------------------------------------------
    def add_listener(self, on_status: Callable[[WatchStatus], None] | None = None,
                     on_outcome: Callable[[Outcome], None] | None = None) -> None:
        if on_status:
            self._status_listeners.append(on_status)
        if on_outcome:
            self._outcome_listeners.append(on_outcome)

    def stop(self, timeout: float | None = 30.0) -> bool:
        self._stop.set()
        self._events.put(None)
        return self._join(timeout)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the watcher's thread."""
        self._events.put(fn)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the backfill is done and no file is waiting to settle."""
        return self._idle.wait(timeout)

    def set_paused(self, paused: bool) -> None:
        self.call_soon(lambda: self._set_paused(paused))

    # --- the watcher thread -----------------------------------------------------------
    @property
    def _index(self) -> Index:
        """``self.index``, for the code that runs on the watcher's thread once it is open."""
        if self.index is None:
            raise RuntimeError("the folder watcher's index is not open")
        return self.index

    def _run(self, index: Index) -> None:
        self.index = index
        self.ingestor = Ingestor(index, self.settings, self.home)
        self._observers = Observers(QueueingHandler(self._events),
                                    poll_interval_s=self.settings.view.watch.poll_interval_s)
        self._loop()

    def _cleanup(self, index: Index, error: BaseException | None) -> None:
        self._end_backfill()
        observers = getattr(self, "_observers", None)
        if observers is not None:
            observers.stop()
        if error is not None:
            self.status.error = stop_reason(error)
            self._emit_status(force=True)

    def _open_failed(self, error: Exception) -> None:
        self.status.error = stop_reason(error)
        self._emit_status(force=True)

    def _loop(self) -> None:
        next_supervise = 0.0
        next_housekeeping = time.monotonic() + self.supervise_s
        while not self._stop.is_set():
            self._check_index(self._index)  # the data home deleted or unmounted: stop writing (IndexGone)
            now = time.monotonic()
            if now >= next_supervise:
                next_supervise = now + self.supervise_s
                call_safely(self._supervise, what="folder watcher: supervising")
            if now >= next_housekeeping:
                next_housekeeping = now + self.supervise_s
                call_safely(self._housekeeping, what="folder watcher: housekeeping")
            busy = self._backfill is not None or bool(self._backfills)
            due = self.settler.next_due()
            timeout = 0.0 if busy else max(0.0, min(next_supervise, next_housekeeping,
                                                    due if due is not None else next_supervise) - now)
            if not busy and due is None:
                self._idle.set()
            try:
                self._take_events(timeout)
                if self._stop.is_set():
                    break
                if not self.paused:
                    self._check_index(self._index)  # it may have gone while we waited for events
                    self._work()
            except IndexGone:
                raise
            except Exception:  # e.g. the database stayed locked: log, breathe, carry on
                log.exception("folder watcher: an event could not be handled")
                self._stop.wait(ERROR_PAUSE_S)

    def _work(self) -> None:
        end = time.monotonic() + READY_SLICE_S  # then look at new events again
        while time.monotonic() < end:
            ready = self.settler.pop_ready(limit=1)
            if not ready:
                break
            self._ingest_ready(ready[0])
        if self._backfill is None and self._backfills:
            self._start_next_backfill()
        finished = self._backfill is not None and not self._ready_soon() and self._backfill.step(BACKFILL_SLICE_S)
        if finished:
            self._end_backfill()
        self._emit_status(force=finished)  # a finished folder's counts are shown at once (watch --once exits on it)

    def _ready_soon(self) -> bool:
        due = self.settler.next_due()
        return due is not None and due <= time.monotonic()

    def _take_events(self, timeout: float) -> None:
        try:
            item = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue_mod.Empty:
            return
        for _ in range(2000):  # a bounded slice, so a burst still lets ready files through
            if item is not None:
                self._idle.clear()
                if isinstance(item, RawEvent):
                    if not self.paused:
                        self._on_event(item)
                    else:  # not even remembered (privacy); resuming rescans the folders
                        self.ignored_events += 1
                        log.debug("paused: a %s event ignored", item.type)
                else:
                    item()
            try:
                item = self._events.get_nowait()
            except queue_mod.Empty:
                return

    # --- events ------------------------------------------------------------------------
    def _root_of(self, path: str) -> Folder | None:
        best = None
        for f in self.folders.values():
            if (path == f.root or path.startswith(f.root.rstrip(os.sep) + os.sep)) and \
                    (best is None or len(f.root) > len(best.root)):
                best = f
        return best

    def _allowed(self, path: str) -> Folder | None:
        f = self._root_of(path) if path else None
        if f is None or path == f.root or not self.flt.path_allowed(path, f.root):
            return None
        return f

    def _on_event(self, ev: RawEvent) -> None:
        if ev.is_dir:
            if ev.type == "deleted" or (ev.type == "moved" and not ev.dest):
                self._folder_gone(ev.src)
            return  # a folder moved or created: watchdog reports its files one by one
        if ev.type == "moved":
            self._moved(ev.src, ev.dest)
        elif ev.type == "deleted":
            self._deleted(ev.src)
        else:
            f = self._allowed(ev.src)
            if f is not None:
                what = {"created": CREATED, "modified": MODIFIED, "closed": CLOSED}[ev.type]
                self.settler.touch(ev.src, f.root, what, closes=f.closes)

    def _moved(self, src: str, dst: str) -> None:
        src_f, dst_f = self._allowed(src), self._allowed(dst)
        if src in self.settler:
            if dst_f is not None:
                self.settler.move(src, dst, dst_f.root)
            else:
                self.settler.forget(src)
            return
        if src_f is not None and dst_f is not None:
            if self._index.move_location(src, dst) is not None:
                self.counts["moved"] += 1
                return
        elif src_f is not None:
            self._deleted(src)  # moved out of the watched tree, or renamed to an excluded name
            return
        if dst_f is not None:  # moved in from outside, or from a name never indexed: complete
            self.settler.touch(dst, dst_f.root, COMPLETE, closes=dst_f.closes)

    def _deleted(self, path: str) -> None:
        self.settler.forget(path)
        image_id = self._index.mark_gone(path)
        if image_id is None:
            return
        self.counts["gone"] += 1
        dup = self._recent_dup.pop(image_id, None)
        if dup is not None and time.monotonic() - dup[1] < MOVE_WINDOW_S:
            self._merge_move(path, dup[0])  # the copy that appeared elsewhere was this file moving
        else:
            self._recent_gone[image_id] = (path, time.monotonic())

    def _folder_gone(self, path: str) -> None:
        self.settler.forget_under(path)
        if path in self.folders:
            return  # a watched folder itself: perhaps unmounted, not deleted; supervision decides
        for p in self._index.live_paths_under(path):
            self._deleted(p)

    def _merge_move(self, old: str, new: str) -> None:
        if self._index.move_location(old, new) is not None:
            self.counts["moved"] += 1
            self.counts["gone"] -= 1

    def _ingest_ready(self, p: Pending) -> None:
        out = self.ingestor.ingest_path(p.path, source="folder", priority=PRIO_FRESH, skip_forgotten=True)
        self._record(out, PRIO_FRESH)
        if out.status == DUPLICATE and out.image_id is not None:
            gone = self._recent_gone.pop(out.image_id, None)
            if gone is not None and time.monotonic() - gone[1] < MOVE_WINDOW_S:
                self._merge_move(gone[0], p.path)
            else:
                self._recent_dup[out.image_id] = (p.path, time.monotonic())

    def _record(self, out: Outcome, priority: int) -> None:
        self.counts[out.status] += 1
        for fn in self._outcome_listeners:
            call_safely(fn, out, what="watcher listener")
        if out.status in (NEW, UPDATED, DUPLICATE) and self.on_ingested is not None:
            call_safely(self.on_ingested, out, priority, what="watcher listener")

    # --- folders ------------------------------------------------------------------------
    def _desired(self) -> list[str]:
        if self._fixed_folders is not None:
            return self._fixed_folders
        return normalize_folders(self.settings.view.watch.folders)

    def _supervise(self) -> None:
        desired = self._desired()
        for root in [r for r in self.folders if r not in desired]:
            f = self.folders.pop(root)
            if f.watch is not None:
                self._observers.unschedule(f.watch, f.polling)
            self.settler.forget_under(root)
        for root in desired:
            f = self.folders.setdefault(root, Folder(root))
            ident = _ident(root)
            if f.watch is not None and (ident != f.ident or not self._observers.alive(f.watch, f.polling)):
                log.info("%s: the folder went away; watching for it to come back", root)
                self._observers.unschedule(f.watch, f.polling)
                f.watch = None
            if f.watch is None and ident is not None:
                try:
                    f.watch, f.polling, f.closes = self._observers.schedule(
                        root, self.settings.view.watch.polling)
                except OSError as e:
                    f.state, f.error = "error", f"{e.strerror or e}"
                    continue
                f.ident, f.error = ident, None
                f.state = "polling" if f.polling else "watching"
                if not self.paused and root not in self._backfills:
                    self._backfills.append(root)  # after the watch: nothing dropped meanwhile is missed
            elif ident is None:
                f.state = "missing"
        self._emit_status(force=True)

    def _start_next_backfill(self) -> None:
        root = self._backfills.popleft()
        if root not in self.folders or self.folders[root].watch is None:
            return
        self._backfill = Backfill(
            root, self.ingestor, self.flt, settle_s=self.settler.settle_s,
            skip=self.settler.__contains__,
            defer=lambda path: self.settler.touch(path, root, CREATED, closes=self.folders[root].closes),
            on_outcome=lambda out: self._record(out, PRIO_BACKLOG),
            on_gone=self._deleted)

    def _end_backfill(self) -> None:
        if self._backfill is not None:
            self._backfill.close()
            self._backfill = None

    def _housekeeping(self) -> None:
        now = time.monotonic()
        for d in (self._recent_gone, self._recent_dup):
            for k in [k for k, (_, t) in d.items() if now - t > MOVE_WINDOW_S]:
                del d[k]
        from vlagent.watch.retention import purge_gone, retention_cutoff

        cutoff = None if self.settings.view.watch.keep_gone else time.time() - self.gone_grace_s
        if now >= self._next_retention:
            self._next_retention = now + RETENTION_EVERY_S
            days_cutoff = retention_cutoff(self.settings)
            if days_cutoff is not None:
                cutoff = max(cutoff or 0.0, days_cutoff)
        if cutoff is not None:
            self.counts["purged"] += purge_gone(self._index, gone_before=cutoff)

    # --- settings -----------------------------------------------------------------------
    def _on_setting(self, key: str, value) -> None:
        if self._stop.is_set():
            return
        if key == "privacy.paused":
            self.set_paused(bool(value))
        elif key in FILTER_KEYS:
            self.call_soon(self._reload_filter)
        elif key == "watch.settle_s":
            self.call_soon(lambda: setattr(self.settler, "settle_s", float(value)))
        elif key in ("watch.folders", "watch.polling") and self._fixed_folders is None:
            self.call_soon(self._supervise)

    def _reload_filter(self) -> None:
        self.flt = FileFilter.from_settings(self.settings, self.home)

    def _set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        if paused:  # privacy: forget what was seen; resuming rescans instead
            self.settler.clear()
            self._end_backfill()
            self._backfills.clear()
        else:
            self._backfills.extend(r for r, f in self.folders.items() if f.watch is not None)
        self._emit_status(force=True)

    def _emit_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_status < STATUS_EVERY_S:
            return
        self._last_status = now
        st = self.status
        st.folders = {r: f.state for r, f in self.folders.items()}
        st.pending = len(self.settler)
        st.backfill = self._backfill.root if self._backfill else None
        st.backfill_seen = self._backfill.counts["seen"] if self._backfill else 0
        st.counts = dict(self.counts)
        st.paused = self.paused
        for fn in self._status_listeners:
            call_safely(fn, st, what="watcher listener")


def _ident(root: str) -> tuple[int, int] | None:
    try:
        st = os.stat(root)
    except OSError:
        return None
    import stat as stat_mod

    return (st.st_dev, st.st_ino) if stat_mod.S_ISDIR(st.st_mode) else None

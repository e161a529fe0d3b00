"""Deciding when a file is complete enough to read.

A file is ready when its writer closed it (inotify's close-write), when it was moved
into place (a rename is atomic), or, where no such event exists (polling observers, a
file that only got a create event), when its size and mtime stayed the same for
``settle_s``. A file that got writes but no close yet, on an observer that reports
closes, waits for the close (up to ``write_timeout_s``), so a download trickling in
over several seconds is read once, after its last chunk.
"""

from __future__ import annotations

import heapq
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CREATED, MODIFIED, CLOSED, COMPLETE = "created", "modified", "closed", "complete"


@dataclass
class Pending:
    path: str
    root: str
    due: float
    last_event: float
    closes: bool  # the observer reports close-write for this file
    writing: bool = False
    complete: bool = False  # closed or moved into place: ready without a stability check
    stat: tuple[int, int] | None = None


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


@dataclass
class Settler:
    settle_s: float
    write_timeout_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _pending: dict[str, Pending] = field(default_factory=dict)
    _heap: list[tuple[float, int, str]] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: str) -> bool:
        return path in self._pending

    def touch(self, path: str, root: str, what: str, *, closes: bool) -> None:
        """Record an event for ``path``: created, modified, closed (after writing) or
        complete (moved into place: ready now)."""
        now = self.clock()
        p = self._pending.get(path)
        if p is None:
            p = self._pending[path] = Pending(path, root, now, now, closes)
        p.last_event = now
        p.stat = _stat(path)
        if what in (CLOSED, COMPLETE):
            p.writing = False
            # An empty file just closed is usually created first and written later: let it settle.
            if p.stat is None or p.stat[0] > 0 or what == COMPLETE:
                p.complete = True
                self._schedule(p, now)
                return
        elif what == MODIFIED and closes:
            p.writing = True
        p.complete = False
        self._schedule(p, now + self.settle_s)

    def _schedule(self, p: Pending, due: float) -> None:
        p.due = due
        heapq.heappush(self._heap, (due, next(self._seq), p.path))

    def forget(self, path: str) -> Pending | None:
        return self._pending.pop(path, None)  # its heap entries are skipped when popped

    def forget_under(self, folder: str) -> int:
        prefix = folder.rstrip(os.sep) + os.sep
        drop = [p for p in self._pending if p.startswith(prefix)]
        for p in drop:
            del self._pending[p]
        return len(drop)

    def clear(self) -> None:
        self._pending.clear()
        self._heap.clear()

    def move(self, src: str, dst: str, root: str) -> None:
        """A pending file was renamed: it keeps waiting under its new name."""
        p = self._pending.pop(src, None)
        if p is None:
            return
        p.path, p.root = dst, root
        self._pending[dst] = p
        self._schedule(p, p.due)

    def next_due(self) -> float | None:
        while self._heap:
            due, _, path = self._heap[0]
            p = self._pending.get(path)
            if p is None or p.due != due:
                heapq.heappop(self._heap)
                continue
            return due
        return None

    def pop_ready(self, limit: int = 1_000_000) -> list[Pending]:
        """Files whose wait is over and that are complete, oldest first; the others are
        rescheduled. Files that vanished are dropped."""
        now = self.clock()
        ready: list[Pending] = []
        while self._heap and len(ready) < limit:
            due, _, path = self._heap[0]
            if due > now:
                break
            heapq.heappop(self._heap)
            p = self._pending.get(path)
            if p is None or p.due != due:
                continue
            if p.complete:
                ready.append(self._pending.pop(path))
                continue
            st = _stat(path)
            if st is None:
                del self._pending[path]
                continue
            if p.writing and now - p.last_event < self.write_timeout_s:
                self._schedule(p, now + self.settle_s)  # still open for writing: wait for the close
                continue
            if st != p.stat:
                p.stat = st
                self._schedule(p, now + self.settle_s)
                continue
            ready.append(self._pending.pop(path))
        return ready

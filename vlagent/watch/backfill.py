"""Start-up backfill of one watched folder: index what is there, skip what is unchanged,
and mark gone what disappeared while nobody was watching.

Unchanged files (same path, size and mtime as indexed) cost a ``stat`` and an indexed
lookup, no read and no hash. The walk is a generator advanced in small slices by the
watcher thread, between live events, so a file dropped during a long backfill is still
indexed within seconds.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator

from vlagent.index.queue import PRIO_BACKLOG
from vlagent.ingest.pipeline import SKIPPED, Ingestor, Outcome
from vlagent.ingest.scan import FileFilter, iter_files

RECONCILE_BATCH = 500


class Backfill:
    def __init__(self, root: str, ingestor: Ingestor, flt: FileFilter, *, settle_s: float,
                 skip: Callable[[str], bool], defer: Callable[[str], None],
                 on_outcome: Callable[[Outcome], None], on_gone: Callable[[str], None]):
        """``skip(path)``: the live watcher already tracks it; ``defer(path)``: modified so
        recently that it may still be written: hand it to the settler instead."""
        self.root = root
        self.ingestor = ingestor
        self.index = ingestor.index
        self.flt = flt
        self.settle_s = settle_s
        self.skip, self.defer = skip, defer
        self.on_outcome, self.on_gone = on_outcome, on_gone
        self.counts: Counter = Counter()
        self._steps = self._run()

    def step(self, budget_s: float) -> bool:
        """Advance for about ``budget_s`` seconds; True when the folder is finished."""
        end = time.monotonic() + budget_s
        # One file (or gone path) a step: advance until the walk ends (True) or the time is up (False).
        return all(time.monotonic() < end for _ in self._steps)

    def close(self) -> None:
        """Abandon the walk (pause, stop): its reading threads end."""
        self._steps.close()

    def _run(self) -> Generator[None, None, None]:
        # Reading, hashing, decoding and thumbnails run ahead on the pipeline's threads;
        # the index is written here, on the watcher's thread.
        for out in self.ingestor.ingest_paths(self._candidates(), source="folder", priority=PRIO_BACKLOG,
                                              skip_forgotten=True):
            self.counts[out.status] += 1
            self.on_outcome(out)
            yield
        yield from self._reconcile()

    def _candidates(self) -> Iterator[str]:
        def scan_error(path, err):
            if path != self.root:
                self.index.record_failure(path, "scan", str(err))

        def skipped(path, reason):  # counted and reported like every outcome (a key of SKIP_REASONS)
            self.counts[SKIPPED] += 1
            self.on_outcome(Outcome(path, SKIPPED, reason=reason))

        for path in iter_files([self.root], self.flt, on_error=scan_error, on_skip=skipped):
            self.counts["seen"] += 1
            if self.skip(path):
                continue
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                if os.path.lexists(path):  # there but unreadable (a dangling link…): the ingestor says why
                    yield path
                continue  # gone since it was listed: its deletion is followed
            if time.time() - mtime < self.settle_s:
                self.defer(path)
            else:
                yield path

    def _reconcile(self) -> Iterator[None]:
        """Locations under the folder whose file is gone are marked gone."""
        after = None
        while True:
            paths = self.index.live_paths_under(self.root, after=after, limit=RECONCILE_BATCH)
            if not paths:
                return
            for path in paths:
                if not os.path.lexists(path):
                    self.counts["gone"] += 1
                    self.on_gone(path)
                yield
            after = paths[-1]

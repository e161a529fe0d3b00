"""Ingest: read → hash → dedupe → decode/validate → thumbnail → record → queue.

An image is its content: the same bytes at two paths are one image with two locations.
Each file is recorded in one transaction (image, location, jobs) after its thumbnail is
on disk, so a process killed at any point leaves either nothing or a complete record; a
rerun finishes the work and never duplicates it. Per-file failures are recorded and
returned, never raised.

A file goes through three steps: ``_check`` (stat; an unchanged file stops here),
``_prepare`` (read, hash, decode, thumbnail: no database, so it can run on worker
threads — PIL and hashlib release the GIL) and ``_record`` (one transaction, on the
thread that owns the connection). A thumbnail on disk means its content was decoded
before, so a copy of a known image is never decoded again.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections import deque
from collections.abc import Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vlagent.home import private_opener
from vlagent.imaging.errors import AccessDenied, BrokenLink, FileVanished, ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_bytes, load_path, read_file
from vlagent.imaging.thumbnails import sweep_partials, thumbnail_relpath, write_thumbnail
from vlagent.index.queue import MODEL_STEP_OFFSET, PRIO_FRESH, JobQueue
from vlagent.index.store import Index

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.settings.store import Settings

NEW, UPDATED, DUPLICATE, UNCHANGED, FAILED = "new", "updated", "duplicate", "unchanged", "failed"
SKIPPED = "skipped"  # left out on purpose; ``Outcome.reason`` says why
FORGOTTEN = "forgotten"  # a reason: the user forgot this file (``vlagent forget``) and it has not changed

# The result each step leaves; an image with that result (or any job of that step) needs no new job.
RESULT_OF_STEP = {"ocr": "ocr", "describe": "description", "transcribe": "vlm_ocr"}


@dataclass
class Outcome:
    path: str | None
    status: str
    image_id: int | None = None
    error: str | None = None
    error_type: str | None = None
    ms: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # ms per stage: read, hash, decode, thumbnail, db
    reason: str | None = None  # why it was SKIPPED (FORGOTTEN; a folder walk's: vlagent.ingest.scan.SKIP_REASONS)


EXT_FOR_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}


class _Stages:
    """Wall time per stage, in ms."""

    def __init__(self):
        self.ms: dict[str, float] = {}
        self.restart()

    def restart(self) -> None:
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.ms[name] = self.ms.get(name, 0.0) + (now - self._t) * 1000
        self._t = now


@dataclass
class _Work:
    """A file on its way in: what ``_prepare`` found, for ``_record`` to write down."""

    path: str
    size: int
    mtime: float
    t0: float
    stages: _Stages = field(default_factory=_Stages)
    nbytes: int = 0
    sha: str = ""
    loaded: LoadedImage | None = None  # None when the content was decoded before (its thumbnail exists)
    thumb: str | None = None
    error: Exception | None = None
    forgotten_sha: str | None = None  # the content the user forgot at this path (it changed size or mtime)


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Ingestor:
    def __init__(self, index: Index, settings: Settings, home: Home):
        self.index = index
        self.settings = settings
        self.home = home
        self.queue = JobQueue(index)
        self.limits = Limits.from_settings(settings)
        self.thumbnail_size = settings.view.ingest.thumbnail_size
        sweep_partials(home.thumbnails)

    def steps_for_new_image(self) -> list[str]:
        view = self.settings.view
        steps = []
        if view.ocr.enabled:
            steps.append("ocr")
        if view.vlm.describe:
            steps.append("describe")
        if view.vlm.transcribe:
            steps.append("transcribe")
        return steps

    def ingest_path(self, path: str, *, source: str = "import", priority: int = PRIO_FRESH,
                    steps: list[str] | None = None, force: bool = False, skip_forgotten: bool = False) -> Outcome:
        """Index one file. An unchanged file (same size and mtime) is not read again, but
        gets the jobs it lacks (e.g. OCR after an earlier ``--no-ocr`` run). ``skip_forgotten``
        (what finding files does, rather than a user naming one): a file the user forgot is
        SKIPPED while it holds the same content."""
        steps = self.steps_for_new_image() if steps is None else steps
        work = self._check(path, steps, priority, force, skip_forgotten)
        if isinstance(work, Outcome):
            return work
        return self._record(self._prepare(work), source=source, priority=priority, steps=steps)

    def ingest_paths(self, paths: Iterable[str], *, source: str = "import", priority: int = PRIO_FRESH,
                     steps: list[str] | None = None, force: bool = False,
                     threads: int | None = None, skip_forgotten: bool = False,
                     named: Container[str] = ()) -> Iterator[Outcome]:
        """``ingest_path`` for many files, in order: reading, hashing, decoding and thumbnails
        run ahead on ``threads`` worker threads; the index is written on this thread.
        ``named``: paths the user named, indexed even when ``skip_forgotten``."""
        steps = self.steps_for_new_image() if steps is None else steps
        threads = threads or default_threads()
        if threads <= 1:
            for path in paths:
                yield self.ingest_path(path, source=source, priority=priority, steps=steps, force=force,
                                       skip_forgotten=skip_forgotten and path not in named)
            return
        pool = ThreadPoolExecutor(threads, thread_name_prefix="ingest")
        window: deque[Outcome | Future] = deque()

        def finish(item: Outcome | Future) -> Outcome:
            if isinstance(item, Outcome):
                return item
            return self._record(item.result(), source=source, priority=priority, steps=steps)

        try:
            for path in paths:
                work = self._check(path, steps, priority, force, skip_forgotten and path not in named)
                window.append(work if isinstance(work, Outcome) else pool.submit(self._prepare, work))
                while len(window) > 2 * threads:
                    yield finish(window.popleft())
            while window:
                yield finish(window.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def ingest_bytes(self, data: bytes, *, source: str, name: str | None = None, priority: int = PRIO_FRESH,
                     steps: list[str] | None = None, keep_dir: Path | None = None) -> Outcome:
        """Index bytes that have no file yet (an upload, a capture): they are saved under the
        data home first so every image keeps a readable original."""
        t0 = time.perf_counter()
        steps = self.steps_for_new_image() if steps is None else steps
        try:
            sha = hashlib.sha256(data).hexdigest()
            loaded = load_bytes(data, self.limits, name=name, sha256=sha, reduce_to=self.thumbnail_size)
            folder = keep_dir or (self.home.captures / source)
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # in the data home: its owner's only
            dest = folder / f"{sha[:16]}.{EXT_FOR_FORMAT.get(loaded.format or '', 'img')}"
            if not dest.exists():
                tmp = dest.with_name("." + dest.name + ".tmp")
                with open(tmp, "wb", opener=private_opener) as f:  # 0600, whatever the umask
                    f.write(data)
                os.replace(tmp, dest)
            st = dest.stat()
            work = _Work(str(dest), st.st_size, st.st_mtime, t0, nbytes=len(data), sha=sha, loaded=loaded,
                         thumb=write_thumbnail(self.home.thumbnails, sha, loaded.image, self.thumbnail_size))
        except (ImageInputError, OSError) as e:
            code = e.code if isinstance(e, ImageInputError) else "os_error"
            return Outcome(name, FAILED, error=str(e), error_type=code, ms=_ms(t0))
        return self._record(work, source=source, priority=priority, steps=steps)

    # --- the three steps ----------------------------------------------------------------
    def _check(self, path: str, steps: list[str], priority: int, force: bool,
               skip_forgotten: bool = False) -> Outcome | _Work:
        t0 = time.perf_counter()
        path = os.path.abspath(path)
        try:
            st = os.stat(path)
        except OSError as e:
            broken = _broken_link(path, e)
            if broken is not None:
                return self._fail(path, broken, t0)
            if isinstance(e, FileNotFoundError):
                return self._fail(path, FileVanished(f"{path}: the file disappeared before it could be read"), t0)
            return self._fail(path, e, t0)
        if not force:
            existing = self.index.unchanged_location(path, st.st_size, st.st_mtime)
            if existing is not None:
                self._enqueue_missing(existing, steps, priority)  # reads only, unless a step is missing
                return Outcome(path, UNCHANGED, existing, ms=_ms(t0))
        forgotten = self.index.forgotten_path(path) if skip_forgotten and not force else None
        if forgotten is not None and (forgotten.size, forgotten.mtime) == (st.st_size, st.st_mtime):
            return Outcome(path, SKIPPED, ms=_ms(t0), reason=FORGOTTEN)
        return _Work(path, st.st_size, st.st_mtime, t0, forgotten_sha=forgotten.sha256 if forgotten else None)

    def _prepare(self, work: _Work) -> _Work:
        """Read, hash, and — unless this content was seen before — decode and thumbnail.
        Touches no database: safe on a worker thread."""
        stages = work.stages
        stages.restart()
        try:
            data = read_file(work.path, self.limits)
            stages.lap("read")
            work.nbytes, work.sha = len(data), hashlib.sha256(data).hexdigest()
            stages.lap("hash")
            if work.sha == work.forgotten_sha:  # touched, not changed: it stays forgotten
                return work
            if not (self.home.thumbnails / thumbnail_relpath(work.sha)).exists():
                work.loaded = load_bytes(data, self.limits, name=work.path, sha256=work.sha,
                                         reduce_to=self.thumbnail_size)
                stages.lap("decode")
                work.thumb = write_thumbnail(self.home.thumbnails, work.sha, work.loaded.image, self.thumbnail_size)
                stages.lap("thumbnail")
        except (ImageInputError, OSError) as e:
            work.error = e
        return work

    def _record(self, work: _Work, *, source: str, priority: int, steps: list[str]) -> Outcome:
        if work.error is not None:
            return self._fail(work.path, work.error, work.t0)
        if work.forgotten_sha is not None and work.sha == work.forgotten_sha:
            self.index.forgotten_file_touched(work.path, size=work.size, mtime=work.mtime)  # a stat next time
            return Outcome(work.path, SKIPPED, ms=_ms(work.t0), reason=FORGOTTEN)
        stages = work.stages
        stages.restart()
        path, sha = work.path, work.sha
        try:
            known = self.index.image_by_sha(sha)
            if known is None and work.loaded is None:
                # Its thumbnail exists but its record does not (a run killed in between).
                work.loaded = load_path(path, self.limits, reduce_to=self.thumbnail_size)
                work.thumb = thumbnail_relpath(sha)
                stages.lap("decode")
        except (ImageInputError, OSError) as e:
            return self._fail(path, e, work.t0)
        with self.index.transaction():
            # Read again under the write lock: another process indexing the same files (a
            # second ``index`` run, the watcher) may have recorded this path or content since.
            previous = self.index.location(path)
            known = self.index.image_by_sha(sha) or known
            if known is not None:
                image_id, created = known["id"], False
                if work.thumb and known["thumbnail"] != work.thumb:  # it had lost its thumbnail
                    self.index.set_thumbnail(image_id, work.thumb)
            else:
                loaded = work.loaded
                assert loaded is not None  # decoded by _prepare, or above when only its thumbnail was there
                image_id, created = self.index.add_image(
                    sha256=sha, width=loaded.width, height=loaded.height, format=loaded.format,
                    bytes=work.nbytes, mtime=work.mtime, source=source, taken_at=loaded.taken_at,
                    thumbnail=work.thumb)
            self.index.set_location(image_id, path, size=work.size, mtime=work.mtime)
            self._enqueue_missing(image_id, steps, priority)
            self.index.clear_failure(path)
        stages.lap("db")
        if created:
            status = UPDATED if previous is not None else NEW
        else:
            status = UNCHANGED if previous is not None and previous["image_id"] == image_id else DUPLICATE
        return Outcome(path, status, image_id, ms=_ms(work.t0), stages=stages.ms)

    def _enqueue_missing(self, image_id: int, steps: list[str], priority: int) -> None:
        """Queue each step the image has no result for. A job that ended without one (failed,
        cancelled) stays so until retried on purpose, not on every rescan; a pending or
        running one goes through enqueue, which keeps it and raises its priority if needed."""
        if not steps:
            return
        have = self.index.result_kinds(image_id)
        ended = self.index.ended_job_kinds(image_id)
        for step in steps:
            if step in ended or RESULT_OF_STEP[step] in have:
                continue
            prio = priority if step == "ocr" else priority + MODEL_STEP_OFFSET
            self.queue.enqueue(image_id, step, priority=prio)

    def _fail(self, path: str, err: Exception, t0: float) -> Outcome:
        if isinstance(err, PermissionError):
            err = AccessDenied(f"{path}: permission denied")
        if isinstance(err, ImageInputError):
            code, msg = err.code, str(err)
        else:
            code, msg = "os_error", f"{path}: {err.strerror if isinstance(err, OSError) and err.strerror else err}"
        self.index.record_failure(path, code, msg)
        return Outcome(path, FAILED, error=msg, error_type=code, ms=_ms(t0))


def _broken_link(path: str, err: OSError) -> BrokenLink | None:
    """The error for ``path`` when it is a symbolic link that leads nowhere (``stat`` failed
    with ``err``); None when it is not a link."""
    if err.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
        return None
    try:
        target = os.readlink(path)
    except OSError:  # not a link (or gone meanwhile)
        return None
    if err.errno == errno.ELOOP:
        return BrokenLink(f"{path}: a symbolic link that points to {target}, in a loop of links")
    return BrokenLink(f"{path}: a broken symbolic link: it points to {target}, which does not exist")


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000

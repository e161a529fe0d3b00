"""Ingest: read → hash → dedupe → decode/validate → thumbnail → record → queue.

An image is its content: the same bytes at two paths are one image with two locations.
Each file is recorded in one transaction (image, location, jobs) after its thumbnail is
on disk, so a process killed at any point leaves either nothing or a complete record; a
rerun finishes the work and never duplicates it. Per-file failures are recorded and
returned, never raised.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from vlagent.imaging.errors import AccessDenied, FileVanished, ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_bytes, read_file
from vlagent.imaging.thumbnails import sweep_partials, write_thumbnail
from vlagent.index.db import transaction
from vlagent.index.queue import MODEL_STEP_OFFSET, PRIO_FRESH, JobQueue
from vlagent.index.store import Index

NEW, UPDATED, DUPLICATE, UNCHANGED, FAILED = "new", "updated", "duplicate", "unchanged", "failed"

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


EXT_FOR_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}


class _Stages:
    """Wall time per stage, in ms."""

    def __init__(self):
        self.ms: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.ms[name] = self.ms.get(name, 0.0) + (now - self._t) * 1000
        self._t = now


class Ingestor:
    def __init__(self, index: Index, settings, home):
        self.index = index
        self.settings = settings
        self.home = home
        self.queue = JobQueue(index)
        self.limits = Limits.from_settings(settings)
        self.thumbnail_size = settings.get("ingest.thumbnail_size")
        sweep_partials(home.thumbnails)

    def steps_for_new_image(self) -> list[str]:
        steps = []
        if self.settings.get("ocr.enabled"):
            steps.append("ocr")
        if self.settings.get("vlm.describe"):
            steps.append("describe")
        if self.settings.get("vlm.transcribe"):
            steps.append("transcribe")
        return steps

    def ingest_path(self, path: str, *, source: str = "import", priority: int = PRIO_FRESH,
                    steps: list[str] | None = None, force: bool = False) -> Outcome:
        """Index one file. An unchanged file (same size and mtime) is not read again, but
        gets the jobs it lacks (e.g. OCR after an earlier ``--no-ocr`` run)."""
        t0 = time.perf_counter()
        stages = _Stages()
        path = os.path.abspath(path)
        steps = self.steps_for_new_image() if steps is None else steps
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return self._fail(path, FileVanished(f"{path}: the file disappeared before it could be read"), t0)
        except OSError as e:
            return self._fail(path, e, t0)
        if not force:
            existing = self.index.unchanged_location(path, st.st_size, st.st_mtime)
            if existing is not None:
                with transaction(self.index.db):
                    self._enqueue_missing(existing, steps, priority)
                return Outcome(path, UNCHANGED, existing, ms=_ms(t0))
        try:
            data = read_file(path, self.limits)
            stages.lap("read")
            outcome = self._ingest_data(data, path=path, size=st.st_size, mtime=st.st_mtime, source=source,
                                        priority=priority, steps=steps, stages=stages)
        except (ImageInputError, OSError) as e:
            return self._fail(path, e, t0)
        self.index.clear_failure(path)
        outcome.ms = _ms(t0)
        return outcome

    def ingest_bytes(self, data: bytes, *, source: str, name: str | None = None, priority: int = PRIO_FRESH,
                     steps: list[str] | None = None, keep_dir: Path | None = None) -> Outcome:
        """Index bytes that have no file yet (an upload, a capture): they are saved under the
        data home first so every image keeps a readable original."""
        t0 = time.perf_counter()
        stages = _Stages()
        steps = self.steps_for_new_image() if steps is None else steps
        try:
            sha = hashlib.sha256(data).hexdigest()
            loaded = load_bytes(data, self.limits, name=name, sha256=sha, reduce_to=2 * self.thumbnail_size)
            stages.lap("decode")
            folder = keep_dir or (self.home.captures / source)
            folder.mkdir(parents=True, exist_ok=True)
            dest = folder / f"{sha[:16]}.{EXT_FOR_FORMAT.get(loaded.format or '', 'img')}"
            if not dest.exists():
                tmp = dest.with_name("." + dest.name + ".tmp")
                tmp.write_bytes(data)
                os.replace(tmp, dest)
            st = dest.stat()
            stages.lap("save")
            outcome = self._ingest_data(data, path=str(dest), size=st.st_size, mtime=st.st_mtime, source=source,
                                        priority=priority, steps=steps, stages=stages, loaded=loaded)
        except (ImageInputError, OSError) as e:
            code = e.code if isinstance(e, ImageInputError) else "os_error"
            return Outcome(name, FAILED, error=str(e), error_type=code, ms=_ms(t0))
        outcome.ms = _ms(t0)
        return outcome

    def _ingest_data(self, data: bytes, *, path: str, size: int, mtime: float, source: str, priority: int,
                     steps: list[str], stages: _Stages, loaded: LoadedImage | None = None) -> Outcome:
        sha = loaded.sha256 if loaded else hashlib.sha256(data).hexdigest()
        stages.lap("hash")
        known = self.index.image_by_sha(sha)
        if known is not None and self._thumbnail_ok(known):
            previous = self.index.location(path)
            with transaction(self.index.db):
                self.index.set_location(known["id"], path, size=size, mtime=mtime)
                self._enqueue_missing(known["id"], steps, priority)
            stages.lap("db")
            same = previous is not None and previous["image_id"] == known["id"]
            return Outcome(path, UNCHANGED if same else DUPLICATE, known["id"], stages=stages.ms)
        if loaded is None:
            loaded = load_bytes(data, self.limits, name=path, sha256=sha, reduce_to=2 * self.thumbnail_size)
            stages.lap("decode")
        thumb = write_thumbnail(self.home.thumbnails, sha, loaded.image, self.thumbnail_size)
        stages.lap("thumbnail")
        previous = self.index.location(path)
        with transaction(self.index.db):
            image_id, created = self.index.add_image(
                sha256=sha, width=loaded.width, height=loaded.height, format=loaded.format, bytes=len(data),
                mtime=mtime, source=source, taken_at=loaded.taken_at, thumbnail=thumb)
            if not created:  # known, but its thumbnail was missing: now it is back
                self.index.set_thumbnail(image_id, thumb)
            self.index.set_location(image_id, path, size=size, mtime=mtime)
            self._enqueue_missing(image_id, steps, priority)
        stages.lap("db")
        if not created:
            return Outcome(path, DUPLICATE, image_id, stages=stages.ms)
        status = UPDATED if previous is not None and previous["image_id"] != image_id else NEW
        return Outcome(path, status, image_id, stages=stages.ms)

    def _thumbnail_ok(self, image: dict) -> bool:
        thumb = self.index.thumbnail_path(image)
        return thumb is not None and thumb.exists()

    def _enqueue_missing(self, image_id: int, steps: list[str], priority: int) -> None:
        """Queue each step the image has neither a result nor a job for (in any state: a
        failed job stays failed until retried on purpose, not on every rescan)."""
        if not steps:
            return
        conn = self.index.conn
        have = {r[0] for r in conn.execute("SELECT kind FROM results WHERE image_id = ?", (image_id,))}
        queued = {r[0] for r in conn.execute("SELECT kind FROM jobs WHERE image_id = ?", (image_id,))}
        for step in steps:
            if step in queued or RESULT_OF_STEP[step] in have:
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


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000

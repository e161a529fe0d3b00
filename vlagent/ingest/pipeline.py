"""Ingest: hash → dedupe → decode/validate → thumbnail → record → queue.

Each file is recorded in one transaction (image, location, jobs), after its thumbnail is
on disk, so a process killed at any point leaves either nothing or a complete record; a
rerun finishes the job and never duplicates one. Per-file failures are recorded and
returned, never raised.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from vlagent.imaging.errors import FileVanished, ImageInputError
from vlagent.imaging.load import Limits, load_bytes, read_file
from vlagent.imaging.thumbnails import write_thumbnail
from vlagent.index.db import transaction
from vlagent.index.queue import MODEL_STEP_OFFSET, PRIO_FRESH, JobQueue
from vlagent.index.store import Index

NEW, UPDATED, DUPLICATE, UNCHANGED, FAILED, SKIPPED = "new", "updated", "duplicate", "unchanged", "failed", "skipped"


@dataclass
class Outcome:
    path: str | None
    status: str
    image_id: int | None = None
    error: str | None = None
    error_type: str | None = None
    ms: float = 0.0


EXT_FOR_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}


class Ingestor:
    def __init__(self, index: Index, settings, home):
        self.index = index
        self.settings = settings
        self.home = home
        self.queue = JobQueue(index)
        self.limits = Limits.from_settings(settings)

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
        t0 = time.perf_counter()
        path = os.path.abspath(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return self._fail(path, FileVanished(f"{path}: the file no longer exists"), t0)
        except PermissionError as e:
            return self._fail(path, e, t0)
        if not force:
            existing = self.index.unchanged_location(path, st.st_size, st.st_mtime)
            if existing is not None:
                return Outcome(path, UNCHANGED, existing, ms=_ms(t0))
        try:
            data = read_file(path, self.limits)
            outcome = self._ingest_data(data, path=path, size=st.st_size, mtime=st.st_mtime, source=source,
                                        priority=priority, steps=steps)
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
        try:
            loaded = load_bytes(data, self.limits, name=name)
        except ImageInputError as e:
            return Outcome(name, FAILED, error=str(e), error_type=e.code, ms=_ms(t0))
        folder = keep_dir or (self.home.captures / source)
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{loaded.sha256[:16]}.{EXT_FOR_FORMAT.get(loaded.format or '', 'img')}"
        if not dest.exists():
            tmp = dest.with_name("." + dest.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        st = dest.stat()
        outcome = self._ingest_data(data, path=str(dest), size=st.st_size, mtime=st.st_mtime, source=source,
                                    priority=priority, steps=steps, loaded=loaded)
        outcome.ms = _ms(t0)
        return outcome

    def _ingest_data(self, data: bytes, *, path: str, size: int, mtime: float, source: str, priority: int,
                     steps: list[str] | None, loaded=None) -> Outcome:
        sha = hashlib.sha256(data).hexdigest()
        steps = self.steps_for_new_image() if steps is None else steps
        known = self.index.image_by_sha(sha)
        if known is not None:
            previous = self.index.location(path)
            with transaction(self.index.db):
                self.index.set_location(known["id"], path, size=size, mtime=mtime)
                self._enqueue_missing(known["id"], steps, priority)
            if previous is not None and previous["image_id"] == known["id"]:
                return Outcome(path, UNCHANGED, known["id"])
            return Outcome(path, DUPLICATE, known["id"])
        loaded = loaded or load_bytes(data, self.limits, name=path)
        thumb = write_thumbnail(self.home.thumbnails, sha, loaded.image, self.settings.get("ingest.thumbnail_size"))
        previous = self.index.location(path)
        with transaction(self.index.db):
            image_id, created = self.index.add_image(
                sha256=sha, width=loaded.width, height=loaded.height, format=loaded.format, bytes=len(data),
                mtime=mtime, source=source, taken_at=loaded.taken_at, thumbnail=thumb)
            self.index.set_location(image_id, path, size=size, mtime=mtime)
            self._enqueue_missing(image_id, steps, priority)
        return Outcome(path, UPDATED if previous is not None else NEW, image_id)

    def _enqueue_missing(self, image_id: int, steps: list[str], priority: int) -> None:
        have = {r[0] for r in self.index.conn.execute(
            "SELECT kind FROM results WHERE image_id = ?", (image_id,))}
        result_kind = {"ocr": "ocr", "describe": "description", "transcribe": "vlm_ocr"}
        for step in steps:
            if result_kind[step] in have:
                continue
            prio = priority if step == "ocr" else priority + MODEL_STEP_OFFSET
            self.queue.enqueue(image_id, step, priority=prio)

    def _fail(self, path: str, err: Exception, t0: float) -> Outcome:
        if isinstance(err, ImageInputError):
            code, msg = err.code, str(err)
        elif isinstance(err, PermissionError):
            code, msg = "permission", f"{path}: permission denied"
        else:
            code, msg = "os_error", f"{path}: {err}"
        self.index.record_failure(path, code, msg)
        return Outcome(path, FAILED, error=msg, error_type=code, ms=_ms(t0))


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000

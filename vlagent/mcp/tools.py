"""What the MCP tools do, without the SDK: plain methods that take the tools' arguments and
return JSON-ready dicts, or raise :class:`ToolFailure` with one sentence for the client.

Every tool is a thin call into the core the CLI uses: the index's search
(:meth:`~vlagent.index.store.Index.search_page`), its records
(:meth:`~vlagent.index.store.Index.detail`), the job runner's ``ask`` step
(:meth:`~vlagent.jobs.runner.JobRunner.run_direct`, so an answer is stored exactly like
``vlagent ask``'s), :func:`vlagent.memory.ask_memory`, and the capture flow
(:mod:`vlagent.capture.flow`). Nothing here deletes or changes a file; ``ask_image`` and
``ask_memory`` store their answers (the product's normal behaviour), ``capture_screen``
(off unless ``mcp.allow_capture``) saves and indexes a new screenshot.

Threads: the SDK runs each call of a synchronous tool on a worker thread of its own choosing,
and sqlite3 connections belong to the thread that opened them, so every call opens its own
index connection and closes it before returning. The model engine is one
:class:`~vlagent.vlm.factory.LazyEngine` for the whole process, built without loading
anything and loaded by the first call that needs it; model calls take turns on a lock.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from vlagent import common
from vlagent.common import Cancelled, CancelToken

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.index.rows import HitRow
    from vlagent.index.store import Index
    from vlagent.jobs.runner import JobRunner
    from vlagent.settings import Settings
    from vlagent.vlm.base import VlmEngine
    from vlagent.vlm.factory import LazyEngine

log = logging.getLogger(__name__)

MAX_LIMIT = 50
NOTHING_INDEXED = ("nothing is indexed yet: index images first ('vlagent index FOLDER', 'vlagent watch', "
                   "or the desktop app)")
CAPTURE_OFF = ("screen capture is off for MCP clients: enable it with 'vlagent config mcp.allow_capture true' "
               "(or start the server with 'vlagent mcp --mcp-allow-capture true')")
STOPPED = "stopped: the client cancelled the request (nothing was stored)"
class ToolFailure(Exception):
    """A call that cannot be done as asked (an unknown id, an empty question, a bad date, a
    model that cannot load): its message is one sentence the client shows as the tool's error."""


def when(ts: float | None) -> str | None:
    """Local time as ``YYYY-MM-DD HH:MM`` (what :mod:`vlagent.memory` shows too)."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts is not None else None


def parse_when(text: str | None, name: str) -> float | None:
    """:func:`vlagent.common.parse_when`; anything it cannot read is a :class:`ToolFailure`."""
    try:
        return common.parse_when(text)
    except ValueError:
        raise ToolFailure(f"cannot read the date {(text or '').strip()!r} given as {name}: use YYYY-MM-DD, "
                          "YYYY-MM-DDTHH:MM or a span back from now like 12h, 7d or 2w") from None


class McpTools:
    """The tools of one ``vlagent mcp`` process. ``allow_capture``: the ``mcp.allow_capture``
    given on the command line (None: read from ``config.toml`` at each call, so turning it on
    or off there applies without a restart)."""

    def __init__(self, home: Home, settings: Settings, *, allow_capture: bool | None = None):
        from vlagent.jobs.build import build_engine

        self.home, self.settings = home, settings
        self.allow_capture = allow_capture
        self.engine: LazyEngine = build_engine(settings, home)  # nothing loads before a model tool runs
        self._model_lock = threading.Lock()

    # --- the index, one connection per call ----------------------------------------------
    @contextmanager
    def _open(self, *, write: bool = False, create: bool = False) -> Iterator[Index]:
        """This call's own connection (sqlite connections are bound to their thread); a
        :class:`ToolFailure` when nothing is indexed yet (unless ``create``) or the index
        cannot be opened."""
        from vlagent.index.db import IndexGone
        from vlagent.index.store import Index

        if not create and not self.home.db_path.exists():
            raise ToolFailure(NOTHING_INDEXED)
        try:
            index = Index.open(self.home, readonly=not write)
        except IndexGone as e:
            raise ToolFailure(str(e)) from None
        except (OSError, sqlite3.Error) as e:
            raise ToolFailure(f"cannot open the index at {self.home.db_path}: {e}") from None
        try:
            yield index
        finally:
            index.close()

    def _runner(self, index: Index) -> JobRunner:
        from vlagent.jobs.build import build_runner

        return build_runner(index, self.settings, self.home, engine=self.engine)

    @staticmethod
    def _image_id(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ToolFailure(f"{value!r} is not an image id (ids are whole numbers from 1, as search_images "
                              "returns them)")
        return value

    @staticmethod
    def _question(text: str | None) -> str:
        question = (text or "").strip()
        if not question:
            raise ToolFailure("the question is empty: ask something about the image(s)")
        return question

    # --- search_images -------------------------------------------------------------------
    def search_images(self, query: str = "", *, source: str | None = None, since: str | None = None,
                      until: str | None = None, limit: int = 10) -> dict[str, Any]:
        """The index's full-text search, as ``vlagent search`` runs it (relaxed to some of
        the words when nothing matches them all)."""
        from vlagent.index.search import Filters
        from vlagent.index.store import SOURCES

        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ToolFailure(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
        if source is not None and source not in SOURCES:
            raise ToolFailure(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
        start, end = parse_when(since, "since"), parse_when(until, "until")
        if start is not None and end is not None and start >= end:
            raise ToolFailure(f"since ({since}) must be before until ({until})")
        query = (query or "").strip()
        if not self.home.db_path.exists():
            return {"query": query, "total": 0, "relaxed": False, "hits": [], "note": NOTHING_INDEXED}
        with self._open() as index:
            page = index.search_page(query, filters=Filters(source=source, since=start, until=end), limit=limit,
                                     relax=True)
        note = "no image matches all the words; these match some of them" if page.relaxed else ""
        if not page.hits:
            note = "no image matches" if query else "no image matches these filters"
        return {"query": query, "total": page.total, "relaxed": page.relaxed,
                "hits": [hit_record(h) for h in page.hits], "note": note}

    # --- get_image -----------------------------------------------------------------------
    def get_image(self, image_id: int) -> tuple[dict[str, Any], bytes | None]:
        """The image's record (metadata, OCR text, description, answers) and its thumbnail's
        JPEG bytes (None when it has none)."""
        image_id = self._image_id(image_id)
        with self._open() as index:
            d = index.detail(image_id)
            if d is None:
                raise ToolFailure(f"there is no image #{image_id} in the index")
            thumb = index.thumbnail_path(d)
        answers = [{"question": r["prompt"] or "", "answer": r["text"] or "", "model": r["model"],
                    "time": when(r["created_at"]), "memory": bool((r["params"] or {}).get("memory"))}
                   for r in d["results"] if r["kind"] == "answer"]
        transcriptions = [r["text"] for r in d["results"] if r["kind"] == "vlm_ocr" and r["text"]]
        data = None
        if thumb is not None:
            try:
                data = thumb.read_bytes()
            except OSError as e:
                log.info("thumbnail of #%d unreadable: %s", image_id, e)
        record = {
            "id": d["id"], "path": d["path"], "paths": list(d["paths"]), "gone": d["gone_at"] is not None,
            "source": d["source"], "width": d["width"], "height": d["height"], "format": d["format"],
            "bytes": d["bytes"], "sha256": d["sha256"], "time": when(d["first_seen"]), "first_seen": d["first_seen"],
            "taken_at": when(d["taken_at"]), "ocr_text": d["ocr_text"], "description": d["description"],
            "transcription": transcriptions[-1] if transcriptions else "", "answers": answers,
            "thumbnail": data is not None,
        }
        return record, data

    # --- ask_image -----------------------------------------------------------------------
    def ask_image(self, image_id: int, question: str, cancel: CancelToken | None = None) -> dict[str, Any]:
        """The ``ask`` step on the image, now: the model's answer, stored with the image as
        ``vlagent ask`` stores it (kind ``answer``, the question as its prompt). ``cancel`` set
        (the client cancelled): the model stops at its next token, nothing is stored."""
        from vlagent.jobs.runner import StepContext, StepError

        image_id, question = self._image_id(image_id), self._question(question)
        with self._open(write=True) as index:
            if index.image(image_id) is None:
                raise ToolFailure(f"there is no image #{image_id} in the index")
            runner = self._runner(index)
            try:
                loaded = runner.load_image(image_id)
            except StepError as e:
                raise ToolFailure(str(e)) from None
            with self._model_lock:
                if cancel is not None and cancel.cancelled:
                    raise ToolFailure(STOPPED)
                rep = runner.run_direct("ask", loaded, image_id=image_id, payload={"question": question},
                                        ctx=StepContext(cancel=cancel or CancelToken(), release_on_cancel=False))
        if rep.state == "cancelled":
            raise ToolFailure(STOPPED)
        if not rep.ok or not rep.results:
            raise ToolFailure(f"the model could not answer: {rep.error or 'no answer'}")
        r = rep.results[0]
        return {"id": image_id, "question": question, "answer": r.text, "model": r.model, "engine": r.engine,
                "latency_ms": r.latency_ms, "stored": True}

    # --- ask_memory ----------------------------------------------------------------------
    def ask_memory(self, question: str, cancel: CancelToken | None = None) -> dict[str, Any]:
        """:func:`vlagent.memory.ask_memory` with this process's engine: retrieval from the
        index, an answer grounded in the retrieved images and citing them, stored on them.
        ``cancel`` set: the model stops at its next token, nothing is stored."""
        from vlagent.memory import ask_memory
        from vlagent.vlm.base import VlmError

        question = self._question(question)
        with self._open(write=True) as index:
            runner = self._runner(index)

            def load_image(image_id: int) -> Any:  # one that fails is left out, its text kept
                return runner.load_image(image_id).image

            try:
                with self._model_lock:  # the lazy engine loads only if something was retrieved
                    ans = ask_memory(question, index=index, settings=self.settings,
                                     engine=cast("VlmEngine", self.engine), load_image=load_image, cancel=cancel)
            except Cancelled:
                raise ToolFailure(STOPPED) from None
            except ValueError as e:
                raise ToolFailure(str(e)) from None
            except VlmError as e:
                raise ToolFailure(f"the model could not answer: {e}") from None
        d = ans.as_dict()
        return {"question": d["question"], "answer": d["answer"], "answered": d["answered"],
                "sources": [{k: s[k] for k in ("id", "path", "time", "score", "snippet", "cited")}
                            for s in d["sources"]],
                "cited": d["cited"], "time_range": d["time_range"], "terms": d["terms"], "model": d["model"]}

    # --- capture_screen ------------------------------------------------------------------
    def capture_allowed(self) -> bool:
        if self.allow_capture is not None:
            return self.allow_capture
        from vlagent.settings import Settings

        return bool(Settings.load(self.home.config_path).view.mcp.allow_capture)

    def capture_screen(self, monitor: int = 0) -> dict[str, Any]:
        """Grab the whole screen (or monitor N) with the non-Qt grabbers, save and index it as a
        screenshot and run its OCR now, as ``vlagent capture --full`` does."""
        from vlagent.capture import CaptureError, capture
        from vlagent.capture.flow import check_not_paused, discard_capture, run_capture_jobs, store_capture
        from vlagent.settings import Settings

        if not self.capture_allowed():
            raise ToolFailure(CAPTURE_OFF)
        if isinstance(monitor, bool) or not isinstance(monitor, int) or monitor < 0:
            raise ToolFailure(f"monitor must be 0 (every monitor) or a monitor number from 1, not {monitor!r}")
        settings = self.settings
        try:
            check_not_paused(Settings.load(self.home.config_path))  # a pause applies at once
            check_not_paused(settings)
            shot = capture(choice=settings.view.capture.backend)
            image = shot.monitor_image(monitor)
        except CaptureError as e:
            raise ToolFailure(str(e)) from None
        with self._open(write=True, create=True) as index:
            try:
                stored = store_capture(image, index=index, settings=settings, home=self.home)
            except CaptureError as e:
                raise ToolFailure(str(e)) from None
            with self._model_lock:  # its jobs may include a description (vlm.describe)
                run_capture_jobs(index, settings, self.home, stored.image_id, runner=self._runner(index))
            ocr = index.latest_text(stored.image_id, "ocr")
            keep = settings.view.capture.keep
            if not keep:
                discard_capture(index, stored)
        return {"id": stored.image_id if keep or not stored.created else None, "path": str(stored.path),
                "width": stored.width, "height": stored.height, "new": stored.created,
                "kept": keep or not stored.created, "ocr_text": ocr, "handler": shot.handler}


def hit_record(hit: HitRow) -> dict[str, Any]:
    from vlagent.index.search import strip_highlight

    img = hit.image
    return {"id": img.id, "path": img.path, "time": when(img.first_seen), "first_seen": img.first_seen,
            "source": img.source, "score": round(hit.score, 4), "snippet": strip_highlight(hit.snippet),
            "gone": img.gone_at is not None}

"""The index over HTTP: describe an upload (``POST /v1/describe``), search, an image's
record and its thumbnail."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Literal, get_args

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from vlagent.api.errors import ApiError, model_error
from vlagent.api.service import ApiService, elapsed_ms
from vlagent.index.search import SORTS, Filters, strip_highlight
from vlagent.index.store import SOURCES
from vlagent.vlm.base import VlmError

router = APIRouter()

SNIPPET_DESCRIPTION_CHARS = 300
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger id is a 400, not an overflow
MAX_OFFSET = 10**9

# The search filter's choices as types, for FastAPI to validate and the type checker to see.
Source = Literal["folder", "screenshot", "import", "api"]
Sort = Literal["relevance", "date"]
if get_args(Source) != SOURCES or get_args(Sort) != SORTS:
    raise ImportError("vlagent.api.images: Source and Sort must list vlagent.index's SOURCES and SORTS")


def thumbnail_url(image_id: int) -> str:
    return f"/v1/images/{image_id}/thumbnail"


@router.post("/v1/describe")
async def describe(request: Request, file: UploadFile = File(..., description="the image"),
                   prompt: str | None = Form(None, description="ask this instead of the built-in description prompt")):
    """Index the uploaded image (source ``api``), OCR and describe it now, and return the results."""
    from vlagent.ingest.pipeline import FAILED

    service: ApiService = request.app.state.service
    t0 = time.perf_counter()
    if service.settings.view.privacy.paused:
        raise ApiError(503, "vlagent is paused (privacy.paused): nothing is indexed until it is resumed",
                       code="paused", type="server_error")
    prompt = (prompt or "").strip() or None
    runner = service.worker.runner
    if runner is None or ("ask" if prompt else "describe") not in runner.steps:
        raise ApiError(503, "no vision-language model backend is available to describe images",
                       code="model_unavailable", type="server_error")
    data = await file.read()
    if not data:
        raise ApiError(400, "the uploaded file is empty", code="empty", param="file")
    steps = (["ocr"] if service.settings.view.ocr.enabled and "ocr" in runner.steps else []) + \
        ([] if prompt else ["describe"])
    with service.admit():
        outcome, waits = await run_in_threadpool(service.queue_upload, data, file.filename, steps)
        if outcome.status == FAILED:
            raise ApiError(413 if outcome.error_type == "too_large" else 400, outcome.error, code=outcome.error_type,
                           param="file")
        try:
            ask = service.worker.ask([outcome.image_id], prompt) if prompt else None
            steps_done = await asyncio.gather(*(service.wait_job(*w) for w in waits))
            answer = await asyncio.wrap_future(ask) if ask else None
        except VlmError as e:
            raise model_error(e) from None
    failed = [s for s in steps_done if s.state != "done"]
    if failed:
        s = failed[0]
        raise ApiError(500, f"image {outcome.image_id} was indexed, but its {s.step} job {s.state}: {s.error}",
                       code="step_failed", type="server_error")
    with service.read_index() as index:
        image = index.image(outcome.image_id)
        ocr = _latest(index.results(outcome.image_id, "ocr"))
        description = _latest(index.results(outcome.image_id, "description"))
    result = {"text": answer.text, "engine": answer.engine, "model": answer.model, "prompt": prompt,
              "timings": answer.timings} if answer else description or {}
    return {
        "object": "image.description",
        "image_id": outcome.image_id,
        "sha256": image["sha256"],
        "status": outcome.status,  # new | duplicate | unchanged
        "width": image["width"],
        "height": image["height"],
        "description": result.get("text"),
        "prompt": result.get("prompt") or (result.get("params") or {}).get("prompt"),
        "model": result.get("model"),
        "engine": result.get("engine"),
        "ocr_text": ocr["text"] if ocr else None,
        "timings": {"total_ms": elapsed_ms(t0), "ingest_ms": round(outcome.ms, 1),
                    "ocr_ms": ocr["latency_ms"] if ocr else None, "model": result.get("timings") or {}},
        "thumbnail_url": thumbnail_url(outcome.image_id),
    }


def _latest(rows: list[dict]) -> dict | None:
    return rows[-1] if rows else None


@router.get("/v1/search")
def search_images(request: Request, q: str = Query("", description="words to find (empty: the most recent images)"),
                  limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                  source: Source | None = Query(None), sort: Sort = Query("relevance"),
                  relax: bool = Query(False, description="when nothing matches exactly, images matching some "
                                                         "of the words (the answer says relaxed: true)")):
    service = request.app.state.service
    with service.read_index() as index:
        page = index.search_page(q, filters=Filters(source=source), limit=limit, offset=offset, sort=sort,
                                 relax=relax)
        data = []
        for hit in page.hits:  # each with what it shows, read in one query for the page
            image = hit.image
            data.append({
                "image_id": hit.image_id, "score": round(hit.score, 4), "snippet": strip_highlight(hit.snippet),
                "path": None if image.path_gone else image.path, "source": image.source,
                "width": image.width, "height": image.height, "first_seen": image.first_seen,
                "description": (image.description or "")[:SNIPPET_DESCRIPTION_CHARS],
                "thumbnail_url": thumbnail_url(hit.image_id),
            })
    return {"object": "list", "query": q, "total": page.total, "total_exact": page.total_exact,
            "relaxed": page.relaxed, "data": data}


@router.get("/v1/images/{image_id}")
def image_record(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    with request.app.state.service.read_index() as index:
        record = index.detail(image_id)
    if record is None:
        raise ApiError(404, f"no image with id {image_id}", code="not_found", param="image_id")
    record["thumbnail_url"] = thumbnail_url(image_id)
    return record


@router.get("/v1/images/{image_id}/thumbnail")
def image_thumbnail(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    service = request.app.state.service
    with service.read_index() as index:
        image = index.image(image_id)
        path = index.thumbnail_path(image) if image else None
    if image is None:
        raise ApiError(404, f"no image with id {image_id}", code="not_found", param="image_id")
    root = Path(service.home.thumbnails).resolve()
    if path is None or not path.resolve().is_relative_to(root) or not path.is_file():
        raise ApiError(404, f"image {image_id} has no thumbnail", code="not_found", param="image_id")
    return FileResponse(path, media_type="image/jpeg")

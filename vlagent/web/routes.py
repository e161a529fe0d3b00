"""The web face's pages and the endpoints its page uses (all behind :class:`~vlagent.web.gate.WebGate`).

Pages: ``GET /`` (the app), ``GET|POST /login``, ``POST /logout``, ``/web/static/*``.
Data (JSON): ``GET /web/api/search`` (the desktop window's filters: source, since, folder,
sort), ``GET /web/api/image/ID`` (record, OCR lines with their boxes, description, answers,
jobs), ``GET /web/api/timeline`` (days with counts) and ``/web/api/timeline/items`` (a slice
of everything seen, newest first: the same reads as the desktop's timeline). Images:
``GET /web/thumb/ID``, ``GET /web/image/ID`` (the original when a browser shows its format,
else a JPEG made from it). Streams (NDJSON, one object a line):
``POST /web/api/ask`` and ``POST /web/api/memory`` (``{"token": …}`` pieces, then
``{"done": true, …}`` or ``{"error": …}``). ``POST /web/api/upload``: a file indexed (OCR
waited for), its id returned.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
from concurrent.futures import CancelledError
from typing import Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from vlagent.api.errors import ApiError, model_error
from vlagent.api.images import thumbnail_file
from vlagent.common import Cancelled, display_path
from vlagent.index.search import SORTS, Filters
from vlagent.index.snippets import HL_END, HL_START
from vlagent.index.store import SOURCES
from vlagent.web import pages
from vlagent.web.auth import WebAuth, clear_cookie, cookie_name, session_cookie
from vlagent.web.gate import SESSION_SCOPE_KEY
from vlagent.web.i18n import negotiate, strings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

MAX_ID = 2**63 - 1
MAX_QUERY = 1000
PAGE_MAX = 200
TIMELINE_MAX = 1000  # images per timeline slice at most
EXCERPT = 160
UPLOAD_WAIT_S = 120.0  # an upload's answer waits this long for its OCR at most
BROWSER_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp",
                   "BMP": "image/bmp", "AVIF": "image/avif", "ICO": "image/x-icon"}
DISPLAY_MAX_PX = 4096  # an image in a format browsers do not show is sent as a JPEG at most this large
_SPACE = re.compile(r"\s+")
IMMUTABLE = "private, max-age=31536000, immutable"  # an id's picture never changes (ids are never reused)


def _auth(request: Request) -> WebAuth:
    auth: WebAuth = request.app.state.web_auth
    return auth


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def _port(request: Request) -> int | None:
    server = request.scope.get("server")
    return server[1] if server else None


# --- pages -------------------------------------------------------------------------------------
@router.get("/")
def app_page(request: Request):
    service = request.app.state.service
    session = request.scope.get(SESSION_SCOPE_KEY)
    auth = _auth(request)
    body = pages.app_page(_lang(request), csrf=auth.csrf_token(session),
                          folders=list(service.settings.view.watch.folders), auth=auth.auth)
    return HTMLResponse(body)


def _signed_in(request: Request, lang: str) -> HTMLResponse:
    auth = _auth(request)
    _, value = auth.new_session()
    page = pages.login_page(lang, message=strings(lang)["login_ok"], ok=True)
    # 200 with a refresh to / rather than a redirect: the new SameSite=Strict cookie then goes with
    # the next request even when the login link was opened from another site's page.
    return HTMLResponse(page, headers={"Set-Cookie": session_cookie(cookie_name(_port(request)), value,
                                                                    auth.session_s)})


@router.get("/login")
def login(request: Request, token: str | None = Query(None, max_length=200)):
    lang = _lang(request)
    auth = _auth(request)
    if not auth.auth:
        return Response(status_code=303, headers={"Location": "/"})
    if token is not None:
        if auth.spend_login_token(token):
            return _signed_in(request, lang)
        return HTMLResponse(pages.login_page(lang, message=strings(lang)["login_bad"]), status_code=403)
    if request.scope.get(SESSION_SCOPE_KEY) is not None:
        return Response(status_code=303, headers={"Location": "/"})
    return HTMLResponse(pages.login_page(lang))


@router.post("/login")
async def login_with_token(request: Request):
    lang = _lang(request)
    form = await request.form()
    token = form.get("token")
    if isinstance(token, str) and _auth(request).api_token_matches(token):
        return _signed_in(request, lang)
    return HTMLResponse(pages.login_page(lang, message=strings(lang)["login_bad"]), status_code=403)


@router.post("/logout")
def logout(request: Request):
    session = request.scope.get(SESSION_SCOPE_KEY)
    if session is not None:
        _auth(request).revoke(session)
    return JSONResponse({"ok": True}, headers={"Set-Cookie": clear_cookie(cookie_name(_port(request)))})


@router.get("/favicon.ico")
def favicon():
    return _static("icon.svg")


@router.get("/web/static/{name}")
def static(name: str):
    return _static(name)


def _static(name: str) -> Response:
    path = pages.static_path(name)
    if path is None or not path.is_file():
        raise ApiError(404, f"no such file: {name}", code="not_found")
    # Named with ?v=<version> by the page: cached for a day, and a new version is a new URL.
    return FileResponse(path, media_type=pages.STATIC_FILES[name], headers={"Cache-Control": "private, max-age=86400"})


# --- search ------------------------------------------------------------------------------------
def segments(snippet: str) -> list[list[Any]]:
    """A snippet as [[text, highlighted], …] (the page builds text nodes from it: no markup)."""
    out: list[list[Any]] = []
    rest, hl = snippet, False
    while rest:
        mark = HL_END if hl else HL_START
        i = rest.find(mark)
        piece, rest = (rest, "") if i < 0 else (rest[:i], rest[i + len(mark):])
        if piece:
            out.append([_SPACE.sub(" ", piece), hl])
        hl = not hl if i >= 0 else hl
    return out


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def _name(path: str | None, image_id: int) -> str:
    return display_path(os.path.basename(path)) if path else f"#{image_id}"


@router.get("/web/api/search")
def search(request: Request, q: str = Query("", max_length=MAX_QUERY), source: str = Query(""),
           since: float | None = Query(None, ge=0), folder: str = Query("", max_length=4096),
           sort: str = Query("relevance"), offset: int = Query(0, ge=0, le=10**9),
           limit: int = Query(60, ge=1, le=PAGE_MAX)):
    if source and source not in SOURCES:
        raise ApiError(400, f"source must be one of {', '.join(SOURCES)}", code="invalid_value", param="source")
    if sort not in SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(SORTS)}", code="invalid_value", param="sort")
    filters = Filters(source=source or None, folder=folder or None, since=since)
    with request.app.state.service.read_index() as index:
        page = index.search_page(q, filters=filters, limit=limit, offset=offset, sort=sort, look_ahead=True)
    hits = []
    for hit in page.hits:
        img = hit.image
        hits.append({
            "id": img.id, "name": _name(img.path, img.id), "path": display_path(img.path) if img.path else None,
            "gone": img.path_gone, "seen": img.first_seen, "source": img.source, "w": img.width, "h": img.height,
            "thumb": img.thumbnail is not None,
            "snippet": segments(hit.snippet) if hit.snippet else [[_excerpt(img.description or img.ocr or ""), False]],
        })
    return {"q": q, "offset": offset, "total": page.total, "total_exact": page.total_exact, "more": bool(page.more),
            "relaxed": page.relaxed, "ms": round(page.search_ms, 1), "hits": hits}


# --- one image ---------------------------------------------------------------------------------
def _latest(results: list[dict], kind: str) -> dict | None:
    rows = [r for r in results if r["kind"] == kind]
    return rows[-1] if rows else None


def _lines(ocr: dict | None) -> list[dict]:
    out = []
    for line in (ocr or {}).get("lines") or []:
        try:
            xs = [float(p[0]) for p in line["box"]]
            ys = [float(p[1]) for p in line["box"]]
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        out.append({"text": line.get("text", ""), "b": [min(xs), min(ys), max(xs), max(ys)],
                    "score": line.get("score")})
    return out


def detail_json(d: dict) -> dict:
    results = d.get("results") or []
    ocr = _latest(results, "ocr")
    desc = _latest(results, "description")
    answers = [{"question": r.get("prompt") or "", "text": r["text"], "at": r["created_at"], "model": r.get("model"),
                "memory": bool((r.get("params") or {}).get("memory"))} for r in results if r["kind"] == "answer"]
    locations = [{"path": display_path(loc["path"]), "gone_at": loc.get("gone_at"), "seen_at": loc.get("seen_at")}
                 for loc in d.get("locations") or []]
    jobs = [{"kind": j["kind"], "state": j["state"], "attempts": j.get("attempts"), "error": j.get("error")}
            for j in d.get("jobs") or []]
    path = d.get("path")
    return {
        "id": d["id"], "name": _name(path, d["id"]), "path": display_path(path) if path else None,
        "w": d.get("width"), "h": d.get("height"), "format": d.get("format"), "bytes": d.get("bytes"),
        "source": d.get("source"), "first_seen": d.get("first_seen"), "taken_at": d.get("taken_at"),
        "gone_at": d.get("gone_at"), "sha256": d.get("sha256"), "thumb": bool(d.get("thumbnail")),
        "locations": locations, "jobs": jobs,
        "ocr": {"text": ocr["text"], "engine": ocr.get("engine"), "model": ocr.get("model"),
                "latency_ms": ocr.get("latency_ms"), "lines": _lines(ocr)} if ocr else None,
        "description": {"text": desc["text"], "engine": desc.get("engine"), "model": desc.get("model"),
                        "latency_ms": desc.get("latency_ms"), "at": desc.get("created_at")} if desc else None,
        "answers": answers,
    }


@router.get("/web/api/image/{image_id}")
def image_detail(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    with request.app.state.service.read_index() as index:
        d = index.detail(image_id)
    if d is None:
        raise ApiError(404, f"no image with id {image_id}", code="not_found")
    return detail_json(d)


@router.get("/web/thumb/{image_id}")
def thumb(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    return FileResponse(thumbnail_file(request.app.state.service, image_id), media_type="image/jpeg",
                        headers={"Cache-Control": IMMUTABLE})


@router.get("/web/image/{image_id}")
async def full_image(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    """The picture at full size: its file when a browser shows that format and the file still
    holds it (same size), a JPEG made from it otherwise, the thumbnail when no file is left."""
    service = request.app.state.service

    def find() -> tuple[str, Any]:
        with service.read_index() as index:
            image = index.image(image_id)
            if image is None:
                raise ApiError(404, f"no image with id {image_id}", code="not_found")
            paths = [loc["path"] for loc in index.locations(image_id, include_gone=False)]
            thumb = index.thumbnail_path(image)
        for p in paths:
            try:
                if os.path.isfile(p) and os.path.getsize(p) == image["bytes"]:
                    if image["format"] in BROWSER_FORMATS:
                        return "file", (p, BROWSER_FORMATS[image["format"]])
                    return "convert", p
            except OSError:
                continue
        if thumb is not None and thumb.is_file():
            return "thumb", thumb
        raise ApiError(404, f"image {image_id} has no file left and no thumbnail", code="not_found")

    kind, what = await run_in_threadpool(find)
    if kind == "file":
        return FileResponse(what[0], media_type=what[1], headers={"Cache-Control": IMMUTABLE})
    if kind == "thumb":
        return FileResponse(what, media_type="image/jpeg", headers={"Cache-Control": "private, no-cache"})
    data = await run_in_threadpool(_as_jpeg, what, service.settings)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": IMMUTABLE})


def _as_jpeg(path: str, settings: Any) -> bytes:
    from vlagent.imaging.errors import ImageInputError
    from vlagent.imaging.load import Limits, load_path

    try:
        loaded = load_path(path, Limits.from_settings(settings), reduce_to=DISPLAY_MAX_PX)
    except ImageInputError as e:
        raise ApiError(415, str(e), code=e.code) from None
    img = loaded.image
    if max(img.size) > DISPLAY_MAX_PX:
        img.thumbnail((DISPLAY_MAX_PX, DISPLAY_MAX_PX))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


# --- the timeline ------------------------------------------------------------------------------
@router.get("/web/api/timeline")
def timeline_days(request: Request):
    """Each day with images (this machine's local days), newest first, with its count."""
    with request.app.state.service.read_index() as index:
        days = index.timeline_days()
    return {"days": [[day, n] for day, n in days], "total": sum(n for _, n in days)}


@router.get("/web/api/timeline/items")
def timeline_items(request: Request, offset: int = Query(0, ge=0, le=10**9),
                   limit: int = Query(120, ge=1, le=TIMELINE_MAX)):
    """``limit`` images from ``offset`` in the timeline's order (first seen, newest first):
    [id, first seen, width, height, has a thumbnail]."""
    with request.app.state.service.read_index() as index:
        items = index.timeline_page(offset, limit)
    return {"items": [[s.id, s.first_seen, s.width, s.height, int(s.thumbnail is not None)] for s in items]}


# --- questions: streamed -----------------------------------------------------------------------
class AskBody(BaseModel):
    image_id: int = Field(ge=1, le=MAX_ID)
    question: str = Field(min_length=1, max_length=4000)


class MemoryBody(BaseModel):
    question: str = Field(min_length=1, max_length=4000)


class Pieces:
    """Text pieces from the worker's thread, handed to this server's event loop in order."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def post(self, piece: str | None) -> None:  # on the worker's thread
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, piece)
        except RuntimeError:  # the loop is gone: nobody listens any more
            pass

    async def __aiter__(self):
        while (piece := await self.queue.get()) is not None:
            yield piece


def _line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _ndjson(events: Any) -> StreamingResponse:
    return StreamingResponse(events, media_type="application/x-ndjson",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/web/api/ask")
async def ask(request: Request, body: AskBody):
    service = request.app.state.service
    question = body.question.strip()
    if not question:
        raise ApiError(400, "the question is empty", code="empty", param="question")

    def exists() -> bool:
        with service.read_index() as index:
            return index.image(body.image_id) is not None

    if not await run_in_threadpool(exists):
        raise ApiError(404, f"no image with id {body.image_id}", code="not_found")
    service.require_worker()

    def done(answer: Any) -> dict[str, Any]:
        return {"done": True, "text": answer.text, "model": answer.model, "timings": answer.timings}

    return _stream_answer(service, lambda on_token: service.worker.ask([body.image_id], question, on_token=on_token),
                          done)


@router.post("/web/api/memory")
async def ask_memory(request: Request, body: MemoryBody):
    service = request.app.state.service
    question = body.question.strip()
    if not question:
        raise ApiError(400, "the question is empty", code="empty", param="question")
    service.require_worker()

    def done(answer: Any) -> dict[str, Any]:
        sources = [dict(s.as_dict(), path=display_path(s.path) if s.path else None,
                        name=_name(s.path, s.id)) for s in answer.sources]
        return {"done": True, "text": answer.text, "answered": answer.answered, "sources": sources,
                "time_range": answer.time_range, "model": answer.model, "timings": answer.timings}

    return _stream_answer(service, lambda on_token: service.worker.ask_memory(question, on_token=on_token), done)


def _stream_answer(service: Any, start: Any, done: Any) -> StreamingResponse:
    """NDJSON of a generation on the worker: ``{"status": "asked"}``, ``{"token": …}`` pieces, then
    ``done(result)`` or ``{"error": …}``. ``start(on_token)`` returns the job's future (or handle);
    a page that goes away (or presses Stop) mid-answer stops it: the model stops at its next token."""
    slot = service.admit()
    try:
        pieces = Pieces()
        job = start(pieces.post)
        job.add_done_callback(lambda _: pieces.post(None))
    except BaseException:
        slot.release()
        raise

    async def events():
        try:
            yield _line({"status": "asked"})
            async for piece in pieces:
                yield _line({"token": piece})
            try:
                result = job.result()
            except (CancelledError, Cancelled):
                yield _line({"error": "stopped", "stopped": True})
                return
            except Exception as e:
                yield _line({"error": model_error(e).message})
                return
            yield _line(done(result))
        finally:
            if not job.done():
                job.cancel()
            slot.release()

    return _ndjson(events())


# --- upload --------------------------------------------------------------------------------------
@router.post("/web/api/upload")
async def upload(request: Request, file: UploadFile = File(...)):
    from vlagent.ingest.pipeline import FAILED

    service = request.app.state.service
    if service.settings.view.privacy.paused:
        raise ApiError(503, "vlagent is paused (privacy.paused): nothing is indexed until it is resumed",
                       code="paused", type="server_error")
    data = await file.read()
    if not data:
        raise ApiError(400, "the file is empty", code="empty", param="file")
    runner = service.worker.runner
    have = runner.steps if runner is not None else ()
    view = service.settings.view
    steps = (["ocr"] if view.ocr.enabled and "ocr" in have else []) + \
        (["describe"] if view.vlm.describe and "describe" in have else [])
    with service.admit():
        outcome, waits = await run_in_threadpool(service.queue_upload, data, file.filename, steps, "web")
        if outcome.status == FAILED:
            raise ApiError(413 if outcome.error_type == "too_large" else 400, outcome.error,
                           code=outcome.error_type, param="file")
        ocr_state = "done"
        ocr_waits = [w for w in waits if w[0] == "ocr"]
        if ocr_waits:
            try:
                done = await asyncio.wait_for(service.wait_job(*ocr_waits[0]), UPLOAD_WAIT_S)
                ocr_state = done.state
            except asyncio.TimeoutError:
                ocr_state = "pending"
    return {"image_id": outcome.image_id, "status": outcome.status, "ocr": ocr_state, "name": file.filename}

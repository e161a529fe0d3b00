"""The index over HTTP: describe an image (``POST /v1/describe``), search, an image's
record and its thumbnail.

A describe takes the image as the batch operator does: a multipart upload (field ``file``),
a raw ``image/*`` body, or JSON with ``image_url`` (http(s) or ``data:``), ``image_base64`` or
``image`` (either); a file path is refused, the server never reads its own files for a
client. Knobs ride along (form fields, JSON fields or query parameters): ``prompt``,
``max_new_tokens`` (``max_tokens``, ``max_caption_length``), ``resized_height`` /
``resized_width``, ``min_pixels`` / ``max_pixels``, ``do_sample``, ``temperature``, ``top_k``,
``top_p``, ``repetition_penalty``; anything else is a 400 naming it. Without a prompt or knobs
the image gets the index's own description (made once: the same upload again reuses it);
with them, a generation of its own, stored with the image as an ``answer`` (a prompt) or a
``description`` (knobs). ``api.index_uploads`` off: described, nothing kept.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile as StarletteUpload

from vlagent.api import sampling
from vlagent.api.chat import Answer, StopMatcher
from vlagent.api.errors import ApiError, image_error
from vlagent.api.service import ApiService, elapsed_ms
from vlagent.common import json_safe
from vlagent.imaging.errors import ImageInputError
from vlagent.imaging.load import Limits, load_bytes
from vlagent.index.search import SORTS, Filters, strip_highlight
from vlagent.index.store import SOURCES
from vlagent.jobs.steps import result_from
from vlagent.vlm.base import ChatMessage

router = APIRouter()

SNIPPET_DESCRIPTION_CHARS = 300
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger id is a 400, not an overflow
MAX_OFFSET = 10**9

# The search filter's choices as types, for FastAPI to validate and the type checker to see.
Source = Literal["folder", "screenshot", "import", "api", "web"]
Sort = Literal["relevance", "date"]
if get_args(Source) != SOURCES or get_args(Sort) != SORTS:
    raise ImportError("vlagent.api.images: Source and Sort must list vlagent.index's SOURCES and SORTS")


def thumbnail_url(image_id: int) -> str:
    return f"/v1/images/{image_id}/thumbnail"


DESCRIBE_KNOBS = ("max_new_tokens", "min_new_tokens", "do_sample", "temperature", "top_k", "top_p", "min_p",
                  "repetition_penalty", "seed", "min_pixels", "max_pixels", "resized_height", "resized_width")
# OpenAI's name, and the batch operator's
KNOB_ALIASES = {"max_tokens": "max_new_tokens", "max_caption_length": "max_new_tokens"}
JSON_IMAGE_FIELDS = ("image_url", "image_base64", "image")
UPLOAD_FIELDS = ("file", "image")
DESCRIBE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "the image (or as the field 'image')"},
            "prompt": {"type": "string"},
            **{k: {"type": "string"} for k in DESCRIBE_KNOBS}}}},
        "application/json": {"schema": {"type": "object", "properties": {
            "image_url": {"type": "string", "description": "an http(s) URL or a data: URL"},
            "image_base64": {"type": "string", "description": "the image's bytes in base64 (or a data: URL)"},
            "image": {"type": "string", "description": "a URL, a data: URL or base64 (file paths are refused)"},
            "prompt": {"type": "string"}, "name": {"type": "string"},
            **{k: {"type": "number"} for k in DESCRIBE_KNOBS}}}},
        "image/*": {"schema": {"type": "string", "format": "binary"},
                    "description": "the image's bytes; prompt and knobs as query parameters"},
    },
}


@dataclass
class DescribeInput:
    """One image to describe and how: the request's own bytes, never a file on this machine."""

    data: bytes
    name: str | None = None
    prompt: str | None = None
    knobs: dict[str, Any] = field(default_factory=dict)  # canonical knob → checked value
    params: dict[str, str] = field(default_factory=dict)  # knob → the field the client named it by


async def read_describe_input(request: Request, upload_fields: tuple[str, ...] = UPLOAD_FIELDS) -> DescribeInput:
    """The image and knobs of a describe request: a multipart upload, a raw ``image/*`` body,
    or JSON naming the image by URL or base64; knobs in the form, the JSON or the query."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    inp = DescribeInput(b"")
    values: dict[str, tuple[Any, str]] = {}  # field → (value, where it came from)
    for k, v in request.query_params.items():
        values[k] = (v, "query")
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        upload = None
        for k, item in form.multi_items():
            if isinstance(item, StarletteUpload):
                if k not in upload_fields or upload is not None:
                    raise _bad(f"unexpected file field {k!r}: send one image as {' or '.join(upload_fields)!s}", k)
                upload = item
            else:
                values[k] = (item, "form")
        if upload is None:
            raise _bad(f"no image: upload it as the multipart field '{upload_fields[0]}'", upload_fields[0])
        inp.data, inp.name = await upload.read(), upload.filename
        if not inp.data:
            raise ApiError(400, "the uploaded file is empty", code="empty", param=upload_fields[0])
    elif ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("the request body is not valid JSON", None) from None
        if not isinstance(body, dict):
            raise _bad("the JSON body must be an object", None)
        given = [k for k in JSON_IMAGE_FIELDS if body.get(k) not in (None, "")]
        if len(given) != 1:
            raise _bad("name the image with exactly one of image_url, image_base64 or image", "image_url")
        source = body[given[0]]
        for k, v in body.items():
            if k not in JSON_IMAGE_FIELDS:
                values[k] = (v, "json")
        inp.data, inp.name = await run_in_threadpool(_json_image, given[0], source,
                                                     Limits.from_settings(request.app.state.service.settings))
    elif ctype.startswith("image/") or ctype == "application/octet-stream":
        inp.data = await request.body()
        if not inp.data:
            raise ApiError(400, "the request body is empty", code="empty", param="body")
    elif not ctype and not await request.body():
        raise _bad(f"no image: upload it as the multipart field '{upload_fields[0]}'", upload_fields[0])
    else:
        raise ApiError(415, f"send the image as multipart/form-data (field '{upload_fields[0]}'), as an image/* body, "
                            "or as JSON with image_url, image_base64 or image"
                            + (f"; got {ctype!r}" if ctype else " (no Content-Type)"), code="unsupported_media_type")
    unknown = []
    for k, (v, where) in values.items():
        if k == "prompt":
            inp.prompt = (str(v) if v is not None else "").strip() or None
        elif k == "name" and where != "form":
            inp.name = str(v)[:200] if v is not None else None
        elif k in DESCRIBE_KNOBS or k in KNOB_ALIASES:
            knob = KNOB_ALIASES.get(k, k)
            if v is None:
                continue
            inp.knobs[knob] = sampling.from_text(knob, v, k) if isinstance(v, str) and where != "json" else \
                sampling.check(knob, v, k)
            inp.params[knob] = k
        else:
            unknown.append(k)
    if unknown:
        raise _bad(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}; a describe takes "
                   f"the image, prompt, name and {', '.join(DESCRIBE_KNOBS)}", sorted(unknown)[0])
    return inp


def _json_image(field_name: str, source: Any, limits: Limits) -> tuple[bytes, str | None]:
    """The bytes of an image named in JSON: fetched (http/https, guarded), a data: URL or base64."""
    from vlagent.imaging.load import decode_base64, decode_data_url, load_url

    if not isinstance(source, str):
        raise _bad(f"{field_name} must be a string", field_name)
    text = source.strip()
    try:
        if text[:5].lower() == "data:":
            return decode_data_url(text, limits), None
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
            if field_name == "image_base64" or not re.match(r"^https?://", text, re.I):
                raise ApiError(400, f"{field_name}: only http(s) URLs, data: URLs and base64 are accepted (got "
                                    f"{text[:40]!r}); files on this machine are never read", code="invalid_image_url",
                               param=field_name)
            loaded = load_url(text, limits)
            return loaded.data, loaded.name
        if field_name == "image_url":
            raise ApiError(400, f"image_url must be an http(s) URL or a data: URL (got {text[:40]!r})",
                           code="invalid_image_url", param=field_name)
        if not re.fullmatch(r"[A-Za-z0-9+/=_\-\s]+", text) or len(text) < 16:
            raise ApiError(400, f"{field_name} is neither base64 nor a URL (got {text[:40]!r}); file paths are "
                                "refused: the server never reads its own files for a client", code="invalid_image_url",
                           param=field_name)
        return decode_base64(text, limits), None
    except ImageInputError as e:
        raise image_error(e, field_name) from None


@router.post("/v1/describe", openapi_extra={"requestBody": DESCRIBE_BODY})
async def describe(request: Request):
    """Describe an image now: OCR and the model, with the request's prompt and knobs; indexed
    (source ``api``) unless ``api.index_uploads`` is off. The answer repeats none of the input."""
    inp = await read_describe_input(request)
    return await describe_image(request, inp)


async def describe_image(request: Request, inp: DescribeInput) -> dict:
    """The describe every upload route shares (``/v1/describe``, ``/describe-image/``,
    ``/v1/vision/completion``)."""
    from vlagent.ingest.pipeline import FAILED
    from vlagent.vlm.prompts import describe_prompt

    service: ApiService = request.app.state.service
    settings = service.settings
    t0 = time.perf_counter()
    keep = settings.view.api.index_uploads
    if keep and settings.view.privacy.paused:
        raise ApiError(503, "vlagent is paused (privacy.paused): nothing is indexed until it is resumed",
                       code="paused", type="server_error")
    runner = service.worker.runner
    if runner is None or "describe" not in runner.steps or service.worker.engine is None:
        raise ApiError(503, "no vision-language model backend is available to describe images",
                       code="model_unavailable", type="server_error")
    opts = sampling.build_options(inp.knobs, settings, inp.params) if inp.knobs else None
    plain = inp.prompt is None and opts is None  # the index's own description: made once, reused
    use_ocr = settings.view.ocr.enabled and "ocr" in runner.steps
    limits = Limits.from_settings(settings)
    prompt = inp.prompt or describe_prompt(settings)
    with service.admit():
        if keep:
            steps = (["ocr"] if use_ocr else []) + (["describe"] if plain else [])
            outcome, waits = await run_in_threadpool(service.queue_upload, inp.data, inp.name, steps)
            if outcome.status == FAILED:
                raise ApiError(413 if outcome.error_type == "too_large" else 400, outcome.error,
                               code=outcome.error_type, param="file")
            image_id = outcome.image_id
            assert image_id is not None  # every outcome but FAILED names its image
        else:
            outcome, image_id, waits = None, None, []
        loaded = None
        if not plain or not keep:
            try:
                loaded = await run_in_threadpool(load_bytes, inp.data, limits, name=inp.name)
            except ImageInputError as e:
                raise image_error(e, "file") from None
        ocr_future = _ocr_now(service, loaded) if not keep and use_ocr and loaded is not None else None
        generated = None
        if loaded is not None:
            options = opts or sampling.build_options({}, settings)
            answer = Answer(lambda on_token, cancel: service.chat([ChatMessage("user", prompt, [loaded.image])],
                                                                  options, None, cancel),
                            StopMatcher([]), service.metrics)
            generated = await answer.result(request)
            if generated.finish_reason == "cancelled":
                raise ApiError(503, "the description was cancelled (the server is stopping)", code="cancelled",
                               type="server_error")
        steps_done = await asyncio.gather(*(service.wait_job(*w) for w in waits))
        ocr_report = await asyncio.wrap_future(ocr_future) if ocr_future is not None else None
    failed = [s for s in steps_done if s.state != "done"]
    if failed:
        s = failed[0]
        raise ApiError(500, f"image {image_id} was indexed, but its {s.step} job {s.state}: {s.error}",
                       code="step_failed", type="server_error")
    result: dict[str, Any] = {}
    ocr: dict | None = None
    if generated is not None:
        kind = "answer" if inp.prompt else "description"
        stored = result_from(kind, generated, prompt=inp.prompt, extra={"prompt": prompt, **(
            {"image_ids": [image_id]} if inp.prompt and image_id is not None else {})})
        result = {"text": stored.text, "engine": stored.engine, "model": stored.model, "prompt": prompt,
                  "timings": stored.timings}
        if image_id is not None:
            await run_in_threadpool(_store, service, image_id, stored)
    image: dict[str, Any] = {}
    if image_id is not None:
        with service.read_index() as index:
            image = dict(index.image(image_id) or {})
            ocr = _latest(index.results(image_id, "ocr"))
            if generated is None:
                description = _latest(index.results(image_id, "description")) or {}
                result = {"text": description.get("text"), "engine": description.get("engine"),
                          "model": description.get("model"),
                          "prompt": (description.get("params") or {}).get("prompt"),
                          "timings": description.get("timings")}
    elif ocr_report is not None and ocr_report.ok and ocr_report.results:
        r = ocr_report.results[0]
        ocr = {"text": r.text, "latency_ms": r.latency_ms}
    return {
        "object": "image.description",
        "image_id": image_id,
        "sha256": image.get("sha256") or (loaded.sha256 if loaded is not None else None),
        "status": outcome.status if outcome is not None else "not_indexed",  # new | duplicate | unchanged
        "width": image.get("width") or (loaded.width if loaded is not None else None),
        "height": image.get("height") or (loaded.height if loaded is not None else None),
        "description": result.get("text"),
        "prompt": result.get("prompt"),
        "model": result.get("model"),
        "engine": result.get("engine"),
        "ocr_text": ocr["text"] if ocr else None,
        "timings": {"total_ms": elapsed_ms(t0), "ingest_ms": round(outcome.ms, 1) if outcome is not None else None,
                    "ocr_ms": ocr["latency_ms"] if ocr else None, "model": result.get("timings") or {}},
        "thumbnail_url": thumbnail_url(image_id) if image_id is not None else None,
    }


def _store(service: ApiService, image_id: int, result) -> None:
    index = service.open_index()
    try:
        index.add_result(image_id, result)
    finally:
        index.close()


def _ocr_now(service: ApiService, loaded) -> Future:
    """OCR an image that is not kept, on the worker (its OCR engine), outside the queue."""
    fut: Future = Future()

    def task() -> None:
        runner = service.worker.runner
        try:
            if runner is None:
                raise RuntimeError("the worker has not started")
            fut.set_result(runner.run_direct("ocr", loaded))
        except Exception as e:
            fut.set_exception(e)

    service.worker.call_soon(task)
    return fut


def _bad(message: str, param: str | None) -> ApiError:
    return ApiError(400, message, code="invalid_value", param=param)


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
    # A file name that is not UTF-8: its bytes as \\xNN in "path", the exact ones in "path_b64".
    return json_safe({"object": "list", "query": q, "total": page.total, "total_exact": page.total_exact,
                      "relaxed": page.relaxed, "data": data})


@router.get("/v1/images/{image_id}")
def image_record(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    with request.app.state.service.read_index() as index:
        record = index.detail(image_id)
    if record is None:
        raise ApiError(404, f"no image with id {image_id}", code="not_found", param="image_id")
    record["thumbnail_url"] = thumbnail_url(image_id)
    return json_safe(record)


def thumbnail_file(service, image_id: int) -> Path:
    """The image's thumbnail file, inside the home's thumbnails folder; a 404 ApiError when
    there is no such image or it has no thumbnail (the API's and the web page's route)."""
    with service.read_index() as index:
        image = index.image(image_id)
        path = index.thumbnail_path(image) if image else None
    if image is None:
        raise ApiError(404, f"no image with id {image_id}", code="not_found", param="image_id")
    root = Path(service.home.thumbnails).resolve()
    if path is None or not path.resolve().is_relative_to(root) or not path.is_file():
        raise ApiError(404, f"image {image_id} has no thumbnail", code="not_found", param="image_id")
    return path


@router.get("/v1/images/{image_id}/thumbnail")
def image_thumbnail(request: Request, image_id: int = PathParam(ge=1, le=MAX_ID)):
    return FileResponse(thumbnail_file(request.app.state.service, image_id), media_type="image/jpeg")

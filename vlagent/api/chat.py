"""``POST /v1/chat/completions`` and ``GET /v1/models`` in OpenAI's shapes.

Messages carry text and ``image_url`` parts (an http(s) URL, fetched with the guarded
fetcher, or a ``data:`` URL); several images and several turns are fine. The answer comes
whole or, with ``stream: true``, as server-sent ``chat.completion.chunk`` events ending in
``data: [DONE]``. Nothing here reads a file: any other kind of image reference is a 400.
Chat images are not added to the index (a client using vlagent as a model server would
otherwise fill the user's memory with its inputs); ``/v1/describe`` is the indexing path.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vlagent.api.errors import ApiError, image_error, model_error
from vlagent.imaging.errors import ImageInputError
from vlagent.vlm.base import CancelToken, ChatMessage, GenerationOptions

router = APIRouter()

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_IMAGES = 32
MAX_NEW_TOKENS = 32768
DISCONNECT_CHECK_S = 0.5
_HTTP_URL = re.compile(r"^https?://", re.I)


class ChatRequest(BaseModel):
    """The fields vlagent reads; other OpenAI fields (seed, user, penalties …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    stop: str | list[str] | None = None
    tools: list[Any] | None = None


# --- messages → the engine's ChatMessages --------------------------------------------------
def parse_messages(raw: list[dict]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Check the messages' shape; returns (role, text, [(image url, its param path)]) per message."""
    out = []
    n_images = 0
    for i, m in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise _bad(f"{where} must be an object with a role and content", where)
        role = m.get("role")
        if role not in ROLES:
            detail = " (tool calling is not supported)" if role in ("tool", "function") else ""
            raise _bad(f"{where}.role must be one of system, developer, user, assistant; got {role!r}{detail}",
                       f"{where}.role")
        texts, images = _content(m.get("content"), role, where)
        n_images += len(images)
        out.append((ROLES[role], "\n".join(texts), images))
    if out[-1][0] != "user":
        raise _bad("the last message must be from the user", f"messages[{len(raw) - 1}].role")
    if n_images > MAX_IMAGES:
        raise _bad(f"{n_images} images in one request; at most {MAX_IMAGES} are accepted", "messages")
    return out


def _content(content, role: str, where: str) -> tuple[list[str], list[tuple[str, str]]]:
    if content is None and role == "assistant":
        return [], []
    if isinstance(content, str):
        return [content], []
    if not isinstance(content, list):
        raise _bad(f"{where}.content must be a string or a list of content parts", f"{where}.content")
    texts, images = [], []
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            if role != "user":
                raise _bad(f"{at}: images are accepted in user messages only", f"{at}.type")
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str) or not url.strip():
                raise _bad(f"{at}.image_url.url must be a string (an http(s) URL or a data: URL)",
                           f"{at}.image_url.url")
            images.append((url.strip(), f"{at}.image_url.url"))
        else:
            raise _bad(f"{at} must be {{'type': 'text', 'text': ...}} or {{'type': 'image_url', 'image_url': "
                       f"{{'url': ...}}}}", at)
    return texts, images


def load_image(url: str, param: str, limits):
    """An image from a data: URL or a guarded http(s) download; never a file."""
    from vlagent.imaging.load import load_url

    try:
        if url[:5].lower() == "data:" or _HTTP_URL.match(url):
            return load_url(url, limits).image
    except ImageInputError as e:
        raise image_error(e, param) from None
    raise ApiError(400, f"{param}: only http(s) URLs and data: URLs are accepted (got {url[:40]!r}); "
                        "file paths and other schemes are refused", code="invalid_image_url", param=param)


def build_messages(parsed, limits) -> list[ChatMessage]:
    return [ChatMessage(role, text, [load_image(url, param, limits) for url, param in images])
            for role, text, images in parsed]


def generation_options(req: ChatRequest, settings) -> GenerationOptions:
    overrides: dict[str, Any] = {"max_new_tokens": req.max_completion_tokens or req.max_tokens}
    if req.temperature is not None:
        overrides["do_sample"] = req.temperature > 0
        if req.temperature > 0:
            overrides["temperature"] = req.temperature
    overrides["top_p"] = req.top_p
    return GenerationOptions.from_settings(settings, **overrides)


def stop_list(stop) -> list[str]:
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if len(stops) > 4:
        raise _bad("at most 4 stop sequences are accepted", "stop")
    return [s for s in stops if s]


class StopMatcher:
    """Cuts streamed text at the first stop sequence, holding back just enough characters
    that a sequence split across pieces is still caught."""

    def __init__(self, stops: list[str]):
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.buf = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buf += piece
        cut = min((i for i in (self.buf.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.buf, self.stopped = self.buf[:cut], "", True
            return out
        keep = min(self.hold, len(self.buf))
        out, self.buf = self.buf[:len(self.buf) - keep], self.buf[len(self.buf) - keep:]
        return out

    def flush(self) -> str:
        out, self.buf = ("" if self.stopped else self.buf), ""
        return out


def _bad(message: str, param: str | None) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


# --- responses -------------------------------------------------------------------------
def usage(g) -> dict:
    prompt = int(g.timings.get("input_tokens") or 0)
    completion = int(g.timings.get("new_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def finish_reason(g, stopped: bool) -> str:
    return "stop" if stopped or g.finish_reason != "length" else "length"


class Completion:
    """One request's identity: id, creation time, model name."""

    def __init__(self, model: str):
        self.id = "chatcmpl-" + secrets.token_hex(12)
        self.created = int(time.time())
        self.model = model

    def head(self, obj: str) -> dict:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None}

    def whole(self, text: str, g, stopped: bool) -> dict:
        return {**self.head("chat.completion"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "logprobs": None, "finish_reason": finish_reason(g, stopped)}],
                "usage": usage(g), "timings": g.timings}

    def chunk(self, delta: dict, finish: str | None = None) -> str:
        return _sse({**self.head("chat.completion.chunk"),
                     "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    def usage_chunk(self, g) -> str:
        return _sse({**self.head("chat.completion.chunk"), "choices": [], "usage": usage(g)})


def _sse(obj: dict) -> str:
    return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"


# --- the endpoints ---------------------------------------------------------------------
@router.get("/v1/models")
async def list_models(request: Request):
    service = request.app.state.service
    return {"object": "list", "data": [{"id": service.model_id(), "object": "model", "created": 0,
                                        "owned_by": "vlagent"}]}


@router.post("/v1/chat/completions")
async def chat_completions(req: ChatRequest, request: Request):
    from vlagent.imaging.load import Limits

    service = request.app.state.service
    model = service.check_model(req.model)
    if req.n not in (None, 1):
        raise _bad("only n = 1 is supported", "n")
    if req.tools:
        raise _bad("tool calling is not supported", "tools")
    parsed = parse_messages(req.messages)
    stops = stop_list(req.stop)
    opts = generation_options(req, service.settings)
    slot = service.admit()
    streaming = False
    try:
        messages = await run_in_threadpool(build_messages, parsed, Limits.from_settings(service.settings))
        answer = Answer(service, messages, opts, stops)
        completion = Completion(model)
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            streaming = True  # the stream releases the slot when it ends
            return StreamingResponse(answer.events(completion, include_usage, slot), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        g = await answer.result(request)
        return JSONResponse(completion.whole(answer.text(g), g, answer.matcher.stopped))
    finally:
        if not streaming:
            slot.release()


class Answer:
    """A generation running on the worker, its text pieces handed to this server's event loop."""

    def __init__(self, service, messages, opts, stops):
        self.loop = asyncio.get_running_loop()
        self.pieces: asyncio.Queue = asyncio.Queue()
        self.cancel = CancelToken()
        self.matcher = StopMatcher(stops)
        self.parts: list[str] = []
        self.future = service.chat(messages, opts, self._post, self.cancel)
        self.future.add_done_callback(lambda _: self._post(None))

    def _post(self, piece: str | None) -> None:  # on the worker's thread
        try:
            self.loop.call_soon_threadsafe(self.pieces.put_nowait, piece)
        except RuntimeError:  # this server's loop is gone: nobody listens any more
            self.cancel.cancel()

    async def _next(self) -> str | None:
        """The next piece of text (cut at a stop sequence), or None when the generation ended."""
        while (piece := await self.pieces.get()) is not None:
            text = self.matcher.feed(piece)
            if self.matcher.stopped:
                self.cancel.cancel()
            if text:
                return text
        return None

    def _generation(self):
        try:
            return self.future.result()
        except Exception as e:
            raise model_error(e) from None

    def text(self, g) -> str:
        """The answer: the engine's own text, or what came before a stop sequence."""
        return "".join(self.parts) + self.matcher.flush() if self.matcher.stops else g.text

    async def result(self, request: Request):
        """The finished generation; a client that hangs up meanwhile cancels it."""
        async def collect():
            while (text := await self._next()) is not None:
                self.parts.append(text)

        collecting = asyncio.ensure_future(collect())
        while True:
            done, _ = await asyncio.wait({collecting}, timeout=DISCONNECT_CHECK_S)
            if done:
                break
            if await request.is_disconnected():
                self.cancel.cancel()
        return self._generation()

    async def events(self, completion: Completion, include_usage: bool, slot):
        try:
            yield completion.chunk({"role": "assistant", "content": ""})
            while (text := await self._next()) is not None:
                yield completion.chunk({"content": text})
            try:
                g = self._generation()
            except ApiError as e:
                yield _sse(e.body())
                yield "data: [DONE]\n\n"
                return
            tail = self.matcher.flush()
            if tail:
                yield completion.chunk({"content": tail})
            yield completion.chunk({}, finish_reason(g, self.matcher.stopped))
            if include_usage:
                yield completion.usage_chunk(g)
            yield "data: [DONE]\n\n"
        finally:
            if not self.future.done():  # the client went away mid-answer
                self.cancel.cancel()
            slot.release()

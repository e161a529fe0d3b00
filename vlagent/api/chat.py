"""``POST /v1/chat/completions`` and ``GET /v1/models`` in OpenAI's shapes.

Messages carry text and ``image_url`` parts (an http(s) URL, fetched with the guarded
fetcher, or a ``data:`` URL); several images and several turns are fine. The answer comes
whole or, with ``stream: true``, as server-sent ``chat.completion.chunk`` events ending in
``data: [DONE]``. Nothing here reads a file: any other kind of image reference is a 400.
Chat images are not added to the index (a client using vlagent as a model server would
otherwise fill the user's memory with its inputs); ``/v1/describe`` is the indexing path.
Requests that arrive together are generated as one batch (:mod:`vlagent.api.batching`); the
sampling fields are read by :mod:`vlagent.api.sampling`. The model ``vlagent-memory``
answers from the index instead (:mod:`vlagent.api.memory`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vlagent.api import sampling
from vlagent.api.errors import ApiError, image_error, model_error
from vlagent.imaging.errors import ImageInputError
from vlagent.memory import MEMORY_MODEL_ID
from vlagent.vlm.base import CancelToken, ChatMessage, GenerationOptions

router = APIRouter()

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_IMAGES = 32  # per request, unless --limit-mm-per-prompt says otherwise
MAX_NEW_TOKENS = sampling.MAX_NEW_TOKENS
DISCONNECT_CHECK_S = 0.5
_HTTP_URL = re.compile(r"^https?://", re.I)


class ChatRequest(BaseModel):
    """A chat completion request: OpenAI's fields and vLLM's sampling extras (top level, or
    through the SDK's ``extra_body``, which lands there). Other fields are checked by
    :func:`check_extra_fields`: accepted where OpenAI itself ignores them or at the value that
    changes nothing, else a 400 naming them."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[Any] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    min_tokens: int | None = Field(None, ge=0, le=MAX_NEW_TOKENS)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=-1)
    min_p: float | None = Field(None, ge=0, le=1)
    repetition_penalty: float | None = Field(None, gt=0, le=10)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    seed: int | None = None
    n: int | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    stop: str | list[str] | None = None
    include_stop_str_in_output: bool = False
    mm_processor_kwargs: dict[str, Any] | None = None
    request_id: str | None = Field(None, max_length=200)
    tools: list[Any] | None = None


# Fields OpenAI does not use to generate (bookkeeping, storage, abuse monitoring): accepted, ignored.
IGNORED_FIELDS = frozenset({"user", "metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier",
                            "parallel_tool_calls", "priority"})
# Fields accepted only at the value that changes nothing (what a client sends by default),
# with why another value is refused.
NEUTRAL_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "logprobs": (lambda v: v in (None, False), "log probabilities are not returned"),
    "top_logprobs": (lambda v: v in (None, 0), "log probabilities are not returned"),
    "prompt_logprobs": (lambda v: v is None, "log probabilities are not returned"),
    "logit_bias": (lambda v: not v, "logit bias is not supported"),
    "response_format": (lambda v: v is None or (isinstance(v, dict) and v.get("type") == "text"),
                        "only plain text answers are supported (no JSON mode or schema)"),
    "tool_choice": (lambda v: v in (None, "none", "auto"), "tool calling is not supported"),
    "functions": (lambda v: not v, "function calling is not supported"),
    "function_call": (lambda v: v in (None, "none", "auto"), "function calling is not supported"),
    "modalities": (lambda v: v in (None, ["text"]), "answers are text only"),
    "audio": (lambda v: v is None, "answers are text only"),
    "prediction": (lambda v: v is None, "predicted outputs are not supported"),
    "reasoning_effort": (lambda v: v is None, "this model has no reasoning effort setting"),
    "web_search_options": (lambda v: v is None, "web search is not supported"),
    "best_of": (lambda v: v in (None, 1), "only one candidate is generated"),
    "use_beam_search": (lambda v: not v, "beam search is not supported"),
    "length_penalty": (lambda v: v in (None, 1, 1.0), "the length penalty applies to beam search only"),
    "ignore_eos": (lambda v: not v, "generation always stops at the end-of-text token"),
    "stop_token_ids": (lambda v: not v, "stop token ids are not supported (send stop strings)"),
    "bad_words": (lambda v: not v, "bad words are not supported"),
    "allowed_token_ids": (lambda v: not v, "allowed token ids are not supported"),
    "skip_special_tokens": (lambda v: v in (None, True), "special tokens are always skipped"),
    "spaces_between_special_tokens": (lambda v: v in (None, True), "special tokens are always skipped"),
    "echo": (lambda v: not v, "the prompt is not echoed"),
    "add_generation_prompt": (lambda v: v in (None, True), "the generation prompt is always added"),
    "continue_final_message": (lambda v: not v, "continuing the final message is not supported"),
    "add_special_tokens": (lambda v: not v, "the chat template adds the special tokens"),
    "documents": (lambda v: not v, "documents are not supported"),
    "chat_template": (lambda v: v is None, "the model's own chat template is always used"),
    "chat_template_kwargs": (lambda v: not v, "the model's own chat template is always used"),
    "truncate_prompt_tokens": (lambda v: v is None, "prompts are never truncated"),
    "guided_json": (lambda v: v is None, "guided decoding is not supported"),
    "guided_regex": (lambda v: v is None, "guided decoding is not supported"),
    "guided_choice": (lambda v: v is None, "guided decoding is not supported"),
    "guided_grammar": (lambda v: v is None, "guided decoding is not supported"),
    "structured_outputs": (lambda v: v is None, "guided decoding is not supported"),
    "logits_processors": (lambda v: not v, "logits processors are not supported"),
    "return_tokens_as_token_ids": (lambda v: not v, "tokens are returned as text"),
}
MM_KWARGS = ("min_pixels", "max_pixels")


def check_extra_fields(extra: dict[str, Any]) -> None:
    """The fields ``ChatRequest`` does not declare: ignored, neutral, or a 400 naming them."""
    unknown = []
    for name, value in extra.items():
        if name in IGNORED_FIELDS:
            continue
        if name in NEUTRAL_FIELDS:
            neutral, why = NEUTRAL_FIELDS[name]
            if not neutral(value):
                raise _bad(f"{name}: {why}", name)
            continue
        unknown.append(name)
    if unknown:
        raise _bad(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}: vlagent does not "
                   f"know what to do with {'them' if len(unknown) > 1 else 'it'}, and does not drop what a client "
                   "sends without a word (see README, 'Serving')", sorted(unknown)[0])


# --- messages → the engine's ChatMessages --------------------------------------------------
def parse_messages(raw: list, max_images: int = MAX_IMAGES) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Check the messages' shape; returns (role, text, [(image url, its param path)]) per message.

    A list of bare content parts (``[{"type": "text", ...}, {"type": "image_url", ...}]``, no
    roles) is read as one user message: a common client mistake (seed 001's multi-image script
    sends it) that the Qwen-VL services it was written for accepted."""
    if raw and all(isinstance(m, dict) and "role" not in m and m.get("type") in ("text", "image_url") for m in raw):
        raw = [{"role": "user", "content": raw}]
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
    if n_images > max_images:
        raise _bad(f"{n_images} images in one request; at most {max_images} are accepted"
                   + (" (--limit-mm-per-prompt)" if max_images != MAX_IMAGES else ""), "messages")
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
    """The request's knobs over the settings (see :mod:`vlagent.api.sampling`)."""
    mm = req.mm_processor_kwargs or {}
    unknown = sorted(set(mm) - set(MM_KWARGS))
    if unknown:
        raise _bad(f"mm_processor_kwargs.{unknown[0]}: only {', '.join(MM_KWARGS)} are understood",
                   f"mm_processor_kwargs.{unknown[0]}")
    knobs = {"max_new_tokens": req.max_completion_tokens or req.max_tokens, "min_new_tokens": req.min_tokens or None,
             "temperature": req.temperature, "top_p": req.top_p, "top_k": req.top_k, "min_p": req.min_p,
             "repetition_penalty": req.repetition_penalty, "presence_penalty": req.presence_penalty,
             "frequency_penalty": req.frequency_penalty, "seed": req.seed}
    params = {}
    for name in MM_KWARGS:
        if name in mm:
            knobs[name] = sampling.check(name, mm[name], f"mm_processor_kwargs.{name}")
            params[name] = f"mm_processor_kwargs.{name}"
    return sampling.build_options(knobs, settings, params)


def stop_list(stop) -> list[str]:
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if len(stops) > 4:
        raise _bad("at most 4 stop sequences are accepted", "stop")
    return [s for s in stops if s]


class StopMatcher:
    """Cuts streamed text at the first stop sequence (keeping the sequence itself with
    ``include``), holding back just enough characters that a sequence split across pieces is
    still caught."""

    def __init__(self, stops: list[str], include: bool = False):
        self.stops = stops
        self.include = include
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.buf = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buf += piece
        found = [(i, s) for s in self.stops if (i := self.buf.find(s)) >= 0]
        if found:
            cut, stop = min(found)
            out, self.buf, self.stopped = self.buf[:cut + (len(stop) if self.include else 0)], "", True
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
    out: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion}
    cached = g.timings.get("cached_tokens")
    if cached:
        out["prompt_tokens_details"] = {"cached_tokens": int(cached)}
    return out


def finish_reason(g, stopped: bool) -> str:
    return "stop" if stopped or g.finish_reason != "length" else "length"


class Completion:
    """One request's identity: id, creation time, model name."""

    def __init__(self, model: str, request_id: str | None = None):
        self.id = "chatcmpl-" + (request_id or secrets.token_hex(12))
        self.created = int(time.time())
        self.model = model

    def head(self, obj: str) -> dict:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None}

    def whole(self, text: str, reason: str, use: dict, **extra) -> dict:
        return {**self.head("chat.completion"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "logprobs": None, "finish_reason": reason}],
                "usage": use, **extra}

    def chunk(self, delta: dict, finish: str | None = None, **extra) -> str:
        return sse({**self.head("chat.completion.chunk"),
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra})

    def usage_chunk(self, use: dict) -> str:
        return sse({**self.head("chat.completion.chunk"), "choices": [], "usage": use})


def sse(obj: dict) -> str:
    return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


# --- the endpoints ---------------------------------------------------------------------
@router.get("/v1/models")
async def list_models(request: Request):
    """The model under every name it answers to (``--served-model-name``), then ``vlagent-memory``
    (answers from everything the agent has indexed)."""
    service = request.app.state.service
    root = service.settings.view.vlm.model
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "vlagent",
             "root": MEMORY_MODEL_ID if name == MEMORY_MODEL_ID else root, "parent": None,
             "max_model_len": service.options.max_model_len} for name in service.model_names()]
    return {"object": "list", "data": data}


@router.post("/v1/chat/completions")
async def chat_completions(req: ChatRequest, request: Request):
    from vlagent.imaging.load import Limits

    service = request.app.state.service
    started = time.monotonic()
    if req.model == MEMORY_MODEL_ID:
        from vlagent.api.memory import memory_chat

        return await memory_chat(req, request)
    model = service.check_model(req.model)
    check_extra_fields(req.model_extra or {})
    if req.n not in (None, 1):
        raise _bad("only n = 1 is supported", "n")
    if req.tools:
        raise _bad("tool calling is not supported", "tools")
    parsed = parse_messages(req.messages, service.max_images())
    stops = stop_list(req.stop)
    opts = generation_options(req, service.settings)
    if service.options.max_tokens_cap:
        opts.max_new_tokens = min(opts.max_new_tokens, service.options.max_tokens_cap)
    include_usage = bool((req.stream_options or {}).get("include_usage"))
    slot = service.admit()
    ticket = service.scheduler.expect()
    streaming = False
    try:
        messages = await run_in_threadpool(build_messages, parsed, Limits.from_settings(service.settings))
        if service.options.max_model_len:
            asked = req.max_completion_tokens or req.max_tokens
            await run_in_threadpool(fit_context, service, messages, opts,
                                    min(asked, opts.max_new_tokens) if asked else None)
        answer = Answer(lambda on_token, cancel: service.chat(messages, opts, on_token, cancel, ticket),
                        StopMatcher(stops, req.include_stop_str_in_output), service.metrics, started)
        completion = Completion(model, req.request_id)
        if req.stream:
            streaming = True  # the stream releases the slot when it ends
            return StreamingResponse(answer.events(completion, include_usage, slot), media_type="text/event-stream",
                                     headers=SSE_HEADERS)
        g = await answer.result(request)
        return JSONResponse(completion.whole(answer.text(g), finish_reason(g, answer.matcher.stopped), usage(g),
                                             timings=g.timings))
    finally:
        ticket.drop()
        if not streaming:
            slot.release()


def fit_context(service, messages: list[ChatMessage], opts: GenerationOptions, asked: int | None) -> None:
    """``--max-model-len``: the prompt and the answer must fit; the answer's limit shrinks to
    what is left when the client did not ask for a length (vLLM's rule)."""
    limit = service.options.max_model_len
    n = len(service.bind_tokens().chat_ids(messages, opts))
    if n >= limit or (asked is not None and n + asked > limit):
        wanted = f"{n} in the messages" + (f" and {asked} in the completion" if asked is not None else "")
        raise ApiError(400, f"this model's maximum context length is {limit} tokens (--max-model-len), but "
                            f"{n + (asked or 0)} were requested ({wanted}); shorten the messages or ask for fewer "
                            "tokens", code="context_length_exceeded", param="messages")
    opts.max_new_tokens = min(opts.max_new_tokens, limit - n)


class Answer:
    """A generation running on the worker, its text pieces handed to this server's event loop.
    ``start(on_token, cancel)`` starts it and returns its future; what the future holds has a
    ``text`` (a Generation; :mod:`vlagent.api.memory` streams a MemoryAnswer the same way)."""

    def __init__(self, start: Callable[[Callable[[str], None], CancelToken], Future], matcher: StopMatcher,
                 metrics=None, started: float | None = None):
        self.loop = asyncio.get_running_loop()
        self.pieces: asyncio.Queue = asyncio.Queue()
        self.cancel = CancelToken()
        self.matcher = matcher
        self.metrics = metrics
        self.started = started if started is not None else time.monotonic()
        self.first_token: float | None = None
        self.parts: list[str] = []
        self.future = start(self._post, self.cancel)
        self.future.add_done_callback(self._ended)

    def _post(self, piece: str | None) -> None:  # on the worker's thread
        if piece is not None and self.first_token is None:
            self.first_token = time.monotonic()
        try:
            self.loop.call_soon_threadsafe(self.pieces.put_nowait, piece)
        except RuntimeError:  # this server's loop is gone: nobody listens any more
            self.cancel.cancel()

    def _ended(self, fut: Future) -> None:
        if self.metrics is not None and not fut.cancelled() and fut.exception() is None:
            g = fut.result()
            if hasattr(g, "finish_reason"):
                self.metrics.generation(g, self.started, self.first_token)
        self._post(None)

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
        except ApiError:
            raise
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

    def ending(self, g) -> tuple[str, str, dict, dict]:
        """What the stream ends with: (last text, finish reason, usage, extra fields of the last chunk)."""
        return self.matcher.flush(), finish_reason(g, self.matcher.stopped), usage(g), {}

    async def events(self, completion: Completion, include_usage: bool, slot):
        try:
            yield completion.chunk({"role": "assistant", "content": ""})
            while (text := await self._next()) is not None:
                yield completion.chunk({"content": text})
            try:
                g = self._generation()
            except ApiError as e:
                yield sse(e.body())
                yield "data: [DONE]\n\n"
                return
            tail, reason, use, extra = self.ending(g)
            if tail:
                yield completion.chunk({"content": tail})
            yield completion.chunk({}, reason, **extra)
            if include_usage:
                yield completion.usage_chunk(use)
            yield "data: [DONE]\n\n"
        finally:
            if not self.future.done():  # the client went away mid-answer
                self.cancel.cancel()
            slot.release()

"""The remote engine: inference on an OpenAI-compatible server (vLLM, SGLang, Ollama,
LM Studio, a cloud endpoint, another vlagent) instead of a local model.

Each image goes up as a data URL, downscaled to the ``vlm.max_pixels`` budget first and
encoded as the smaller of PNG and JPEG, so uploads stay small. A describe batch
is sent as up to ``vlm.openai_concurrency`` parallel requests; chat answers stream. A
request that meets a 429, a 5xx or a dropped connection is retried with exponential
backoff (or after the server's Retry-After) up to ``vlm.openai_retries`` times. Results
are the same :class:`Generation` the local engine returns — engine ``openai``, the remote
model's name, timings and the server's token counts — so they are stored the same way.
Configuration mistakes (wrong key, unreachable server, unknown model) raise a
:class:`VlmError` that says what to fix in one sentence.
"""

from __future__ import annotations

import base64
import email.utils
import io
import json
import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from PIL import Image

from vlagent.vlm.base import (
    CancelToken,
    ChatMessage,
    ChatRequest,
    Generation,
    GenerationOptions,
    TokenCallback,
    VlmError,
)

if TYPE_CHECKING:
    from vlagent.settings import Settings

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 20.0
RETRY_AFTER_CAP_S = 120.0
FLAT_IMAGE_COLOURS = 4096  # with more distinct colours than this, PNG is never the smaller: JPEG only
JPEG_QUALITY = 90
CANCEL_POLL_S = 0.05


class RemoteError(VlmError):
    """The remote server refused or failed a request; the message says what to check."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable


@dataclass(frozen=True)
class Remote:
    """The connection settings of one call (they may change between calls)."""

    base_url: str
    api_key: str
    model: str
    timeout: float
    retries: int
    concurrency: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Remote:
        vlm = settings.view.vlm
        base = vlm.openai_base_url.strip().rstrip("/")
        model = vlm.openai_model.strip()
        if not base:
            raise VlmError("vlm.backend is openai but vlm.openai_base_url is empty: set it to the server's "
                           "OpenAI-compatible URL, e.g. http://gpu-box:8000/v1")
        if not base.lower().startswith(("http://", "https://")):
            raise VlmError(f"vlm.openai_base_url must start with http:// or https:// (got {base!r})")
        if not model:
            raise VlmError("vlm.backend is openai but vlm.openai_model is empty: set the model name the server "
                           "serves (its GET /v1/models lists them)")
        return cls(base, vlm.openai_api_key, model, vlm.openai_timeout, vlm.openai_retries, vlm.openai_concurrency)

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


# --- images -----------------------------------------------------------------------------
def fit_size(width: int, height: int, opts: GenerationOptions) -> tuple[int, int]:
    """The size to send: the explicit resized size, or the image shrunk (never enlarged) to
    ``max_pixels``; the server applies its own patch-grid rounding."""
    h, w = opts.resized_height, opts.resized_width
    if h or w:
        return (w or max(1, round(h * width / height)), h or max(1, round(w * height / width)))
    if width * height <= opts.max_pixels:
        return width, height
    scale = math.sqrt(opts.max_pixels / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def encode_image(image: Image.Image, opts: GenerationOptions) -> tuple[str, dict]:
    """(data URL, what was sent: size, format, bytes). Within the pixel budget, the smaller of
    PNG and JPEG: PNG wins for flat pages of text (lossless, often smaller), JPEG for photos."""
    size = fit_size(image.width, image.height, opts)
    if size != image.size:
        image = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    jpeg = _encoded(image, "JPEG", quality=JPEG_QUALITY)
    fmt, data = "jpeg", jpeg
    if image.getcolors(FLAT_IMAGE_COLOURS) is not None:  # few colours: PNG may well be smaller
        png = _encoded(image, "PNG", compress_level=6)
        if len(png) <= len(jpeg):
            fmt, data = "png", png
    return (f"data:image/{fmt};base64,{base64.b64encode(data).decode('ascii')}",
            {"size": f"{image.width}x{image.height}", "format": fmt, "bytes": len(data)})


def _encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def request_messages(messages: list[ChatMessage], opts: GenerationOptions) -> tuple[list[dict], list[dict]]:
    """OpenAI chat messages (images as data URLs) and what was sent for each image."""
    out: list[dict] = []
    sent: list[dict] = []
    for m in messages:
        if not m.images:
            out.append({"role": m.role, "content": m.text})
            continue
        parts = []
        for img in m.images:
            url, info = encode_image(img, opts)
            parts.append({"type": "image_url", "image_url": {"url": url}})
            sent.append(info)
        parts.append({"type": "text", "text": m.text})
        out.append({"role": m.role, "content": parts})
    return out, sent


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_s(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP_S)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt) * random.uniform(0.75, 1.25)


class OpenAIEngine:
    name = "openai"

    def __init__(self, settings: Settings, home=None):
        self.settings = settings
        self.home = home
        self._client: httpx.Client | None = None
        self._client_timeout: float | None = None
        self._checked: Remote | None = None
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.settings.view.vlm.openai_model

    @property
    def loaded(self) -> bool:
        return self._checked is not None

    def load(self) -> None:
        """Check the server now: reachable, and the key accepted."""
        self._ready(Remote.from_settings(self.settings), None)

    def unload(self) -> None:
        with self._lock:
            client, self._client, self._checked = self._client, None, None
        if client is not None:
            client.close()

    def _http(self, remote: Remote) -> httpx.Client:
        with self._lock:
            if self._client is None or self._client_timeout != remote.timeout:
                if self._client is not None:
                    self._client.close()
                self._client = httpx.Client(timeout=httpx.Timeout(remote.timeout, connect=min(remote.timeout, 10.0)),
                                            limits=httpx.Limits(max_keepalive_connections=32))
                self._client_timeout = remote.timeout
            return self._client

    def _ready(self, remote: Remote, cancel: CancelToken | None) -> None:
        """Once per configuration: GET /models, so a wrong key or URL fails with its own sentence
        before any image goes up. A model missing from the list is not refused here (servers
        accept names they don't list, e.g. Ollama without the tag); the server says so if not."""
        if self._checked == remote:
            return
        try:
            self._served_models(remote, cancel)
        except RemoteError as e:
            if e.status not in (404, 405, 501):  # a server without /models is taken at its word
                raise
        self._checked = remote

    def _served_models(self, remote: Remote, cancel: CancelToken | None) -> list[str]:
        resp, _ = self._request(remote, "GET", "/models", None, cancel)
        try:
            return [m["id"] for m in resp.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            return []

    def _unknown_model(self, remote: Remote, served: list[str] | None) -> str:
        known = f" (it serves: {', '.join(served[:10])})" if served else ""
        return (f"the server at {remote.base_url} does not serve the model {remote.model!r}{known}; "
                f"set vlm.openai_model to one of its models")

    # --- the interface ---------------------------------------------------------------
    def describe(self, images: list[Image.Image], prompt: str, options: GenerationOptions | None = None,
                 cancel: CancelToken | None = None) -> list[Generation]:
        opts = options or GenerationOptions.from_settings(self.settings)
        remote = Remote.from_settings(self.settings)
        self._ready(remote, cancel)
        one = lambda img: self._complete(remote, [ChatMessage("user", prompt, [img])], opts, None, cancel)  # noqa: E731
        if len(images) <= 1 or remote.concurrency <= 1:
            return [one(img) for img in images]
        with ThreadPoolExecutor(max_workers=min(remote.concurrency, len(images)),
                                thread_name_prefix="vlagent-remote") as pool:
            futures = [pool.submit(one, img) for img in images]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def chat(self, messages: list[ChatMessage], options: GenerationOptions | None = None,
             on_token: TokenCallback | None = None, cancel: CancelToken | None = None) -> Generation:
        if not messages or messages[-1].role != "user":
            raise VlmError("a chat must end with a user message")
        opts = options or GenerationOptions.from_settings(self.settings)
        remote = Remote.from_settings(self.settings)
        self._ready(remote, cancel)
        return self._complete(remote, messages, opts, on_token, cancel)

    def chat_many(self, requests: list[ChatRequest]) -> list[Generation | VlmError]:
        """Each request as its own (streamed) completion, up to ``vlm.openai_concurrency`` in
        parallel: the server batches them. A request's error stays in its slot."""

        def one(r: ChatRequest) -> Generation | VlmError:
            try:
                return self.chat(r.messages, r.options, on_token=r.on_token, cancel=r.cancel)
            except VlmError as e:
                return e

        workers = min(max(1, self.settings.view.vlm.openai_concurrency), len(requests))
        if workers <= 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vlagent-remote") as pool:
            return list(pool.map(one, requests))

    # --- one completion --------------------------------------------------------------
    def _complete(self, remote: Remote, messages: list[ChatMessage], opts: GenerationOptions,
                  on_token: TokenCallback | None, cancel: CancelToken | None) -> Generation:
        t0 = time.perf_counter()
        prompt = messages[-1].text
        params = dict(opts.as_dict(), base_url=remote.base_url, concurrency=remote.concurrency)
        if cancel and cancel.cancelled:
            return Generation("", self.name, remote.model, prompt, params, {"cached_tokens": 0}, "cancelled")
        wire, sent = request_messages(messages, opts)
        body = {"model": remote.model, "messages": wire, "max_tokens": opts.max_new_tokens,
                "temperature": opts.temperature if opts.do_sample else 0.0}
        if opts.do_sample:
            body["top_p"] = opts.top_p
            if opts.min_p:
                body["min_p"] = opts.min_p  # vLLM's; sent only when asked for
        for name in ("presence_penalty", "frequency_penalty"):
            if getattr(opts, name):
                body[name] = getattr(opts, name)
        if opts.seed is not None:
            body["seed"] = opts.seed
        stream = on_token is not None
        if stream:
            body.update(stream=True, stream_options={"include_usage": True})
        t_encoded = time.perf_counter()
        reply = _Reply(on_token, cancel)
        _, tries = self._request(remote, "POST", "/chat/completions", body, cancel, reply)
        t_done = time.perf_counter()
        usage = reply.usage or {}
        new_tokens = usage.get("completion_tokens")
        request_s = t_done - t_encoded
        timings = {
            "encode_ms": round((t_encoded - t0) * 1000, 1),
            "request_ms": round(request_s * 1000, 1),
            "first_token_ms": round((reply.first - t_encoded) * 1000, 1) if reply.first else None,
            "total_ms": round((t_done - t0) * 1000, 1),
            "input_tokens": usage.get("prompt_tokens"),
            # the server's own prefix cache (vLLM, SGLang, cloud APIs report it)
            "cached_tokens": _cached_tokens(usage),
            "new_tokens": new_tokens,
            "tokens_per_s": round(new_tokens / request_s, 2) if new_tokens and request_s > 0 else None,
            "upload_bytes": sum(i["bytes"] for i in sent),
            "image_sizes": [i["size"] for i in sent],
            "image_formats": [i["format"] for i in sent],
            "retries": tries.count,
            "retry_wait_ms": round(tries.wait_s * 1000, 1),
        }
        if reply.remote_timings:
            timings["remote"] = reply.remote_timings
        finish = "cancelled" if reply.cancelled else ("length" if reply.finish_reason == "length" else "stop")
        return Generation(reply.text(), self.name, remote.model, prompt, params, timings, finish)

    def _request(self, remote: Remote, method: str, path: str, body: dict | None, cancel: CancelToken | None,
                 reply: _Reply | None = None):
        """Send with retries; returns (response, _Tries). ``reply`` reads a completion (streamed or whole)."""
        client = self._http(remote)
        url = remote.base_url + path
        tries = _Tries()
        while True:
            try:
                return self._send_once(client, remote, method, url, body, reply), tries
            except RemoteError as e:
                if not e.retryable or tries.count >= remote.retries or (reply is not None and reply.started):
                    if e.retryable and tries.count:
                        raise RemoteError(f"{e} (after {tries.count} retries)", status=e.status) from None
                    raise
                delay = backoff_s(tries.count, e.retry_after)
                tries.count += 1
                tries.wait_s += delay
                if _sleep(delay, cancel):
                    raise VlmError("cancelled while waiting to retry the remote server") from None

    def _send_once(self, client: httpx.Client, remote: Remote, method: str, url: str, body: dict | None,
                   reply: _Reply | None) -> httpx.Response:
        try:
            with client.stream(method, url, json=body, headers=remote.headers()) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise self._status_error(remote, resp, chat=body is not None)
                if reply is None:
                    resp.read()
                else:
                    reply.read(resp, remote)
                return resp
        except httpx.TimeoutException:
            raise RemoteError(f"the server at {remote.base_url} did not answer within {remote.timeout:g} s "
                              "(vlm.openai_timeout)", retryable=True) from None
        except httpx.TransportError as e:
            raise RemoteError(f"cannot reach the server at {remote.base_url} ({_reason(e)}); is it running, and "
                              "is vlm.openai_base_url right?", retryable=True) from None

    def _status_error(self, remote: Remote, resp: httpx.Response, *, chat: bool) -> RemoteError:
        status = resp.status_code
        message, code = _error_detail(resp)
        if status in (401, 403):
            return RemoteError(f"the server at {remote.base_url} refused the API key (HTTP {status}); "
                               "check vlm.openai_api_key", status=status)
        if chat and status == 404 and (code == "model_not_found" or "model" in message.lower()):
            try:
                served = self._served_models(remote, None)
            except RemoteError:
                served = None
            return RemoteError(self._unknown_model(remote, served), status=status)
        if status == 404:
            return RemoteError(f"{resp.request.url} was not found (HTTP 404); check vlm.openai_base_url "
                               "(it usually ends in /v1)", status=status)
        if status == 413:
            return RemoteError(f"the server at {remote.base_url} found the request too large (HTTP 413); "
                               "lower vlm.max_pixels", status=status)
        detail = f": {message}" if message else ""
        if status in RETRY_STATUS:
            return RemoteError(f"the server at {remote.base_url} answered HTTP {status}{detail}", status=status,
                               retry_after=retry_after_s(resp.headers.get("retry-after")), retryable=True)
        return RemoteError(f"the server at {remote.base_url} rejected the request (HTTP {status}){detail}",
                           status=status)


@dataclass
class _Tries:
    count: int = 0
    wait_s: float = 0.0


class _Reply:
    """Reads one chat completion: the whole JSON, or a stream of server-sent chunks
    (handing text pieces to ``on_token``, stopping when ``cancel`` is set)."""

    def __init__(self, on_token: TokenCallback | None, cancel: CancelToken | None):
        self.on_token = on_token
        self.cancel = cancel
        self.pieces: list[str] = []
        self.usage: dict | None = None
        self.finish_reason: str | None = None
        self.remote_timings: dict | None = None
        self.first: float | None = None
        self.started = False  # text was handed on: a retry would repeat it
        self.cancelled = False

    def text(self) -> str:
        return "".join(self.pieces)

    def read(self, resp: httpx.Response, remote: Remote) -> None:
        if "text/event-stream" in resp.headers.get("content-type", ""):
            self._read_stream(resp, remote)
        else:
            self._read_whole(resp.read(), remote)

    def _read_whole(self, raw: bytes, remote: Remote) -> None:
        try:
            obj = json.loads(raw)
            choice = obj["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise RemoteError(f"the server at {remote.base_url} sent an answer that is not a chat completion") from None
        self.first = time.perf_counter()
        self.pieces.append(text)
        self.finish_reason = choice.get("finish_reason")
        self.usage = obj.get("usage")
        self.remote_timings = obj.get("timings") if isinstance(obj.get("timings"), dict) else None

    def _read_stream(self, resp: httpx.Response, remote: Remote) -> None:
        for line in resp.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                obj = json.loads(data)
            except ValueError:
                raise RemoteError(f"the server at {remote.base_url} sent a malformed stream event") from None
            if "error" in obj:
                err = obj["error"] if isinstance(obj["error"], dict) else {"message": str(obj["error"])}
                raise RemoteError(f"the server at {remote.base_url} failed mid-answer: {err.get('message')}")
            if obj.get("usage"):
                self.usage = obj["usage"]
            for choice in obj.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    self.first = self.first or time.perf_counter()
                    self.pieces.append(piece)
                    self.started = True
                    if self.on_token is not None:
                        self.on_token(piece)
                if choice.get("finish_reason"):
                    self.finish_reason = choice["finish_reason"]
            if self.cancel is not None and self.cancel.cancelled:
                self.cancelled = True  # leaving the block closes the connection: the server stops too
                return


def _cached_tokens(usage: dict) -> int:
    details = usage.get("prompt_tokens_details")
    value = details.get("cached_tokens") if isinstance(details, dict) else None
    return value if isinstance(value, int) else 0


def _error_detail(resp: httpx.Response) -> tuple[str, str | None]:
    try:
        err = resp.json().get("error")
    except (ValueError, AttributeError):
        return resp.text.strip()[:300], None
    if isinstance(err, dict):
        return str(err.get("message") or "")[:300], err.get("code")
    return str(err or "")[:300], None


def _reason(e: httpx.TransportError) -> str:
    text = str(e) or e.__class__.__name__
    return text.split("] ", 1)[-1] if text.startswith("[Errno") else text


def _sleep(seconds: float, cancel: CancelToken | None) -> bool:
    """Sleep; True if cancelled meanwhile."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if cancel is not None and cancel.cancelled:
            return True
        time.sleep(min(left, CANCEL_POLL_S))
    return bool(cancel is not None and cancel.cancelled)

"""The remote engine against small real HTTP servers on 127.0.0.1 that behave like
OpenAI-compatible servers do when things go wrong: 503s, 429 with Retry-After, streams,
a wrong key, many requests at once."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from vlagent.samples import photo_like, text_image
from vlagent.settings import Settings
from vlagent.vlm.base import CancelToken, ChatMessage, GenerationOptions, VlmError
from vlagent.vlm.openai_backend import OpenAIEngine, RemoteError, fit_size, retry_after_s


def completion(text="a red square", prompt_tokens=50, completion_tokens=4):
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


class Fake(BaseHTTPRequestHandler):
    """Answers from ``server.script``: a list of (status, headers, body) used in order, then
    ``server.default``. Records every request body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _reply(self, status, headers, body):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", **headers}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        self.server.paths.append(self.path)
        self._reply(200, {}, {"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        srv = self.server
        with srv.lock:
            srv.bodies.append(body)
            srv.auth.append(self.headers.get("Authorization"))
            srv.inflight += 1
            srv.max_inflight = max(srv.max_inflight, srv.inflight)
            step = srv.script.pop(0) if srv.script else None
        try:
            if srv.barrier is not None:
                srv.barrier.wait(10)
            if step is None:
                step = srv.default(body) if callable(srv.default) else srv.default
            if step == "stream":
                return self._stream()
            self._reply(*step)
        finally:
            with srv.lock:
                srv.inflight -= 1

    def _stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
        chunks += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in ("Hel", "lo ", "there")]
        chunks += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
                   {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}]
        for c in chunks:
            self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


@pytest.fixture
def fake():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    httpd.daemon_threads = True
    httpd.script, httpd.bodies, httpd.auth, httpd.paths = [], [], [], []
    httpd.default = (200, {}, completion())
    httpd.lock = threading.Lock()
    httpd.inflight = httpd.max_inflight = 0
    httpd.barrier = None
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Exponential backoff from 10 ms instead of 0.5 s (a Retry-After header still rules)."""
    monkeypatch.setattr("vlagent.vlm.openai_backend.BACKOFF_BASE_S", 0.01)


def engine_for(base: str, **overrides) -> OpenAIEngine:
    s = Settings(None)
    for k, v in {"vlm.openai_base_url": base, "vlm.openai_model": "m", "vlm.openai_api_key": "sk-test",
                 "vlm.openai_retries": 3, "vlm.openai_timeout": 10.0, **overrides}.items():
        s.override(k, v)
    return OpenAIEngine(s)


def sent_image(body: dict) -> Image.Image:
    url = next(p["image_url"]["url"] for p in body["messages"][-1]["content"] if p["type"] == "image_url")
    header, b64 = url.split(",", 1)
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    img.mime = header
    return img


def test_retries_503_honouring_retry_after_then_succeeds(fake):
    fake.script = [(503, {"Retry-After": "1"}, {"error": {"message": "loading"}}), (503, {}, b"busy")]
    g = engine_for(fake.base).describe([text_image(["hi"], font_size=20)], "Describe.")[0]
    assert g.text == "a red square" and g.engine == "openai" and g.model == "m"
    assert len(fake.bodies) == 3
    assert g.timings["retries"] == 2 and g.timings["retry_wait_ms"] >= 1000 + 0.75 * 20
    assert g.timings["input_tokens"] == 50 and g.timings["new_tokens"] == 4
    assert fake.auth == ["Bearer sk-test"] * 3
    assert "api_key" not in json.dumps(g.params) and g.params["base_url"] == fake.base


def test_gives_up_after_the_configured_retries(fake):
    fake.default = (429, {"Retry-After": "0"}, {"error": {"message": "slow down", "code": "rate_limit"}})
    with pytest.raises(RemoteError) as e:
        engine_for(fake.base, **{"vlm.openai_retries": 2}).describe([photo_like(64, 64, seed=1)], "x")
    assert len(fake.bodies) == 3 and e.value.status == 429
    assert "HTTP 429: slow down (after 2 retries)" in str(e.value)


@pytest.mark.parametrize("status,body,needle", [
    (401, {"error": {"message": "Incorrect API key"}}, "refused the API key (HTTP 401); check vlm.openai_api_key"),
    (404, {"error": {"message": "model 'm' not found, try pulling it first"}}, "does not serve the model 'm'"),
    (404, {"error": {"message": "Not Found"}}, "check vlm.openai_base_url (it usually ends in /v1)"),
    (400, {"error": {"message": "messages: bad"}}, "rejected the request (HTTP 400): messages: bad"),
])
def test_client_errors_are_not_retried_and_say_what_to_fix(fake, status, body, needle):
    fake.default = (status, {}, body)
    with pytest.raises(VlmError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        engine_for(fake.base).describe([photo_like(64, 64, seed=2)], "x")
    assert len(fake.bodies) == 1


def test_an_unreachable_server_is_one_sentence(fake):
    fake.shutdown()
    fake.server_close()
    with pytest.raises(VlmError, match=r"cannot reach the server at .* is it running.*\(after 1 retries\)"):
        engine_for(fake.base, **{"vlm.openai_retries": 1}).chat([ChatMessage("user", "hi")])


def test_the_server_is_checked_once_and_an_unknown_model_named(fake):
    fake.default = lambda body: (200, {}, completion()) if body["model"] == "m" else (
        404, {}, {"error": {"message": f"The model `{body['model']}` does not exist.", "code": "model_not_found"}})
    with pytest.raises(VlmError, match=r"does not serve the model 'other' \(it serves: m\)"):
        engine_for(fake.base, **{"vlm.openai_model": "other"}).describe([photo_like(32, 32, seed=3)], "x")
    assert fake.paths == ["/v1/models", "/v1/models"]  # checked first, listed again for the message
    engine = engine_for(fake.base)
    engine.describe([photo_like(32, 32, seed=3)], "x")
    engine.describe([photo_like(32, 32, seed=4)], "x")
    assert fake.paths.count("/v1/models") == 3 and engine.loaded


def test_a_describe_batch_is_sent_in_parallel_up_to_the_concurrency(fake):
    images = [photo_like(96, 64, seed=i) for i in range(4)]
    fake.default = lambda body: (200, {}, completion(text=body["messages"][0]["content"][-1]["text"]))
    fake.barrier = threading.Barrier(4)  # each answer waits until all four requests have arrived
    gens = engine_for(fake.base, **{"vlm.openai_concurrency": 4}).describe(images, "Describe.")
    assert fake.max_inflight == 4 and [g.text for g in gens] == ["Describe."] * 4
    fake.barrier = None
    fake.max_inflight = 0
    engine_for(fake.base, **{"vlm.openai_concurrency": 1}).describe(images, "Describe.")
    assert fake.max_inflight == 1


def test_images_go_up_small_and_in_a_fitting_format(fake):
    opts = GenerationOptions(max_pixels=256 * 28 * 28, max_new_tokens=7)
    engine = engine_for(fake.base)
    engine.describe([photo_like(2000, 1500, seed=5)], "x", opts)
    photo = sent_image(fake.bodies[-1])
    assert photo.mime == "data:image/jpeg;base64" and photo.width * photo.height <= opts.max_pixels
    assert abs(photo.width / photo.height - 2000 / 1500) < 0.01
    assert fake.bodies[-1]["max_tokens"] == 7 and fake.bodies[-1]["temperature"] == 0.0
    page = text_image(["Settings saved", "设置已保存"], font_size=30)
    g = engine.describe([page], "x", opts)[0]
    shot = sent_image(fake.bodies[-1])
    assert shot.mime == "data:image/png;base64" and shot.size == page.size  # small enough: sent as is, lossless
    assert g.timings["upload_bytes"] > 0 and g.timings["image_formats"] == ["png"]


def test_chat_streams_pieces_and_stops_when_cancelled(fake):
    fake.default = "stream"
    pieces = []
    history = [ChatMessage("user", "What is it?", [photo_like(64, 64, seed=6)]),
               ChatMessage("assistant", "A photo."), ChatMessage("user", "Say hello.")]
    g = engine_for(fake.base).chat(history, on_token=pieces.append)
    assert pieces == ["Hel", "lo ", "there"] and g.text == "Hello there" and g.finish_reason == "length"
    assert g.timings["input_tokens"] == 9 and g.timings["new_tokens"] == 3
    sent = fake.bodies[-1]
    assert sent["stream"] is True and [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"] == "A photo." and sent["messages"][0]["content"][0]["type"] == "image_url"

    cancel = CancelToken()
    got = []

    def on_token(p):
        got.append(p)
        cancel.cancel()

    g = engine_for(fake.base).chat([ChatMessage("user", "hi")], on_token=on_token, cancel=cancel)
    assert got == ["Hel"] and g.finish_reason == "cancelled"


def test_configuration_mistakes_are_caught_before_any_request():
    with pytest.raises(VlmError, match="vlm.openai_base_url is empty"):
        engine_for("").describe([photo_like(8, 8, seed=1)], "x")
    with pytest.raises(VlmError, match="must start with http"):
        engine_for("file:///etc").describe([photo_like(8, 8, seed=1)], "x")
    with pytest.raises(VlmError, match="vlm.openai_model is empty"):
        engine_for("http://127.0.0.1:9/v1", **{"vlm.openai_model": ""}).describe([photo_like(8, 8, seed=1)], "x")


def test_helpers():
    assert retry_after_s("3") == 3.0 and retry_after_s(None) is None and retry_after_s("soon") is None
    assert 0 <= retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0  # a date in the past: now
    assert fit_size(100, 50, GenerationOptions(max_pixels=10_000)) == (100, 50)
    w, h = fit_size(4000, 1000, GenerationOptions(max_pixels=40_000))
    assert w * h <= 40_000 and (w, h) == (400, 100)
    assert fit_size(640, 480, GenerationOptions(resized_height=240)) == (320, 240)

"""The API's door and its errors: token, body limit, OpenAI's error shape, refused image
references (files, other schemes, this machine's own services), binding rules."""

from __future__ import annotations

import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import openai
import pytest

from tests.api.conftest import MAX_BODY, assert_openai_error, data_url, png_bytes, user
from tests.conftest import run_cli
from vlagent.samples import text_image


def post_chat(server, body, **kw):
    return httpx.post(f"{server.base}/chat/completions", json=body, headers=kw.pop("headers", server.auth()),
                      timeout=60, **kw)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
                         ids=["no-token", "wrong-token", "wrong-scheme"])
def test_every_endpoint_needs_the_token(server, headers):
    for method, path in [("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("GET", "/v1/search?q=x"),
                         ("GET", "/v1/images/1"), ("GET", "/v1/images/1/thumbnail"), ("POST", "/v1/describe"),
                         ("GET", "/v1/openapi.json"), ("GET", "/v1/nowhere")]:
        r = httpx.request(method, server.url + path, headers=headers, json={} if method == "POST" else None)
        assert_openai_error(r, 401, code="invalid_api_key")
        assert r.headers["www-authenticate"] == "Bearer"
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}  # says nothing but "up"


def test_the_sdk_reports_a_wrong_key(server, model_name):
    from openai import OpenAI

    client = OpenAI(base_url=server.base, api_key="not-the-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_token_file_is_private(server):
    path = server.home / "api-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(server.token) >= 40
    # The CLI prints the same token.
    assert run_cli("api-token", home=server.home, check=True).stdout_text.strip() == server.token


def test_oversized_body_is_413(server, model_name):
    big = "data:image/png;base64," + "A" * (MAX_BODY + 10)
    r = post_chat(server, {"model": model_name, "messages": [user("x", big)]})
    assert_openai_error(r, 413, code="request_too_large")

    def chunks():  # no Content-Length: the limit is counted while reading
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    r = httpx.post(f"{server.base}/chat/completions", content=chunks(), timeout=60,
                   headers={**server.auth(), "Content-Type": "application/json"})
    assert_openai_error(r, 413, code="request_too_large")


@pytest.mark.parametrize("body,param", [
    ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
    ({"model": "M", "messages": []}, "messages"),
    ({"model": "M", "messages": "hi"}, "messages"),
    ({"model": "M", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ({"model": "M", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "M", "messages": [{"role": "user", "content": [{"type": "audio", "x": 1}]}]},
     "messages[0].content[0]"),
    ({"model": "M", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"model": "M", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
     "messages[1].role"),
    ({"model": "M", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens"),
    ({"model": "M", "messages": [{"role": "user", "content": "hi"}], "n": 2}, "n"),
])
def test_malformed_requests_are_400_in_openai_shape(server, model_name, body, param):
    if body.get("model") == "M":
        body = dict(body, model=model_name)
    assert_openai_error(post_chat(server, body), 400, param=param)


def test_invalid_json_is_400(server):
    r = httpx.post(f"{server.base}/chat/completions", content=b"{not json",
                   headers={**server.auth(), "Content-Type": "application/json"})
    assert "JSON" in assert_openai_error(r, 400)["message"]


def test_unknown_model_is_404_and_the_alias_works(server, model_name):
    r = post_chat(server, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert model_name in assert_openai_error(r, 404, code="model_not_found", param="model")["message"]
    r = post_chat(server, {"model": "vlagent", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    assert r.status_code == 200 and r.json()["model"] == model_name


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.seen.append(self.path)
        body = png_bytes(text_image(["local"], font_size=20))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def local_image_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.seen = []
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_image_references_that_are_not_urls_or_data_are_refused(server, model_name, local_image_server,
                                                                 tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(text_image(["secret"], font_size=20)))
    port = local_image_server.server_address[1]
    cases = [(f"file://{secret}", "invalid_image_url"), (str(secret), "invalid_image_url"),
             ("ftp://example.com/a.png", "invalid_image_url"),
             (f"http://127.0.0.1:{port}/a.png", "url_not_allowed"),
             (f"http://localhost:{port}/a.png", "url_not_allowed"),
             ("data:text/plain;base64,aGVsbG8=", "not_an_image"),
             ("data:image/png;base64,%%%", "bad_input")]
    for url, code in cases:
        r = post_chat(server, {"model": model_name, "messages": [user("What is it?", url)]})
        assert_openai_error(r, 400, code=code, param="messages[0].content[0].image_url.url")
    assert local_image_server.seen == [], "the server must not fetch from this machine's own services"


def test_a_second_server_on_the_same_home_is_refused(server):
    proc = run_cli("serve", "--port", "0", home=server.home, timeout=120)
    assert proc.returncode == 1 and "already running" in proc.stderr_text


def test_binding_a_public_address_needs_the_flag(tmp_path):
    proc = run_cli("serve", "--host", "0.0.0.0", "--port", "0", home=tmp_path / "h", timeout=120)
    assert proc.returncode == 2
    assert "--allow-remote" in proc.stderr_text and "0.0.0.0" in proc.stderr_text


def test_loopback_check():
    from vlagent.api.server import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "8.8.8.8"))


def test_data_url_image_over_the_pixel_limit_is_400(server, model_name):
    # 12000 x 12000 = 144 M pixels, over the default 120 M limit; a tiny PNG (one colour).
    from PIL import Image

    url = data_url(Image.new("1", (12000, 12000)))
    r = post_chat(server, {"model": model_name, "messages": [user("x", url)]})
    assert_openai_error(r, 400, code="too_many_pixels")

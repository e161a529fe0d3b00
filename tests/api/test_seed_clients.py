"""The clients of the Qwen-VL services vlagent replaces, each sending exactly what it sends
(path, form fields, headers or their absence, model name, message shapes) to a real
``vlagent serve`` on loopback running the tiny checkpoint, and reading what it reads. Only
the URL changed; the server is started the way the README says for that client:

- 000 (FastAPI ``/describe-image/``), 003 (``requests`` JSON, no Authorization, Host
  0.0.0.0, ``"model": "qwen-vl"``), 004 (Flask ``/v1/vision/completion``):
  ``vlagent serve MODEL --no-auth --served-model-name qwen-vl``;
- 001 (the ``openai`` SDK, ``api_key="EMPTY"``, ``models.list().data[0].id``, data URLs and
  http URLs, one or several images): ``vlagent serve --api-key EMPTY`` with vLLM's flags.

The http image URLs the clients send are served by a small server on this machine (the
servers allow private URLs for it: the real clients fetch from the internet)."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests

from tests.api.conftest import assert_openai_error, png_bytes, server_config, start_serve, write_config
from vlagent.samples import photo_like, text_image


def jpeg_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    return buf.getvalue()


class _Images(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = self.server.images.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def image_host():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    httpd.images = {"/duck.jpg": jpeg_bytes(photo_like(320, 240, seed=5)),
                    "/lion.jpg": jpeg_bytes(photo_like(300, 200, seed=9))}
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _serve(tmp_path_factory, tiny_model_dir, name, *args, **tables):
    home = tmp_path_factory.mktemp(name) / "home"
    config = server_config(tiny_model_dir, net={"allow_private_urls": True}, **tables)
    del config["vlm"]["model"]  # the model comes on the command line, as 'vllm serve MODEL'
    write_config(home, config)
    return start_serve(home, *args)


@pytest.fixture(scope="module")
def no_auth(tmp_path_factory, tiny_model_dir):
    # 003 asks for 1024 tokens: capped as in vllm_like below.
    served = _serve(tmp_path_factory, tiny_model_dir, "seed-noauth", str(tiny_model_dir), "--no-auth",
                    "--served-model-name", "qwen-vl", "--override-generation-config", '{"max_new_tokens": 24}')
    yield served
    assert served.stop() == 0, served.log.read_text()


@pytest.fixture(scope="module")
def vllm_like(tmp_path_factory, tiny_model_dir):
    # 001 asks for max_tokens=1024: a random checkpoint rarely stops by itself, so the server caps
    # answers as a vLLM operator would (--override-generation-config); --max-model-len is vLLM's too.
    served = _serve(tmp_path_factory, tiny_model_dir, "seed-vllm", str(tiny_model_dir), "--api-key", "EMPTY",
                    "--dtype", "float", "--max-num-seqs", "4", "--limit-mm-per-prompt", "image=2",
                    "--max-model-len", "4k", "--override-generation-config", '{"max_new_tokens": 16}',
                    "--api-index-uploads", "false")
    yield served
    assert served.stop() == 0, served.log.read_text()


# --- 000: FastAPI /describe-image/ ----------------------------------------------------------
def test_000_describe_image_upload(no_auth):
    image = png_bytes(text_image(["Boarding pass", "Gate 23 登机口"], font_size=30))
    url = f"http://localhost:{no_auth.port}/describe-image/"
    response = requests.post(url, files={"file": ("000000004016.png", io.BytesIO(image))})
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result["description"], str) and result["description"]
    assert isinstance(result["inference_time"], float) and 0 < result["inference_time"] < 120
    assert f"{result['inference_time']:.2f}"  # the client formats it as seconds
    assert result["model"] == "qwen-vl" and "Gate 23" in result["ocr_text"]
    # Ready before it listened (start_serve waited for "listening on"): loaded, warmed up, the time logged.
    assert "loaded and warmed up in" in no_auth.log.read_text()
    # Indexed as /v1/describe does: searchable at once.
    hits = httpx.get(f"{no_auth.base}/search", params={"q": "Boarding"}).json()["data"]
    assert result["image_id"] in [h["image_id"] for h in hits]


# --- 003: requests + JSON, no Authorization, Host 0.0.0.0, model "qwen-vl" -------------------
def test_003_json_chat_without_a_token(no_auth, image_host):
    url = f"http://0.0.0.0:{no_auth.port}/v1/chat/completions"
    data = {
        "model": "qwen-vl",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "这是什么?"},
                                                  {"type": "image_url", "image_url": {"url": image_host + "/duck.jpg"}}]}],
        "max_tokens": 1024,
        "temperature": 0.5,
    }
    headers = {"Content-Type": "application/json"}
    response = requests.post(url, data=json.dumps(data), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"] and body["model"] == "qwen-vl"
    assert body["usage"]["prompt_tokens"] > 20  # the image is in the prompt


# --- 004: Flask /v1/vision/completion ----------------------------------------------------------
def test_004_vision_completion_with_and_without_a_prompt(no_auth):
    image = png_bytes(text_image(["发票 合计 128.00 元"], font_size=30))
    url = f"http://127.0.0.1:{no_auth.port}/v1/vision/completion"
    response = requests.post(url, files={"image": ("a.png", image, "image/png")}, data={"prompt": "请描述这张图片"})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["result"], str) and response.json()["result"]
    plain = requests.post(url, files={"image": ("a.png", image, "image/png")})
    assert plain.status_code == 200 and plain.json()["result"]
    missing = requests.post(url, data={"prompt": "x"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "image"


# --- --no-auth: this machine's names only, no foreign web page -------------------------------
def test_no_auth_refuses_a_foreign_host_and_a_foreign_origin(no_auth):
    url = f"http://127.0.0.1:{no_auth.port}/v1/models"
    assert httpx.get(url).status_code == 200
    for host in (f"localhost:{no_auth.port}", f"127.0.0.2:{no_auth.port}", f"0.0.0.0:{no_auth.port}",
                 f"[::1]:{no_auth.port}"):
        assert httpx.get(url, headers={"Host": host}).status_code == 200, host
    for host in ("attacker.example", f"attacker.example:{no_auth.port}", "192.168.1.5", "localhost.attacker.example"):
        err = assert_openai_error(httpx.get(url, headers={"Host": host}), 403, code="forbidden")
        assert "DNS rebinding" in err["message"]
    # A DNS-rebinding page: its own name in Host, posting a chat.
    r = httpx.post(f"http://127.0.0.1:{no_auth.port}/v1/chat/completions", headers={"Host": "rebind.example"},
                   json={"model": "qwen-vl", "messages": [{"role": "user", "content": "hi"}]})
    assert_openai_error(r, 403, code="forbidden")
    for origin in ("http://attacker.example", "null", f"http://localhost:{no_auth.port + 1}",
                   "https://127.0.0.1"):
        assert_openai_error(httpx.get(url, headers={"Origin": origin}), 403, code="forbidden")
    assert_openai_error(httpx.get(url, headers={"Sec-Fetch-Site": "cross-site"}), 403, code="forbidden")
    preflight = httpx.options(url, headers={"Origin": "http://attacker.example",
                                            "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    # The server's own pages (same origin) are let in.
    assert httpx.get(url, headers={"Origin": f"http://localhost:{no_auth.port}"}).status_code == 200


def test_no_auth_is_refused_off_loopback(tmp_path):
    from tests.conftest import run_cli

    proc = run_cli("serve", "--host", "0.0.0.0", "--allow-remote", "--no-auth", "--port", "0",
                   home=tmp_path / "h", timeout=120)
    assert proc.returncode == 2 and "--no-auth is allowed on loopback only" in proc.stderr_text


# --- 001: the openai SDK, api_key="EMPTY", the first listed model ------------------------------
def test_001_openai_sdk_with_api_key_empty(vllm_like, image_host, model_name):
    from openai import OpenAI

    client = OpenAI(api_key="EMPTY", base_url=f"http://localhost:{vllm_like.port}/v1", max_retries=0)
    models = client.models.list()
    model = models.data[0].id
    assert model == model_name  # the checkpoint's folder name
    image_base64 = base64.b64encode(jpeg_bytes(photo_like(320, 240, seed=5))).decode("utf-8")
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "What's in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{image_base64}"}}]}]
    chat_completion_from_url = client.chat.completions.create(messages=messages, model=model, temperature=0.1,
                                                              max_tokens=1024, stream=False)
    result = chat_completion_from_url.choices[0].message.content
    assert isinstance(result, str) and result
    assert chat_completion_from_url.usage.completion_tokens <= 16  # the operator's cap

    # The multi-image script, as written: bare content parts in place of messages, http URLs.
    messages = [{"type": "text", "text": "这些图像中的动物是什么?"}]
    for image_path in (image_host + "/duck.jpg", image_host + "/lion.jpg"):
        messages.append({"type": "image_url", "image_url": {"url": image_path}})
    output = client.chat.completions.create(messages=messages, model=model, temperature=0, max_tokens=1024)
    assert output.choices[0].message.content
    assert output.usage.prompt_tokens > chat_completion_from_url.usage.prompt_tokens  # both images are in

    wrong = httpx.get(f"{vllm_like.base}/models", headers={"Authorization": "Bearer not-empty"})
    assert_openai_error(wrong, 401, code="invalid_api_key")
    assert_openai_error(httpx.get(f"{vllm_like.base}/models"), 401)


def test_vllm_flags_take_effect(vllm_like, image_host):
    auth = {"Authorization": "Bearer EMPTY"}
    three = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_host + p}}
                                          for p in ("/duck.jpg", "/lion.jpg", "/duck.jpg")]}]
    model = httpx.get(f"{vllm_like.base}/models", headers=auth).json()["data"][0]["id"]
    r = httpx.post(f"{vllm_like.base}/chat/completions", headers=auth, json={"model": model, "messages": three},
                   timeout=120)
    assert "--limit-mm-per-prompt" in assert_openai_error(r, 400, param="messages")["message"]
    question = [{"role": "user", "content": "How long may an answer be?"}]
    r = httpx.post(f"{vllm_like.base}/chat/completions", headers=auth, timeout=120,
                   json={"model": model, "messages": question, "max_tokens": 10})
    assert r.status_code == 200
    prompt_tokens = r.json()["usage"]["prompt_tokens"]
    counted = httpx.post(f"{vllm_like.url}/tokenize", headers=auth, json={"model": model, "messages": question})
    assert counted.json()["count"] == prompt_tokens and counted.json()["max_model_len"] == 4000
    r = httpx.post(f"{vllm_like.base}/chat/completions", headers=auth, timeout=120,
                   json={"model": model, "messages": [{"role": "user", "content": "word " * 4100}],
                         "max_tokens": 10})
    assert "maximum context length is 4000" in assert_openai_error(r, 400, code="context_length_exceeded")["message"]
    # --api-index-uploads false: the seed routes describe and keep nothing.
    before = httpx.get(f"{vllm_like.base}/search", params={"q": ""}, headers=auth).json()["total"]
    r = httpx.post(f"{vllm_like.url}/describe-image/", headers=auth,
                   files={"file": ("x.png", png_bytes(text_image(["not kept"], font_size=28)), "image/png")},
                   timeout=120)
    assert r.status_code == 200 and r.json()["image_id"] is None and r.json()["description"]
    assert "kept" in r.json()["ocr_text"]
    assert httpx.get(f"{vllm_like.base}/search", params={"q": ""}, headers=auth).json()["total"] == before

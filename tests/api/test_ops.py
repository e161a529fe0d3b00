"""vLLM's operational routes on a real ``vlagent serve``: /health and /version (open), /metrics
in Prometheus' text format, /tokenize and /detokenize, and the API's description — all but the
first two behind the token."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import assert_openai_error, data_url, user
from vlagent.samples import text_image


def test_health_and_version_need_no_token(server):
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    from vlagent import __version__

    assert httpx.get(server.url + "/version").json() == {"version": __version__}


def test_the_rest_needs_the_token(server):
    for method, path in [("GET", "/metrics"), ("POST", "/tokenize"), ("POST", "/detokenize"), ("GET", "/docs"),
                         ("GET", "/openapi.json"), ("POST", "/v1/memory/ask"), ("POST", "/describe-image/"),
                         ("POST", "/v1/vision/completion")]:
        r = httpx.request(method, server.url + path, json={} if method == "POST" else None)
        assert_openai_error(r, 401, code="invalid_api_key")


def test_metrics_count_requests_tokens_and_the_model(server, model_name):
    body = {"model": model_name, "messages": [user("Hi", data_url(text_image(["metrics"])))], "max_tokens": 3}
    assert httpx.post(f"{server.base}/chat/completions", json=body, headers=server.auth(), timeout=60).status_code == 200
    r = httpx.get(server.url + "/metrics", headers=server.auth())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}

    def value(family: str, sample: str, **labels) -> float:
        return sum(s.value for s in families[family].samples
                   if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))

    assert value("vlagent_http_requests", "vlagent_http_requests_total", route="/v1/chat/completions",
                 status="200") >= 1
    assert value("vlagent_http_request_duration_seconds", "vlagent_http_request_duration_seconds_count",
                 route="/v1/chat/completions") >= 1
    assert value("vlagent_generation_tokens", "vlagent_generation_tokens_total") >= 1
    assert value("vlagent_prompt_tokens", "vlagent_prompt_tokens_total") > 10
    assert value("vlagent_time_to_first_token_seconds", "vlagent_time_to_first_token_seconds_count") >= 1
    assert value("vlagent_e2e_request_latency_seconds", "vlagent_e2e_request_latency_seconds_count") >= 1
    assert value("vlagent_batch_size", "vlagent_batch_size_count") >= 1
    assert value("vlagent_request_queue_time_seconds", "vlagent_request_queue_time_seconds_count") >= 1
    assert value("vlagent_model_loaded", "vlagent_model_loaded") == 1
    assert value("vlagent_model_loading", "vlagent_model_loading") == 0
    assert value("vlagent_model_load_seconds", "vlagent_model_load_seconds") > 0
    for gauge in ("vlagent_num_requests_running", "vlagent_num_requests_waiting", "vlagent_worker_queued_jobs"):
        assert gauge in families


def test_tokenize_and_detokenize(server, model_name):
    r = httpx.post(server.url + "/tokenize", json={"model": model_name, "prompt": "Invoice total 42.50",
                                                   "return_token_strs": True}, headers=server.auth())
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["count"] == len(out["tokens"]) > 0 and len(out["token_strs"]) == out["count"]
    back = httpx.post(server.url + "/detokenize", json={"tokens": out["tokens"]}, headers=server.auth())
    assert back.json() == {"prompt": "Invoice total 42.50"}
    # A chat counts as the model sees it: the template, and the image as its visual tokens.
    messages = [user("What does it say?", data_url(text_image(["Gate 23"], font_size=28)))]
    counted = httpx.post(server.url + "/tokenize", json={"messages": messages}, headers=server.auth()).json()
    used = httpx.post(f"{server.base}/chat/completions", headers=server.auth(), timeout=60,
                      json={"model": model_name, "messages": messages, "max_tokens": 1}).json()["usage"]
    assert counted["count"] == used["prompt_tokens"]
    for bad in ({"prompt": "x", "messages": messages}, {"tokens": [1]}, {}):
        assert httpx.post(server.url + "/tokenize", json=bad, headers=server.auth()).status_code == 400
    r = httpx.post(server.url + "/detokenize", json={"tokens": [10**9]}, headers=server.auth())
    assert_openai_error(r, 400, param="tokens")


def test_the_api_describes_itself(server):
    schema = httpx.get(server.url + "/openapi.json", headers=server.auth()).json()
    assert schema == httpx.get(server.base + "/openapi.json", headers=server.auth()).json()
    for path in ("/v1/chat/completions", "/v1/describe", "/describe-image/", "/v1/vision/completion",
                 "/v1/memory/ask", "/tokenize"):
        assert path in schema["paths"], path
    page = httpx.get(server.url + "/docs", headers=server.auth())
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/v1/describe" in page.text and "<script" not in page.text and "http" not in page.text.split("<h1>")[0]

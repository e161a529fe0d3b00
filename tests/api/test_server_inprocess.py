"""The server object the desktop app uses (start/stop on a background thread beside a
running agent): concurrent requests are generated together on the one worker, the line is
bounded (429), a client that hangs up stops its generation, and the server restarts cleanly."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import assert_openai_error, data_url, png_bytes, user
from tests.watch.util import wait_for
from vlagent.samples import text_image

SETTINGS = {"general.language": "en", "vlm.dtype": "float32", "vlm.cpu_quantize": False, "vlm.max_new_tokens": 8,
            "vlm.max_pixels": 64 * 28 * 28, "vlm.idle_unload_s": 0.0, "ocr.enabled": False}


class Observed:
    """The real engine, with a note of where and when each chat ran; a describe batch can be
    held until it is pre-empted (so a request is sure to land in the middle of it)."""

    def __init__(self, engine):
        self.engine = engine
        self.calls: list[dict] = []
        self.events: list[tuple] = []  # what the worker thread did, in order (see the listeners)
        self.hold_next_describe = threading.Event()
        self.describing = threading.Event()  # a held describe batch is running
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def chat(self, messages, options=None, on_token=None, cancel=None):
        t0 = time.monotonic()
        g = self.engine.chat(messages, options, on_token=on_token, cancel=cancel)
        with self._lock:
            self.calls.append({"thread": threading.current_thread().name, "start": t0, "end": time.monotonic(),
                               "finish": g.finish_reason, "new_tokens": g.timings.get("new_tokens")})
            self.events.append(("chat", g.finish_reason))
        return g

    def chat_many(self, requests):
        t0 = time.monotonic()
        gens = self.engine.chat_many(requests)
        t1 = time.monotonic()
        with self._lock:
            for g in gens:
                self.calls.append({"thread": threading.current_thread().name, "start": t0, "end": t1,
                                   "finish": getattr(g, "finish_reason", None), "batch": len(requests),
                                   "new_tokens": g.timings.get("new_tokens") if hasattr(g, "timings") else None})
                self.events.append(("chat", getattr(g, "finish_reason", None)))
        return gens

    def describe(self, images, prompt, options=None, cancel=None):
        if self.hold_next_describe.is_set():
            self.hold_next_describe.clear()
            self.describing.set()
            wait_for(lambda: cancel is not None and cancel.cancelled, timeout=60, what="the batch to be pre-empted")
        return self.engine.describe(images, prompt, options, cancel=cancel)


@pytest.fixture
def running(home, settings, tiny_model_dir):
    from vlagent.api.server import ApiServer
    from vlagent.vlm.transformers_backend import TransformersEngine
    from vlagent.worker import Agent

    for key, value in {**SETTINGS, "vlm.model": str(tiny_model_dir)}.items():
        settings.override(key, value)
    engine = Observed(TransformersEngine(settings, home))
    agent = Agent(home, settings, folders=[], worker_kwargs={"engine": engine}).start()
    server = ApiServer(agent, port=0).start()
    yield agent, server, engine
    assert server.stop()
    assert agent.stop()
    engine.engine.unload()


def chat(server, body, timeout=120):
    return httpx.post(f"{server.url}/v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {server.token}"}, timeout=timeout)


def _has_text(event: str) -> bool:
    if not event.startswith("data: {"):
        return False
    choices = json.loads(event[6:])["choices"]
    return bool(choices and choices[0]["delta"].get("content"))


def test_concurrent_requests_are_batched_on_the_worker(running):
    agent, server, engine = running
    url = data_url(text_image(["turns"], font_size=24))
    model = server.service.model_id()
    bodies = [{"model": model, "messages": [user(f"Question {i}?", url)], "max_tokens": 4} for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda b: chat(server, b), bodies))
    assert [r.status_code for r in replies] == [200] * 6
    assert len(engine.calls) == 6
    assert {c["thread"] for c in engine.calls} == {"vlagent-worker"}  # one model, on the worker's thread
    spans = sorted({(c["start"], c["end"]) for c in engine.calls})
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:])), "batches overlapped"
    assert len(spans) < 6 and max(c.get("batch", 1) for c in engine.calls) > 1, "nothing was batched"


def test_a_request_goes_ahead_of_the_backlog_which_loses_nothing(running, home, settings, tmp_path):
    from tests.watch.util import Db, write_png
    from vlagent.index.queue import PRIO_BACKLOG
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor

    agent, server, engine = running
    reports = []
    agent.worker.add_listener(on_job=reports.append)
    agent.worker.add_listener(on_job=lambda r: engine.events.append(("job", r.job.kind, r.state, r.error)))
    engine.hold_next_describe.set()  # the first describe batch runs until something pre-empts it
    index = Index.open(home)
    try:
        ingestor = Ingestor(index, settings, home)
        ids = [ingestor.ingest_path(str(write_png(tmp_path / "backlog" / f"{i}.png", 500 + i, size=(96, 64))),
                                    priority=PRIO_BACKLOG, steps=["describe"]).image_id for i in range(5)]
    finally:
        index.close()
    agent.worker.wake()
    assert engine.describing.wait(60), "no describe batch started"
    reply = chat(server, {"model": "vlagent", "messages": [user("Quick?", data_url(text_image(["q"])))],
                          "max_tokens": 2})
    assert reply.status_code == 200
    # The batch it interrupted went back to the queue untouched, the request was answered before
    # any of the backlog was done, and then the whole backlog gets done.
    chat_at = next(i for i, e in enumerate(engine.events) if e[0] == "chat")
    assert engine.events[chat_at][1] != "cancelled"
    before = engine.events[:chat_at]
    assert before and all(e[1:] == ("describe", "pending", "cancelled") for e in before), before
    wait_for(lambda: Db(home.db_path).one("SELECT count(*) FROM jobs WHERE state = 'done'") == len(ids), timeout=120,
             what="the backlog to finish")
    assert Db(home.db_path).one("SELECT count(*) FROM results WHERE kind = 'description'") == len(ids)
    assert all(r.state != "failed" for r in reports)


def test_the_line_is_bounded_and_a_client_that_hangs_up_is_not_answered(running, settings):
    agent, server, engine = running
    settings.override("api.max_pending", 1)
    url = data_url(text_image(["line"], font_size=24))
    gate = threading.Event()
    agent.worker.run_model(lambda _: gate.wait(60))  # the worker is busy until the gate opens
    body = {"model": "vlagent", "messages": [user("First?", url)], "max_tokens": 4, "stream": True}
    with httpx.Client(timeout=120) as client, client.stream("POST", f"{server.url}/v1/chat/completions", json=body,
                       headers={"Authorization": f"Bearer {server.token}"}) as waiting:
        assert waiting.status_code == 200  # admitted: it holds the only place in line
        busy = chat(server, {"model": "vlagent", "messages": [user("And me?", url)], "max_tokens": 2})
        assert_openai_error(busy, 429, code="too_many_pending")
        assert busy.headers["retry-after"] == "1"
        # Hung up while waiting: its place is freed and its turn on the worker generates nothing.
    wait_for(lambda: server.service._pending == 0, what="the place in line to be released")
    gate.set()
    scheduler = server.service.scheduler
    wait_for(lambda: scheduler.waiting == 0 and not scheduler._booked, what="the abandoned request's turn")
    assert engine.calls == [], "a request whose client hung up was generated"
    after = chat(server, {"model": "vlagent", "messages": [user("Now?", url)], "max_tokens": 2})
    assert after.status_code == 200 and after.json()["choices"][0]["message"]["content"]


def test_server_side_refusals_are_5xx_server_errors(running, settings):
    agent, server, engine = running
    auth = {"Authorization": f"Bearer {server.token}"}
    settings.override("privacy.paused", True)
    paused = httpx.post(f"{server.url}/v1/describe", headers=auth, timeout=60,
                        files={"file": ("a.png", png_bytes(text_image(["paused"])), "image/png")})
    assert_openai_error(paused, 503, code="paused")
    settings.override("privacy.paused", False)
    assert agent.worker.stop(60)  # the worker is gone; the API is still up
    stopped = chat(server, {"model": "vlagent", "messages": [user("Anyone?")], "max_tokens": 2})
    assert_openai_error(stopped, 503, code="worker_stopped")


def test_stop_and_start_again(running):
    agent, server, engine = running
    first_url = server.url
    assert server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(first_url + "/health")
    assert agent.worker.running, "stopping the API leaves the agent running"
    server.start()
    assert server.token and httpx.get(server.url + "/health").status_code == 200
    reply = chat(server, {"model": "vlagent", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    assert reply.status_code == 200


def test_allow_remote_binds_all_addresses_and_still_needs_the_token(running):
    from vlagent.api.server import ApiConfigError, ApiServer

    agent, server, engine = running
    with pytest.raises(ApiConfigError, match="allow-remote"):
        ApiServer(agent, host="0.0.0.0", port=0)
    public = ApiServer(agent, host="0.0.0.0", port=0, allow_remote=True).start()
    try:
        assert public.url.startswith("http://0.0.0.0:") and public.token == server.token
        local = f"http://127.0.0.1:{public.port}/v1/models"
        assert httpx.get(local).status_code == 401
        assert httpx.get(local, headers={"Authorization": f"Bearer {public.token}"}).status_code == 200
    finally:
        assert public.stop()


def test_health_is_503_while_the_model_loads(running):
    agent, server, engine = running
    gate = threading.Event()
    agent.worker.run_model(lambda _: gate.wait(60))  # the worker is busy: the load waits its turn
    loading = threading.Thread(target=server.load_model, daemon=True)
    loading.start()
    wait_for(lambda: server.service.model_state == "loading" or None, what="the load to begin")
    r = httpx.get(server.url + "/health")
    assert r.status_code == 503 and r.json() == {"status": "loading"}
    gate.set()
    loading.join(120)
    assert server.service.model_state == "ready" and server.service.load_seconds > 0
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}

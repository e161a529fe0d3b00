"""The server object the desktop app uses (start/stop on a background thread beside a
running agent): concurrent requests take turns on the one worker, the line is bounded
(429), a client that hangs up stops its generation, and the server restarts cleanly."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import data_url, user
from tests.watch.util import wait_for
from vlagent.samples import text_image

SETTINGS = {"general.language": "en", "vlm.dtype": "float32", "vlm.cpu_quantize": False, "vlm.max_new_tokens": 8,
            "vlm.max_pixels": 64 * 28 * 28, "vlm.idle_unload_s": 0.0, "ocr.enabled": False}


class Observed:
    """The real engine, with a note of where and when each chat ran."""

    def __init__(self, engine):
        self.engine = engine
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def chat(self, messages, options=None, on_token=None, cancel=None):
        t0 = time.monotonic()
        g = self.engine.chat(messages, options, on_token=on_token, cancel=cancel)
        with self._lock:
            self.calls.append({"thread": threading.current_thread().name, "start": t0, "end": time.monotonic(),
                               "finish": g.finish_reason, "new_tokens": g.timings.get("new_tokens")})
        return g


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


def test_concurrent_requests_take_turns_on_the_worker(running):
    agent, server, engine = running
    url = data_url(text_image(["turns"], font_size=24))
    model = server.service.model_id()
    bodies = [{"model": model, "messages": [user(f"Question {i}?", url)], "max_tokens": 4} for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda b: chat(server, b), bodies))
    assert [r.status_code for r in replies] == [200] * 6
    assert len(engine.calls) == 6
    assert {c["thread"] for c in engine.calls} == {"vlagent-worker"}  # one model, on the worker's thread
    spans = sorted((c["start"], c["end"]) for c in engine.calls)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:])), "generations overlapped"


def test_a_request_goes_ahead_of_the_backlog_which_loses_nothing(running, home, settings, tmp_path):
    from tests.watch.util import Db, write_png
    from vlagent.index.queue import PRIO_BACKLOG
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor

    agent, server, engine = running
    settings.override("vlm.max_new_tokens", 32)  # a describe batch takes a while
    reports = []
    agent.worker.add_listener(on_job=reports.append)
    index = Index.open(home)
    try:
        ingestor = Ingestor(index, settings, home)
        ids = [ingestor.ingest_path(str(write_png(tmp_path / "backlog" / f"{i}.png", 500 + i, size=(96, 64))),
                                    priority=PRIO_BACKLOG, steps=["describe"]).image_id for i in range(5)]
    finally:
        index.close()
    agent.worker.wake()
    wait_for(lambda: (agent.worker.status.current or {}).get("kind") == "describe", what="a describe batch")
    reply = chat(server, {"model": "vlagent", "messages": [user("Quick?", data_url(text_image(["q"])))],
                          "max_tokens": 2})
    assert reply.status_code == 200
    assert Db(home.db_path).one("SELECT count(*) FROM jobs WHERE kind = 'describe' AND state = 'done'") < len(ids)
    # The batch it interrupted went back to the queue untouched, and the whole backlog gets done.
    assert any(r.state == "pending" and r.error == "cancelled" for r in reports)
    wait_for(lambda: Db(home.db_path).one("SELECT count(*) FROM jobs WHERE state = 'done'") == len(ids), timeout=120,
             what="the backlog to finish")
    assert Db(home.db_path).one("SELECT count(*) FROM results WHERE kind = 'description'") == len(ids)


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
        assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["code"] == "too_many_pending"
        # Hung up while waiting: its place is freed and its turn on the worker generates nothing.
    wait_for(lambda: server.service._pending == 0, what="the place in line to be released")
    gate.set()
    call = wait_for(lambda: engine.calls[-1] if engine.calls else None, what="the abandoned request's turn")
    assert call["finish"] == "cancelled" and not call["new_tokens"]
    after = chat(server, {"model": "vlagent", "messages": [user("Now?", url)], "max_tokens": 2})
    assert after.status_code == 200 and after.json()["choices"][0]["message"]["content"]


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

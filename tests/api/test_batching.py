"""Dynamic batching on a real ``vlagent serve``: eight clients streaming at once are generated
together (batches of ``vlm.batch_size``), each gets its own whole answer — the one it gets
alone — and a client that hangs up mid-stream stops only its own generation."""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest

from tests.api.conftest import data_url, user
from vlagent.samples import photo_like, text_image

CLIENTS = 8
TOKENS = 16


@pytest.fixture(scope="module")
def requests_(model_name):
    images = [data_url(text_image([f"Ticket {i}", f"Seat {i}A"], font_size=26)) if i % 2 else
              data_url(photo_like(200, 150, seed=i)) for i in range(CLIENTS)]
    return [{"model": model_name, "messages": [user(f"Question {i}: what is this?", images[i])],
             "max_tokens": TOKENS, "temperature": 0, "stream": True} for i in range(CLIENTS)]


def stream(server, body, hang_up_after: int | None = None) -> dict:
    """Read one streamed answer: its text, finish reason and the number of content chunks."""
    out = {"text": "", "finish": None, "chunks": 0, "done": False}
    with httpx.stream("POST", f"{server.base}/chat/completions", json=body, headers=server.auth(),
                      timeout=120) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line == "data: [DONE]":
                out["done"] = True
                continue
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            choice = event["choices"][0]
            if choice["delta"].get("content"):
                out["text"] += choice["delta"]["content"]
                out["chunks"] += 1
                if hang_up_after is not None and out["chunks"] >= hang_up_after:
                    return out  # leaving the block closes the connection mid-answer
            out["finish"] = choice["finish_reason"] or out["finish"]
    return out


def metric(server, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics", headers=server.auth()).text
    return sum(float(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def run_together(server, bodies, hang_up: dict[int, int]) -> list[dict]:
    results: list = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def client(i):
        start.wait()
        results[i] = stream(server, bodies[i], hang_up.get(i))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return results


def test_eight_streams_are_batched_and_each_gets_its_own_answer(server, requests_):
    alone = [stream(server, body) for body in requests_]
    assert all(a["done"] and a["finish"] == "length" and a["text"] for a in alone)
    batches_before = metric(server, "vlagent_batch_size_count")
    rows_before = metric(server, "vlagent_batch_size_sum")
    together = run_together(server, requests_, {})
    assert [t["text"] for t in together] == [a["text"] for a in alone]  # greedy: the same answer, batched or not
    assert all(t["done"] and t["finish"] == "length" for t in together)
    batches = metric(server, "vlagent_batch_size_count") - batches_before
    rows = metric(server, "vlagent_batch_size_sum") - rows_before
    assert rows == CLIENTS and batches < CLIENTS, f"{CLIENTS} requests ran in {batches:.0f} batches"


def test_a_client_that_hangs_up_leaves_the_others_complete(server, requests_):
    bodies = [dict(b) for b in requests_]
    bodies[3] = dict(bodies[3], max_tokens=400)  # long enough to be cut off mid-answer
    alone = {i: stream(server, bodies[i]) for i in (0, 5)}
    cancelled_before = metric(server, 'vlagent_request_success_total{finished_reason="cancelled"}')
    together = run_together(server, bodies, {3: 1})
    assert together[3]["chunks"] == 1 and not together[3]["done"]
    others = [t for i, t in enumerate(together) if i != 3]
    assert all(t["done"] and t["finish"] == "length" and t["text"] for t in others)
    assert together[0]["text"] == alone[0]["text"] and together[5]["text"] == alone[5]["text"]

    def stopped() -> float:
        return metric(server, 'vlagent_request_success_total{finished_reason="cancelled"}') - cancelled_before

    from tests.watch.util import wait_for

    wait_for(lambda: stopped() >= 1 or None, timeout=60, what="the hung-up generation to stop")


# --- the scheduler alone, with a stand-in worker and engines -------------------------------------
class _Worker:
    """run_model as the inference worker does it: one function at a time, on a thread of its own."""

    def __init__(self):
        import queue

        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.engine = None
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            fn, fut = self.inbox.get()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(self.engine))
            except Exception as e:
                fut.set_exception(e)

    def run_model(self, fn, label=""):
        from concurrent.futures import Future

        fut = Future()
        self.inbox.put((fn, fut))
        return fut


class _Engine:
    name, model_id = "fake", "fake"

    def __init__(self, many: bool):
        self.calls: list[int] = []
        self.gate = threading.Event()
        if many:
            self.chat_many = self._chat_many

    def chat(self, messages, options=None, on_token=None, cancel=None):
        self.gate.wait(30)
        self.calls.append(1)
        return self._gen(messages)

    def _chat_many(self, requests):
        self.gate.wait(30)
        self.calls.append(len(requests))
        return [self._gen(r.messages) for r in requests]

    @staticmethod
    def _gen(messages):
        from vlagent.vlm.base import Generation

        return Generation(text="answer to " + messages[-1].text, engine="fake", model="fake")


@pytest.mark.parametrize("many", [True, False], ids=["chat_many", "one-by-one"])
def test_the_scheduler_batches_what_waits_and_skips_the_cancelled(many):
    from vlagent.api.batching import ChatScheduler
    from vlagent.vlm.base import CancelToken, ChatMessage, GenerationOptions

    worker, engine = _Worker(), _Engine(many)
    worker.engine = engine
    scheduler = ChatScheduler(worker, lambda: 4)
    first = scheduler.submit([ChatMessage("user", "q0")], GenerationOptions(), None, CancelToken())
    from tests.watch.util import wait_for

    wait_for(lambda: scheduler.running == 1 or None, what="the first turn")  # holds the worker (gate shut)
    cancels = [CancelToken() for _ in range(6)]
    futures = [scheduler.submit([ChatMessage("user", f"q{i + 1}")], GenerationOptions(), None, cancels[i])
               for i in range(6)]
    cancels[2].cancel()  # its client left before its turn
    engine.gate.set()
    assert first.result(30).text == "answer to q0"
    results = [f.result(30) for f in futures]
    assert [r.text for i, r in enumerate(results) if i != 2] == [f"answer to q{i + 1}" for i in range(6) if i != 2]
    assert results[2].finish_reason == "cancelled" and not results[2].text
    if many:
        assert engine.calls == [1, 4, 1]  # the five that waited: one batch of four (the limit), then the last
    else:
        assert engine.calls == [1] * 6  # no chat_many: one after another, the cancelled one skipped
    scheduler.close()
    late = scheduler.submit([ChatMessage("user", "late")], GenerationOptions(), None, CancelToken())
    with pytest.raises(Exception, match="stop"):
        late.result(5)

"""The worker with the real model code on a tiny random Qwen2.5-VL checkpoint: streamed,
stored and cancelled questions; describe batches behind questions; idle unload."""

from __future__ import annotations

from concurrent.futures import CancelledError

import pytest

from tests.watch.util import wait_for, write_png
from vlagent.index.queue import PRIO_BACKLOG, PRIO_INTERACTIVE
from vlagent.worker import InferenceWorker

MODEL_SETTINGS = {
    "vlm.dtype": "float32",
    "vlm.cpu_quantize": False,
    "vlm.max_new_tokens": 12,
    "vlm.max_pixels": 128 * 28 * 28,
    "vlm.idle_unload_s": 0.0,
    "general.language": "en",
    "ocr.enabled": False,  # the model's jobs are under test here
}


@pytest.fixture
def model_settings(settings, tiny_model_dir):
    for key, value in {**MODEL_SETTINGS, "vlm.model": str(tiny_model_dir)}.items():
        settings.override(key, value)
    return settings


@pytest.fixture
def images(tmp_path, home, model_settings):
    """Index ``n`` small images; returns their ids."""
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor

    def _add(n: int, priority: int = PRIO_BACKLOG, start: int = 0) -> list[int]:
        index = Index.open(home)
        try:
            ing = Ingestor(index, model_settings, home)
            return [ing.ingest_path(str(write_png(tmp_path / "m" / f"{i}.png", 300 + i, size=(96, 64))),
                                    priority=priority).image_id for i in range(start, start + n)]
        finally:
            index.close()

    return _add


@pytest.fixture
def worker(home, model_settings):
    w = InferenceWorker(home, model_settings, poll_s=0.2)
    w.reports = []
    w.add_listener(on_job=w.reports.append)
    yield w
    assert w.stop(60)


def test_ask_streams_tokens_and_stores_the_answer(worker, images, db):
    a, b = images(2)
    worker.start()
    pieces = []
    handle = worker.ask([a, b], "What is in these two pictures?",
                        history=[("user", "Hello"), ("assistant", "Hi, ask me about your images.")],
                        on_token=pieces.append)
    answer = handle.result(timeout=120)
    assert pieces and "".join(pieces).strip() == answer.text
    assert answer.image_id == a and answer.job_id == handle.job_id
    row = db.rows("SELECT kind, priority, state FROM jobs WHERE id = ?", (handle.job_id,))
    assert row == [("ask", PRIO_INTERACTIVE, "done")]
    stored = db.rows("SELECT prompt, text, params FROM results WHERE image_id = ? AND kind = 'answer'", (a,))
    assert len(stored) == 1 and stored[0][0] == "What is in these two pictures?" and stored[0][1] == answer.text
    assert f"[{a}, {b}]" in stored[0][2]  # both images went to the model


def test_a_question_asked_during_a_describe_backlog_is_answered_first(worker, images, db, model_settings):
    model_settings.override("vlm.describe", True)
    model_settings.override("vlm.batch_size", 2)
    ids = images(8)
    worker.start()
    wait_for(lambda: db.count("jobs", "kind = 'describe' AND state = 'done'") >= 2, timeout=120,
             what="the describe backlog to start")
    handle = worker.ask([ids[-1]], "Describe the colours.")
    handle.result(timeout=120)
    left = db.count("jobs", "kind = 'describe' AND state != 'done'")
    assert left >= 2, f"only {left} describe jobs were left when the answer came"
    wait_for(lambda: db.count("jobs", "kind = 'describe' AND state = 'done'") == 8, timeout=180,
             what="the backlog to finish")
    assert db.rows("SELECT max(c) FROM (SELECT count(*) c FROM results WHERE kind = 'description'"
                   " GROUP BY image_id)") == [(1,)]
    assert db.count("jobs", "state = 'failed'") == 0
    batches = {r.job.priority for r in worker.reports if r.job.kind == "describe"}
    assert batches == {PRIO_BACKLOG - 10}


def test_cancel_stops_a_streaming_answer(worker, images, db):
    (a,) = images(1)
    worker.start()
    holder = {}

    def on_token(piece):
        holder["handle"].cancel()  # the user closes the chat after the first piece

    holder["handle"] = handle = worker.ask([a], "Tell me a long story about this picture.", on_token=on_token,
                                           options={"max_new_tokens": 200, "min_new_tokens": 200})
    with pytest.raises(CancelledError):
        handle.result(timeout=120)
    assert handle.partial  # something was streamed before the cancel
    assert db.rows("SELECT state, error FROM jobs WHERE id = ?", (handle.job_id,)) == [("failed", "cancelled")]
    assert db.count("results", "kind = 'answer'") == 0


def test_the_model_is_loaded_on_use_and_unloaded_when_idle(worker, images, model_settings):
    (a,) = images(1)
    model_settings.override("vlm.idle_unload_s", 0.5)
    states = []
    worker.add_listener(on_status=lambda st: states.append(st.model_loaded))
    worker.start()
    worker.ask([a], "What colour is it?").result(timeout=120)
    wait_for(lambda: True in states, what="a status with the model loaded")
    wait_for(lambda: not worker.engine.loaded and states[-1] is False, timeout=30,
             what="the idle model to be unloaded and reported")


def test_stopping_during_a_describe_batch_requeues_it(worker, images, db, model_settings):
    model_settings.override("vlm.describe", True)
    model_settings.override("vlm.max_new_tokens", 200)
    images(2)
    worker.start()
    wait_for(lambda: db.count("jobs", "kind = 'describe' AND state = 'running'"), timeout=120,
             what="a describe batch running", interval=0.01)
    assert worker.stop(60)
    assert db.count("jobs", "state = 'running'") == 0
    assert db.count("jobs", "state = 'failed'") == 0
    pending = db.rows("SELECT attempts FROM jobs WHERE kind = 'describe' AND state = 'pending'")
    assert pending, "the batch finished before the stop: nothing was tested"
    assert all(a == 0 for (a,) in pending)  # given back, not a failed attempt

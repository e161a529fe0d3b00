"""Answers that start sooner: the image read while the question is typed (prefill), the
model's cache of a conversation kept for its follow-ups, cancel-on-close, eviction, and
every core for interactive work. Real generation on the tiny checkpoints, greedy, float32."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest
import torch

from vlagent.vlm import Cancelled, CancelToken, ChatMessage, GenerationOptions
from vlagent.vlm.transformers_backend import ALL_THREADS

ARCHS = ["qwen2_5_vl", "qwen2_vl", "qwen3_vl"]
OPTS = GenerationOptions(max_new_tokens=8, max_pixels=96 * 28 * 28, repetition_penalty=1.05)


def cold(engine, messages, opts=OPTS):
    """The answer without any cache (a fresh prompt read from nothing)."""
    mb = engine.settings.view.vlm.prefix_cache_mb
    saved = engine._prefix._entries.copy()
    engine._prefix._entries.clear()
    engine.settings.override("vlm.prefix_cache_mb", 0)
    try:
        g = engine.chat(messages, opts)
    finally:
        engine.settings.override("vlm.prefix_cache_mb", mb)
        engine._prefix._entries.update(saved)
    assert g.timings["cached_tokens"] == 0
    return g


def count_vision_runs(engine) -> list[int]:
    runs = [0]
    engine._loaded.model.model.visual.register_forward_hook(lambda *a: runs.__setitem__(0, runs[0] + 1))
    return runs


@pytest.mark.parametrize("arch", ARCHS)
def test_prefilled_and_follow_up_answers_equal_cold_ones(arch, tiny_model_factory, make_engine, images):
    engine = make_engine(tiny_model_factory(arch))
    engine.load()
    vision = count_vision_runs(engine)
    image, photo = images[0], images[1]
    q1 = [ChatMessage("user", "What is the total?", [image])]
    want1 = cold(engine, q1)

    # The image is read while the question is typed; then only the question is read.
    handle = engine.prefill([ChatMessage("user", "", [image])], OPTS)
    assert handle.tokens > handle.timings["visual_tokens"] > 0 and handle.timings["prefill_ms"] > 0
    runs_before = vision[0]
    got1 = engine.chat(q1, OPTS)
    assert vision[0] == runs_before, "the vision encoder must not run again"
    assert got1.text == want1.text and got1.timings["new_tokens"] == want1.timings["new_tokens"]
    assert got1.timings["cached_tokens"] == handle.tokens
    assert got1.timings["input_tokens"] == want1.timings["input_tokens"]

    # A follow-up in the same conversation reuses the whole first turn (image, question, answer).
    stats = engine.prefix_report()
    turns = [*q1, ChatMessage("assistant", got1.text), ChatMessage("user", "And the date?")]
    want2 = cold(engine, turns)
    got2 = engine.chat(turns, OPTS)
    assert got2.text == want2.text
    assert got2.timings["cached_tokens"] >= got1.timings["input_tokens"]
    assert engine.prefix_report()["hits"] == stats["hits"] + 1

    # A new image later in the conversation: the cached part is reused, the new image is read.
    turns3 = [*turns, ChatMessage("assistant", got2.text), ChatMessage("user", "Compare with this.", [photo])]
    want3 = cold(engine, turns3)
    runs_before = vision[0]
    got3 = engine.chat(turns3, OPTS)
    assert got3.text == want3.text and got3.timings["cached_tokens"] > got2.timings["cached_tokens"]
    assert vision[0] == runs_before + 1  # the new image only

    # The prefill's pin followed the conversation as it grew; closing the image frees it all.
    assert engine.prefix_report()["pinned"] == 1
    assert handle.release() and engine.prefix_report()["dropped"] == 1


def test_eviction_under_a_tiny_budget_and_unload(tiny_model_dir, make_engine, images, monkeypatch):
    engine = make_engine(tiny_model_dir)
    chats = [[ChatMessage("user", "Read it.", [img])] for img in images]
    engine.chat(chats[0], OPTS)
    one = engine.prefix_report()["bytes"]
    assert one > 0 and engine.prefix_report()["entries"] == 1
    monkeypatch.setattr(engine, "_prefix_budget", lambda: int(one * 1.5))  # room for one entry of that size
    pinned = engine.prefill([ChatMessage("user", "", [images[2]])], OPTS)  # pinned: never evicted
    engine.chat(chats[1], OPTS)
    report = engine.prefix_report()
    assert report["evicted"] >= 1 and report["pinned"] == 1
    vision = count_vision_runs(engine)
    g = engine.chat(chats[0], OPTS)  # evicted: the image is read again (only the text before it is shared)
    assert vision[0] == 1 and 0 < g.timings["cached_tokens"] < 20
    assert engine.chat(chats[2], OPTS).timings["cached_tokens"] == pinned.tokens  # pinned: still there
    assert vision[0] == 1
    # Unloading the model drops everything; the handle notices.
    engine.unload()
    assert len(engine._prefix) == 0 and pinned.released and not pinned.release()


def test_a_prefill_cancelled_mid_way_keeps_nothing(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir)
    engine.load()
    cancel = CancelToken()
    layers = engine._loaded.model.model.language_model.layers
    hook = layers[0].register_forward_pre_hook(lambda *a: cancel.cancel())  # close the image mid-prefill
    try:
        with pytest.raises(Cancelled):
            engine.prefill([ChatMessage("user", "", [images[1]])], OPTS, cancel=cancel)
    finally:
        hook.remove()
    report = engine.prefix_report()
    assert report["prefills_cancelled"] == 1 and report["entries"] == 0 and report["bytes"] == 0
    # A chat cancelled while its (long) prompt is read stops too, before the first token.
    cancel = CancelToken()
    hook = layers[0].register_forward_pre_hook(lambda *a: cancel.cancel())
    try:
        g = engine.chat([ChatMessage("user", "Hi", [images[1]])], OPTS, cancel=cancel)
    finally:
        hook.remove()
    assert g.finish_reason == "cancelled" and g.text == ""


def test_interactive_work_gets_every_core(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir, **{"vlm.threads": 1})
    before = torch.get_num_threads()
    engine.load()
    seen: list[int] = []
    engine._loaded.model.model.language_model.layers[0].register_forward_pre_hook(
        lambda *a: seen.append(torch.get_num_threads()))
    try:
        engine.describe([images[0]], "Describe.", OPTS)
        assert set(seen) == {1} and torch.get_num_threads() == 1
        seen.clear()
        engine.chat([ChatMessage("user", "Hi", [images[0]])], OPTS)
        assert set(seen) == {ALL_THREADS}
        assert torch.get_num_threads() == 1  # background threads again afterwards
        seen.clear()
        engine.settings.override("vlm.interactive_threads", 3)
        engine.prefill([ChatMessage("user", "", [images[1]])], OPTS).release()
        assert set(seen) == {3} and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# --- through the worker: prefill while typing, the question waits, close frees ------------

@pytest.fixture
def worker_setup(settings, tiny_model_dir, tmp_path, home):
    from tests.watch.util import write_png
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.worker import InferenceWorker

    for key, value in {"vlm.dtype": "float32", "vlm.cpu_quantize": False, "vlm.max_new_tokens": 8,
                       "vlm.max_pixels": 96 * 28 * 28, "vlm.idle_unload_s": 0.0, "ocr.enabled": False,
                       "vlm.model": str(tiny_model_dir)}.items():
        settings.override(key, value)
    index = Index.open(home)
    try:
        image_id = Ingestor(index, settings, home).ingest_path(
            str(write_png(tmp_path / "p.png", 7, size=(160, 96)))).image_id
    finally:
        index.close()
    worker = InferenceWorker(home, settings, poll_s=0.2)
    worker.engine.load()  # here, so the test can hook the model before the worker uses it
    yield worker, worker.engine.get(), image_id
    assert worker.stop(60)


def test_a_question_arriving_mid_prefill_waits_for_it(worker_setup):
    worker, engine, image_id = worker_setup
    mid, go = threading.Event(), threading.Event()

    def block(*args):
        if not go.is_set():
            mid.set()
            assert go.wait(60)

    hook = engine._loaded.model.model.language_model.layers[1].register_forward_pre_hook(block)
    vision = count_vision_runs(engine)
    worker.start()
    handle = worker.prefill([image_id])
    assert mid.wait(60)  # the prefill is half-way through the model
    ask = worker.ask([image_id], "What colour is it?")  # the question arrives now
    assert not handle.done() and not ask.done()
    go.set()
    timings = handle.result(60)
    answer = ask.result(60)
    hook.remove()
    assert answer.timings["cached_tokens"] == timings["tokens"] == handle.tokens > 0
    assert vision[0] == 1  # read once, by the prefill: nothing thrown away
    report = engine.prefix_report()
    assert report["prefills"] == 1 and report["hits"] == 1 and report["pinned"] == 1

    # The same question without any cache gives the same tokens.
    handle.close()
    assert engine.prefix_report()["dropped"] == 1 and engine.prefix_report()["entries"] == 0
    worker.settings.override("vlm.prefix_cache_mb", 0)
    again = worker.ask([image_id], "What colour is it?").result(60)
    assert again.timings["cached_tokens"] == 0 and again.text == answer.text


def test_closing_the_image_cancels_a_running_prefill_and_frees_a_finished_one(worker_setup):
    worker, engine, image_id = worker_setup
    mid, go = threading.Event(), threading.Event()

    def block(*args):
        if not go.is_set():
            mid.set()
            assert go.wait(60)

    hook = engine._loaded.model.model.language_model.layers[0].register_forward_pre_hook(block)
    worker.start()
    running = worker.prefill([image_id])
    assert mid.wait(60)
    running.close()  # the image is closed while it is being read
    go.set()
    with pytest.raises(CancelledError):
        running.result(60)
    hook.remove()
    report = engine.prefix_report()
    assert report["prefills_cancelled"] == 1 and report["entries"] == 0

    done = worker.prefill([image_id])
    assert done.result(60)["tokens"] > 0 and engine.prefix_report()["entries"] == 1
    done.close()
    report = engine.prefix_report()
    assert report["entries"] == 0 and report["bytes"] == 0 and report["dropped"] == 1

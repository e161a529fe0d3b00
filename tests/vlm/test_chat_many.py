"""chat_many: several conversations as one left-padded batch, each streaming on its own."""

from __future__ import annotations

import pytest

from vlagent.vlm import CancelToken, ChatMessage, GenerationOptions
from vlagent.vlm.base import ChatManyEngine, ChatRequest, VlmError
from vlagent.vlm.factory import LazyEngine

QUESTIONS = ["What is written here?", "Describe the colours.", "图里有什么？", "Is there a dog?"]


def test_four_requests_in_one_batch_equal_four_single_chats(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir, **{"vlm.batch_size": 4})
    assert isinstance(engine, ChatManyEngine)
    opts = GenerationOptions(max_new_tokens=10, max_pixels=64 * 28 * 28)
    convs = [[ChatMessage("user", q, [images[i % len(images)]])] for i, q in enumerate(QUESTIONS)]
    singles = [engine.chat(c, opts) for c in convs]

    pieces: list[list[str]] = [[] for _ in convs]
    calls = []
    real = engine._generate_batch

    def spy(conversations, *args, **kwargs):
        calls.append(len(conversations))
        return real(conversations, *args, **kwargs)

    engine._generate_batch = spy
    many = engine.chat_many([ChatRequest(c, opts, on_token=pieces[i].append) for i, c in enumerate(convs)])
    assert calls == [4]  # one generate() for all four
    assert [g.text for g in many] == [g.text for g in singles]
    assert [g.finish_reason for g in many] == [g.finish_reason for g in singles]
    assert [g.timings["new_tokens"] for g in many] == [g.timings["new_tokens"] for g in singles]
    assert ["".join(p) for p in pieces] == [g.text for g in many]  # each stream got exactly its own text
    assert all(g.timings["batch_size"] == 4 and g.prompt == q for g, q in zip(many, QUESTIONS))


def test_one_cancelled_mid_way_leaves_the_others_complete(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir, **{"vlm.batch_size": 4})
    opts = GenerationOptions(max_new_tokens=12, min_new_tokens=12, max_pixels=64 * 28 * 28)
    short = GenerationOptions(max_new_tokens=4, min_new_tokens=12, max_pixels=64 * 28 * 28)
    convs = [[ChatMessage("user", q, [images[i % len(images)]])] for i, q in enumerate(QUESTIONS)]
    singles = [engine.chat(c, opts) for c in convs]
    cancel = CancelToken()
    streamed: list[list[str]] = [[] for _ in convs]

    def on_token(i):
        def _f(piece):
            streamed[i].append(piece)
            if i == 1 and len(streamed[1]) == 2:
                cancel.cancel()
        return _f

    reqs = [ChatRequest(c, short if i == 3 else opts, on_token=on_token(i), cancel=cancel if i == 1 else None)
            for i, c in enumerate(convs)]
    reqs.append(ChatRequest([ChatMessage("assistant", "no question")], opts))  # an error stays in its slot
    many = engine.chat_many(reqs)
    assert many[1].finish_reason == "cancelled" and 2 <= many[1].timings["new_tokens"] < 12
    assert singles[1].text.startswith(many[1].text) and "".join(streamed[1]) == many[1].text
    for i in (0, 2):
        assert many[i].text == singles[i].text and many[i].finish_reason == "length"
        assert many[i].timings["new_tokens"] == 12 and "".join(streamed[i]) == many[i].text
    assert many[3].timings["new_tokens"] == 4 and many[3].finish_reason == "length"  # its own max_new_tokens
    assert "".join(streamed[3]) == many[3].text
    assert isinstance(many[4], VlmError) and "end with a user message" in str(many[4])

    # A request cancelled before it starts is answered "cancelled" without running.
    assert engine.chat_many([ChatRequest(convs[0], opts, cancel=cancel)])[0].finish_reason == "cancelled"


def test_sampling_options_that_differ_go_in_separate_batches(tiny_model_dir, make_engine, images, home):
    engine = make_engine(tiny_model_dir, **{"vlm.batch_size": 4})
    calls = []
    real = engine._generate_batch

    def spy(conversations, *args, **kwargs):
        calls.append(len(conversations))
        return real(conversations, *args, **kwargs)

    engine._generate_batch = spy
    greedy = GenerationOptions(max_new_tokens=3, max_pixels=64 * 28 * 28)
    sampled = GenerationOptions(max_new_tokens=3, do_sample=True, temperature=0.5, max_pixels=64 * 28 * 28)
    lazy = LazyEngine(engine.settings, home, engine)
    out = lazy.chat_many([ChatRequest([ChatMessage("user", q, [images[0]])], sampled if i % 2 else greedy)
                          for i, q in enumerate(QUESTIONS)])
    assert sorted(calls) == [2, 2] and all(g.text is not None for g in out)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_openai_engine_sends_parallel_requests(concurrency, settings, monkeypatch):
    from vlagent.vlm.openai_backend import OpenAIEngine

    engine = OpenAIEngine(settings)
    seen = []

    def fake_chat(messages, options=None, on_token=None, cancel=None):
        seen.append(messages[-1].text)
        if on_token:
            on_token(messages[-1].text.upper())
        if messages[-1].text == "boom":
            raise VlmError("server says no")
        from vlagent.vlm.base import Generation
        return Generation(messages[-1].text.upper(), "openai", "m")

    monkeypatch.setattr(engine, "chat", fake_chat)
    settings.override("vlm.openai_concurrency", concurrency)
    got: list[str] = []
    out = engine.chat_many([ChatRequest([ChatMessage("user", t)], GenerationOptions(), on_token=got.append)
                            for t in ("a", "boom", "c")])
    assert [o.text if not isinstance(o, VlmError) else str(o) for o in out] == ["A", "server says no", "C"]
    assert sorted(got) == ["A", "BOOM", "C"]

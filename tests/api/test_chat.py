"""The official openai SDK against a real ``vlagent serve`` running a tiny checkpoint:
models, chat completions (one image, two images, several turns), streaming, stop sequences."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import data_url, user
from vlagent.samples import photo_like, text_image


@pytest.fixture(scope="module")
def urls():
    return [data_url(text_image(["Invoice 2024-0193", "Total due: 42.50 EUR"], font_size=28)),
            data_url(photo_like(320, 240, seed=7), "JPEG")]


def ask(server, model_name, messages, **kw):
    return server.openai().chat.completions.create(model=model_name, messages=messages, **kw)


def index_size(server) -> int:
    r = httpx.get(f"{server.base}/search", params={"q": "", "limit": 200}, headers=server.auth())
    assert r.status_code == 200
    return len(r.json()["data"])


def test_models_lists_the_served_checkpoint(server, model_name):
    models = server.openai().models.list()
    assert [m.id for m in models.data] == [model_name, "vlagent-memory"]  # the model first (clients take data[0])
    assert models.data[0].owned_by == "vlagent"


def test_chat_with_an_image_answers_and_counts_tokens(server, model_name, urls):
    before = index_size(server)
    r = ask(server, model_name, [user("What does this say?", urls[0])], max_tokens=6)
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == model_name
    choice = r.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert 1 <= r.usage.completion_tokens <= 6
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    # The image is in the prompt: the same question without it is far fewer tokens.
    text_only = ask(server, model_name, [user("What does this say?")], max_tokens=6)
    assert r.usage.prompt_tokens > text_only.usage.prompt_tokens + 10
    assert index_size(server) == before, "chat images must not be added to the index"


def test_two_images_and_several_turns(server, model_name, urls):
    one = ask(server, model_name, [user("Compare them.", urls[0])], max_tokens=4)
    two = ask(server, model_name, [user("Compare them.", *urls)], max_tokens=4)
    assert two.usage.prompt_tokens > one.usage.prompt_tokens + 10
    turns = [user("What is this?", urls[0]), {"role": "assistant", "content": one.choices[0].message.content},
             {"role": "user", "content": "And the total?"}]
    follow_up = ask(server, model_name, turns, max_tokens=4)
    assert follow_up.choices[0].message.content
    assert follow_up.usage.prompt_tokens > one.usage.prompt_tokens
    with_system = ask(server, model_name, [{"role": "system", "content": "Answer in one word."}, *turns],
                      max_tokens=4)
    assert with_system.usage.prompt_tokens > follow_up.usage.prompt_tokens


def test_stream_gives_the_same_text_as_the_whole_answer(server, model_name, urls):
    messages = [user("Describe the picture.", urls[1])]
    whole = ask(server, model_name, messages, max_tokens=10)
    chunks = list(ask(server, model_name, messages, max_tokens=10, stream=True,
                      stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content  # greedy decoding: token for token
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_stream_is_server_sent_events_ending_in_done(server, model_name, urls):
    body = {"model": model_name, "messages": [user("Hi", urls[0])], "max_tokens": 3, "stream": True}
    with httpx.stream("POST", f"{server.base}/chat/completions", json=body, headers=server.auth(),
                      timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]" and len(events) >= 4


def test_stop_sequence_cuts_the_answer(server, model_name, urls):
    messages = [user("Describe the picture.", urls[1])]
    full = ask(server, model_name, messages, max_tokens=12).choices[0].message.content
    assert len(full) >= 4
    stop = full[2:4]
    expected = full[:full.find(stop)]
    whole = ask(server, model_name, messages, max_tokens=12, stop=[stop])
    assert whole.choices[0].message.content == expected and whole.choices[0].finish_reason == "stop"
    streamed = ask(server, model_name, messages, max_tokens=12, stop=stop, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == expected


def test_sampling_parameters_are_accepted(server, model_name, urls):
    r = ask(server, model_name, [user("Hi", urls[0])], max_tokens=5, temperature=0.8, top_p=0.9,
            presence_penalty=0.0, user="test")
    assert r.choices[0].message.content and r.usage.completion_tokens <= 5
    assert ask(server, model_name, [user("Hi", urls[0])], max_completion_tokens=2).usage.completion_tokens <= 2

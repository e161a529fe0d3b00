"""Questions over everything indexed, on a real ``vlagent serve`` whose index holds a few
real images (uploaded, OCR'd and described): ``POST /v1/memory/ask`` and the model
``vlagent-memory`` through the openai SDK, whole and streamed."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.api.conftest import png_bytes
from vlagent.samples import photo_like, text_image

QUESTION = "What was the total on the Zanzibar Logistics invoice?"


@pytest.fixture(scope="module")
def indexed(server):
    """Three images in the served index; returns the id of the invoice."""
    ids = {}
    for name, image in {"invoice": text_image(["Zanzibar Logistics invoice", "Total due: 977.40 EUR"], font_size=28),
                        "meeting": text_image(["Standup moved to 10:30", "Room 4B"], font_size=28),
                        "photo": photo_like(320, 240, seed=21)}.items():
        r = httpx.post(f"{server.base}/describe", files={"file": (f"{name}.png", png_bytes(image), "image/png")},
                       headers=server.auth(), timeout=120)
        assert r.status_code == 200, r.text
        ids[name] = r.json()["image_id"]
    return ids


def test_memory_ask_returns_the_sources_with_their_ids(server, indexed):
    r = httpx.post(f"{server.base}/memory/ask", json={"question": QUESTION}, headers=server.auth(), timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "memory.answer" and body["question"] == QUESTION and body["answered"]
    assert body["answer"] and body["model"]
    source_ids = [s["id"] for s in body["sources"]]
    assert source_ids[0] == indexed["invoice"], body["sources"]
    first = body["sources"][0]
    assert first["path"].endswith(".png") and first["time"] and "Zanzibar" in first["snippet"]
    assert body["timings"]["retrieve_ms"] >= 0 and "searched" in body


def test_memory_ask_streams(server, indexed):
    events = []
    with httpx.stream("POST", f"{server.base}/memory/ask", json={"question": QUESTION, "stream": True, "store": False},
                      headers=server.auth(), timeout=120) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    parsed = [json.loads(e) for e in events[:-1]]
    deltas = [e["text"] for e in parsed if e["object"] == "memory.answer.delta"]
    final = parsed[-1]
    assert final["object"] == "memory.answer" and deltas and "".join(deltas).strip() == final["answer"]
    assert final["sources"][0]["id"] == indexed["invoice"]


def test_memory_ask_refuses_unknown_fields(server):
    r = httpx.post(f"{server.base}/memory/ask", json={"question": QUESTION, "temperature": 0.2},
                   headers=server.auth())
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"


def test_any_openai_chat_client_can_ask_the_memory(server, indexed):
    client = server.openai()
    assert "vlagent-memory" in [m.id for m in client.models.list().data]
    r = client.chat.completions.create(model="vlagent-memory", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": QUESTION}])
    assert r.model == "vlagent-memory" and r.choices[0].finish_reason == "stop"
    content = r.choices[0].message.content
    sources = r.model_extra["sources"]
    assert sources[0]["id"] == indexed["invoice"]
    footer = content.rsplit("\n\nSources: ", 1)[1]
    assert f"[#{indexed['invoice']}] " in footer and sources[0]["time"] in footer
    assert r.usage.completion_tokens > 0

    chunks = list(client.chat.completions.create(model="vlagent-memory", stream=True, max_tokens=8,
                                                 messages=[{"role": "user", "content": QUESTION}]))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "\n\nSources: [#" in streamed
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["sources"][0]["id"] == indexed["invoice"]


def test_memory_chat_refuses_what_it_cannot_use(server, indexed):
    client = server.openai()
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="vlagent-memory", messages=[{"role": "user", "content": QUESTION}],
                                       extra_body={"min_tokens": 4})
    assert e.value.body["param"] == "min_tokens"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="vlagent-memory", messages=[{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])

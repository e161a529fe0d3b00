"""Per-request sampling as vLLM takes it, on a real ``vlagent serve``: every field a client may
send changes the generation, or is refused with a 400 naming it (or is one OpenAI itself
ignores). Top level or through the SDK's ``extra_body`` (which lands at the top level)."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.api.conftest import assert_openai_error, data_url, user
from vlagent.samples import photo_like

HOT = 1.5  # a temperature at which the random checkpoint's samples differ from its greedy answer


@pytest.fixture(scope="module")
def messages():
    return [user("Describe the picture.", data_url(photo_like(160, 120, seed=3)))]


@pytest.fixture(scope="module")
def client(server):
    return server.openai()


@pytest.fixture(scope="module")
def greedy(client, model_name, messages):
    return text(client.chat.completions.create(model=model_name, messages=messages, max_tokens=12, temperature=0))


def text(r) -> str:
    return r.choices[0].message.content


def text_of(body: dict) -> str:
    return body["choices"][0]["message"]["content"]


def answer(client, model_name, messages, **kw) -> str:
    return text(client.chat.completions.create(model=model_name, messages=messages, max_tokens=12, **kw))


def test_temperature_samples_and_zero_is_greedy(client, model_name, messages, greedy):
    assert answer(client, model_name, messages, temperature=0) == greedy
    samples = {answer(client, model_name, messages, temperature=HOT) for _ in range(3)}
    assert samples - {greedy}, "sampling at a high temperature gave the greedy answer every time"


def test_top_k_and_top_p_narrow_the_sampling(client, model_name, messages, greedy):
    # One candidate left: sampling gives the greedy answer, whatever the temperature.
    assert answer(client, model_name, messages, temperature=HOT, top_p=1e-6) == greedy
    # Through extra_body (the SDK has no top_k argument), as top-level JSON: the same field.
    assert answer(client, model_name, messages, temperature=HOT, extra_body={"top_k": 1}) == greedy
    r = httpx.post(f"{client.base_url}chat/completions", headers={"Authorization": f"Bearer {client.api_key}"},
                   json={"model": model_name, "messages": messages, "max_tokens": 12, "temperature": HOT, "top_k": 1},
                   timeout=60)
    assert text_of(r.json()) == greedy
    # top_k without a temperature turns sampling on (it means nothing in greedy decoding).
    many = {answer(client, model_name, messages, extra_body={"top_k": 50}) for _ in range(3)}
    assert many - {greedy}


def test_repetition_penalty_changes_the_greedy_answer(client, model_name, messages, greedy):
    assert answer(client, model_name, messages, temperature=0, extra_body={"repetition_penalty": 1.05}) == greedy
    assert answer(client, model_name, messages, temperature=0, extra_body={"repetition_penalty": 3.0}) != greedy


def test_token_limits(client, model_name, messages):
    r = client.chat.completions.create(model=model_name, messages=messages, max_completion_tokens=3)
    assert r.usage.completion_tokens <= 3 and r.choices[0].finish_reason == "length"
    r = client.chat.completions.create(model=model_name, messages=messages, max_tokens=6, extra_body={"min_tokens": 6})
    assert r.usage.completion_tokens == 6


def test_stop_keeps_the_stop_string_when_asked(client, model_name, messages, greedy):
    stop = greedy[3:5]
    cut = answer(client, model_name, messages, temperature=0, stop=[stop])
    assert cut == greedy[:greedy.find(stop)]
    kept = answer(client, model_name, messages, temperature=0, stop=stop,
                  extra_body={"include_stop_str_in_output": True})
    assert kept == greedy[:greedy.find(stop)] + stop


def test_the_pixel_budget_per_request(client, model_name, messages):
    full = client.chat.completions.create(model=model_name, messages=messages, max_tokens=2)
    small = client.chat.completions.create(model=model_name, messages=messages, max_tokens=2,
                                           extra_body={"mm_processor_kwargs": {"max_pixels": 8 * 28 * 28}})
    assert small.usage.prompt_tokens < full.usage.prompt_tokens


def test_a_seed_repeats_a_sampled_answer(client, model_name, messages, greedy):
    # Greedy decoding gives the same answer for every seed.
    assert answer(client, model_name, messages, temperature=0, seed=7) == greedy
    first = answer(client, model_name, messages, temperature=HOT, seed=7)
    assert answer(client, model_name, messages, temperature=HOT, seed=7) == first
    assert {answer(client, model_name, messages, temperature=HOT, seed=s) for s in (8, 9, 10)} - {first}


def test_presence_and_frequency_penalties_and_min_p_change_the_answer(client, model_name, messages, greedy):
    assert answer(client, model_name, messages, temperature=0, presence_penalty=0, frequency_penalty=0) == greedy
    assert answer(client, model_name, messages, temperature=0, frequency_penalty=2.0) != greedy
    assert answer(client, model_name, messages, temperature=0, presence_penalty=2.0) != greedy
    # min_p near 1 leaves only the most likely token: the greedy answer, however hot.
    assert answer(client, model_name, messages, temperature=HOT, seed=3, extra_body={"min_p": 0.999999}) == greedy


@pytest.mark.parametrize("field,value,neutral", [
    ("logprobs", True, False), ("logit_bias", {"5": 10}, {}), ("ignore_eos", True, False),
    ("response_format", {"type": "json_object"}, {"type": "text"}), ("n", 2, 1), ("stop_token_ids", [3], []),
    ("use_beam_search", True, False), ("top_logprobs", 2, 0),
])
def test_fields_that_would_be_ignored_are_refused(server, model_name, messages, field, value, neutral):
    url = f"{server.base}/chat/completions"
    body = {"model": model_name, "messages": messages, "max_tokens": 2}
    r = httpx.post(url, json={**body, field: value}, headers=server.auth(), timeout=60)
    assert_openai_error(r, 400, param=field)
    r = httpx.post(url, json={**body, field: neutral}, headers=server.auth(), timeout=60)
    assert r.status_code == 200, r.text  # the value that changes nothing is accepted


def test_unknown_fields_are_named(server, client, model_name, messages):
    with pytest.raises(openai.BadRequestError) as e:
        answer(client, model_name, messages, extra_body={"temprature": 0.5})
    assert e.value.body["param"] == "temprature" and "temprature" in e.value.body["message"]
    r = httpx.post(f"{server.base}/chat/completions", headers=server.auth(), timeout=60,
                   json={"model": model_name, "messages": messages, "max_tokens": 2,
                         "mm_processor_kwargs": {"fps": 2}})
    assert_openai_error(r, 400, param="mm_processor_kwargs.fps")
    # What OpenAI itself does not use for generating is accepted.
    r = client.chat.completions.create(model=model_name, messages=messages, max_tokens=2, user="u-1",
                                       metadata={"k": "v"}, store=False)
    assert r.choices[0].message.content is not None

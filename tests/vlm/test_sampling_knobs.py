"""seed, min_p and OpenAI's presence / frequency penalties in the transformers engine, on the
tiny checkpoint: a seed repeats a sampled answer (alone or beside other requests), the
penalties change a greedy answer, min_p narrows sampling to the greedy token."""

from __future__ import annotations

import pytest
import torch

from vlagent.samples import photo_like
from vlagent.vlm import ChatMessage, GenerationOptions
from vlagent.vlm.transformers_backend import AnswerPenalties

HOT = 1.5


@pytest.fixture(scope="module")
def engine(tiny_model_dir, tmp_path_factory):
    from tests.vlm.conftest import TEST_DEFAULTS
    from vlagent.settings import Settings
    from vlagent.vlm.transformers_backend import TransformersEngine

    settings = Settings(None)
    for key, value in {**TEST_DEFAULTS, "vlm.model": str(tiny_model_dir), "vlm.max_new_tokens": 12}.items():
        settings.override(key, value)
    e = TransformersEngine(settings, tmp_path_factory.mktemp("home"))
    yield e
    e.unload()


@pytest.fixture(scope="module")
def messages():
    return [ChatMessage("user", "Describe the picture.", [photo_like(160, 120, seed=3)])]


def answer(engine, messages, **opts) -> str:
    return engine.chat(messages, GenerationOptions.from_settings(engine.settings, **opts)).text


def test_a_seed_repeats_a_sampled_answer(engine, messages):
    a = answer(engine, messages, do_sample=True, temperature=HOT, seed=11)
    assert answer(engine, messages, do_sample=True, temperature=HOT, seed=11) == a
    others = {answer(engine, messages, do_sample=True, temperature=HOT, seed=s) for s in (12, 13, 14)}
    assert others - {a}, "different seeds gave the same sample every time"


def test_a_seeded_request_gives_its_answer_beside_other_requests(engine, messages):
    from vlagent.vlm.base import ChatRequest

    opts = GenerationOptions.from_settings(engine.settings, do_sample=True, temperature=HOT, seed=5)
    alone = engine.chat(messages, opts).text
    crowd = [ChatRequest(messages, GenerationOptions.from_settings(engine.settings, do_sample=True,
                                                                   temperature=HOT)) for _ in range(2)]
    seeded = ChatRequest(messages, GenerationOptions.from_settings(engine.settings, do_sample=True,
                                                                   temperature=HOT, seed=5))
    results = engine.chat_many([crowd[0], seeded, crowd[1]])
    assert results[1].text == alone


def test_penalties_change_the_greedy_answer(engine, messages):
    greedy = answer(engine, messages)
    assert answer(engine, messages, presence_penalty=0.0, frequency_penalty=0.0) == greedy
    assert answer(engine, messages, frequency_penalty=2.0) != greedy
    assert answer(engine, messages, presence_penalty=2.0) != greedy


def test_min_p_near_one_keeps_only_the_greedy_token(engine, messages):
    greedy = answer(engine, messages)
    assert answer(engine, messages, do_sample=True, temperature=HOT, min_p=0.999999, seed=1) == greedy


def test_answer_penalties_count_only_the_answer():
    prompt = torch.tensor([[7, 7, 7, 2]])
    ids = torch.cat([prompt, torch.tensor([[3, 3, 5]])], dim=1)
    scores = torch.zeros(1, 10)
    out = AnswerPenalties(prompt_len=4, presence=0.5, frequency=0.25)(ids, scores)
    expected = torch.zeros(1, 10)
    expected[0, 3] = -(0.5 + 2 * 0.25)
    expected[0, 5] = -(0.5 + 0.25)
    assert torch.equal(out, expected)  # token 7, only in the prompt, is not penalised
    assert torch.equal(AnswerPenalties(4, 0.5, 0.25)(prompt, scores), scores)

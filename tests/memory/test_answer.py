"""The answer path end to end on the tiny checkpoint (its words are noise: the tests check the
plumbing): retrieval → prompt with the candidates' text and the best image → answer stored on
the images as a searchable answer with its sources; nothing retrieved → no generation, a
refusal that says what was searched; citations parsed against the retrieved ids only."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.vlm.conftest import TEST_DEFAULTS
from vlagent.memory import ask_memory, parse_citations
from vlagent.memory.answer import build_context, estimate_tokens
from vlagent.memory.retrieve import Candidate

NOW = datetime(2026, 12, 5, 15, 0)


@pytest.fixture
def mem_settings(settings, tiny_model_dir):
    for key, value in {**TEST_DEFAULTS, "vlm.model": str(tiny_model_dir), "general.language": "en",
                       "memory.answer_tokens": 8, "memory.rewrite_tokens": 6}.items():
        settings.override(key, value)
    return settings


@pytest.fixture
def engine(mem_settings, home):
    from vlagent.jobs.build import build_engine

    e = build_engine(mem_settings, home)
    yield e
    e.unload()


@pytest.fixture
def seen(index, home, mem_settings, text_png):
    """Three real indexed screenshots, OCR'd, seen at known times."""
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner

    ing = Ingestor(index, mem_settings, home)
    ids = {}
    for name, lines in {"invoice": ["ACME Corp Invoice #4471", "Total due: $1,284.50"],
                        "error": ["数据库连接失败", "端口 5432"],
                        "chart": ["Quarterly sales chart Q3"]}.items():
        ids[name] = ing.ingest_path(str(text_png(lines, name=f"{name}.png")), steps=["ocr"]).image_id
    build_runner(index, mem_settings, home).run_until_empty(["ocr"])
    return ids


def test_an_answer_cites_retrieved_images_is_stored_and_searchable(index, mem_settings, engine, seen):
    runner_images = {}

    def load_image(image_id):
        runner_images[image_id] = True
        return _load(index, mem_settings, image_id)

    tokens: list[str] = []
    ans = ask_memory("what was the total on the ACME invoice?", index=index, settings=mem_settings, engine=engine,
                     on_token=tokens.append, now=NOW, load_image=load_image)
    assert ans.answered and ans.text and "".join(tokens).strip() == ans.text
    assert ans.sources and ans.sources[0].id == seen["invoice"]
    assert ans.candidates_in_prompt >= 1 and ans.images_in_prompt == 1 and runner_images == {seen["invoice"]: True}
    assert ans.timings["retrieve_ms"] >= 0 and ans.timings["answer_ms"] > 0
    stored = [r for r in index.results(seen["invoice"], "answer")]
    assert len(stored) == 1 and stored[0]["prompt"] == ans.question and stored[0]["text"] == ans.text
    assert stored[0]["params"]["memory"] is True and seen["invoice"] in stored[0]["params"]["sources"]
    assert index.search_page(ans.text.split()[0] if ans.text.split() else "ACME").hits  # answers are searchable


def _load(index, settings, image_id):
    from vlagent.imaging.load import Limits, load_path

    loc = index.locations(image_id, include_gone=False)[0]
    return load_path(loc["path"], Limits.from_settings(settings)).image


def test_nothing_retrieved_means_no_generation_and_says_what_was_searched(index, mem_settings, seen):
    from vlagent.vlm.base import Generation

    class RewriteOnly:
        """May rewrite the question into search words (that find nothing), must never answer."""

        rewrites = 0

        def chat(self, messages, options=None, on_token=None, cancel=None):
            if "Keywords:" not in messages[0].text:
                raise AssertionError("the model must not answer without evidence")
            RewriteOnly.rewrites += 1
            return Generation(text="okapi narwhal 獾", finish_reason="stop", engine="fake", model="fake",
                              prompt=messages[0].text, timings={}, params={})

    ans = ask_memory("zebra quokka xylophone last week", index=index, settings=mem_settings, engine=RewriteOnly(),
                     now=NOW)
    assert RewriteOnly.rewrites == 1 and ans.rewritten == ["okapi", "narwhal", "獾"]
    assert not ans.answered and ans.sources == []
    assert "found nothing" in ans.text and "zebra" in ans.text
    assert index.search_page("zebra").hits == ()
    zh = ask_memory("上周的斑马照片", index=index, settings=mem_settings, engine=RewriteOnly(), now=NOW)
    assert "没有找到" in zh.text


def test_a_chinese_question_about_english_text_asks_the_model_for_search_words(index, mem_settings, engine, seen):
    class KnownWords:
        """The real engine; the rewrite really runs, then its noise (random weights) is replaced by
        known words, so the search they drive can be checked."""

        def __getattr__(self, name):
            return getattr(engine, name)

        def chat(self, messages, options=None, on_token=None, cancel=None):
            g = engine.chat(messages, options, on_token=on_token, cancel=cancel)
            if "Keywords:" in messages[0].text:
                g.text = "ACME invoice"
            return g

    ans = ask_memory("上周看到的发票总额是多少?", index=index, settings=mem_settings, engine=KnownWords(), now=NOW,
                     store=False)
    assert "rewrite_ms" in ans.timings  # one short generation rewrote the question
    assert [w.lower() for w in ans.rewritten] == ["acme", "invoice"]
    assert any(s["note"] == "the model's search words" for s in ans.searched)


def test_citations_only_count_retrieved_ids():
    assert parse_citations("It was $1,284.50 [#12], see also [#99] and [#12] [#7]", {7, 12}) == [12, 7]


def test_the_context_stops_at_the_token_budget_best_first():
    cands = [Candidate(i, 1.0 - i / 10, 1.0, NOW.timestamp(), f"/p/{i}.png", "", "词" * 300, "") for i in range(1, 6)]
    text, used = build_context(cands, budget_tokens=700)
    assert used == 2 and "[#1]" in text and "[#2]" in text and "[#3]" not in text
    assert estimate_tokens(text) <= 700
    one, n = build_context(cands[:1], budget_tokens=10)  # the best one always goes in
    assert n == 1


def test_as_dict_is_json_ready(index, mem_settings, seen):
    ans = ask_memory("ACME invoice", index=index, settings=mem_settings, engine=None, now=NOW)
    d = json.loads(json.dumps(ans.as_dict()))
    assert d["sources"][0]["id"] == seen["invoice"] and d["answered"] is False


def test_stopping_a_question_stops_the_model_and_stores_nothing(home, index, mem_settings, seen):
    """What the desktop Ask-all, the web page and the API do when the asker goes away: cancel
    the worker's future mid-answer. The model stops at its next token; nothing is stored."""
    import threading

    from vlagent.common import Cancelled
    from vlagent.worker import InferenceWorker

    mem_settings.override("memory.answer_tokens", 400)
    worker = InferenceWorker(home, mem_settings, poll_s=0.2)
    worker.start()
    try:
        ready, pieces, holder = threading.Event(), [], {}

        def on_token(piece):
            ready.wait(30)
            pieces.append(piece)
            holder["future"].cancel()

        holder["future"] = future = worker.ask_memory("what was the total on the ACME invoice?", on_token=on_token)
        ready.set()
        with pytest.raises(Cancelled):
            future.result(timeout=120)
        assert pieces and future.token.cancelled
        assert len(pieces) < 5  # stopped at once, not after hundreds of tokens
        assert index.results(seen["invoice"], "answer") == []
        # The worker goes on answering.
        again = worker.ask_memory("ACME invoice total?").result(timeout=120)
        assert again.answered
    finally:
        assert worker.stop(60)

"""Retrieval over a generated corpus of a few thousand seen screenshots with planted facts at
known times (English, Chinese, mixed) and distractors with the same words at other times: the
right image is in the top 5 for each question, found through its time expression."""

from __future__ import annotations

from datetime import datetime

import pytest

from vlagent.memory import Retriever, search_terms
from vlagent.samples import MEMORY_FACTS, memory_corpus

NOW = datetime(2026, 12, 5, 15, 0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from vlagent.home import Home
    from vlagent.index.store import Index

    index = Index.open(Home(tmp_path_factory.mktemp("memory")).ensure())
    answers = memory_corpus(index, 3000, now=NOW.timestamp())
    yield index, answers
    index.close()


@pytest.mark.parametrize("question", [f[3] for f in MEMORY_FACTS])
def test_the_planted_image_is_in_the_top_5(corpus, question):
    index, answers = corpus
    r = Retriever(index, k=8).retrieve(question, now=NOW)
    ids = [c.image_id for c in r.candidates]
    assert answers[question] in ids[:5], (r.terms, [s.as_dict() for s in r.searched])


def test_the_time_range_picks_the_right_one_of_identical_looking_images(corpus):
    index, answers = corpus
    q = "what was the total on the ACME invoice last week?"
    r = Retriever(index).retrieve(q, now=NOW)
    assert r.candidates[0].image_id == answers[q]
    assert "1,284.50" in r.candidates[0].ocr
    without_time = Retriever(index).retrieve("what was the total on the ACME invoice?", now=NOW)
    assert len({c.image_id for c in without_time.candidates}) >= 3  # all the ACME invoices, not just one


def test_nothing_matching_widens_then_reports_every_search(corpus):
    index, _ = corpus
    r = Retriever(index).retrieve("zebra xylophone quokka last week", now=NOW)
    assert r.candidates == []
    notes = [s.note for s in r.searched]
    assert notes[0].startswith("the question's words and time")
    assert notes[1].startswith("a wider time range") and notes[2].startswith("any time")
    assert notes[-1] == "any of the words, any time"
    assert r.searched[0].filters["since"] == "2026-11-23 00:00"  # it says what it searched


def test_recency_breaks_ties_between_equally_good_matches(corpus):
    index, _ = corpus
    r = Retriever(index).retrieve('"Quarterly sales chart"', now=NOW)
    seen = [c.first_seen for c in r.candidates[:2]]
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("question,terms", [
    ("what was the total on the ACME invoice?", ["total", "ACME", "invoice"]),
    ("那个报错截图里的端口号是多少?", ["报错", "端口号"]),
    ('where did I see "memory leak" in a pull request', ['"memory leak"', "pull", "request"]),
    ("Wi-Fi 密码是什么", ["Wi-Fi", "密码"]),
])
def test_question_words_are_dropped_and_chinese_runs_cut(question, terms):
    assert search_terms(question) == terms

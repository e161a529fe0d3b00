"""Text as the index sees it: normalisation, CJK bigrams + tail, and the substring guarantee
checked against a real FTS5 table with the project's tokenizer."""

from __future__ import annotations

import sqlite3

import pytest

from vlagent.index.migrations import FTS_TOKENIZE
from vlagent.index.query import parse
from vlagent.index.segment import has_cjk, index_text, normalize, tokens

SENTENCES = [
    "图片中有一只小狗站在雪地上",
    "数据库连接失败，请检查网络设置。",
    "東京駅のスクリーンショット、カタカナとひらがな",
    "한국어 텍스트 검색",
    "我的iPhone手机壳是红色的",
]


@pytest.mark.parametrize("text, expected", [
    ("ＡＢＣ １２３", "abc 123"),  # fullwidth → ASCII, lower case
    ("Café NAÏVE façade", "cafe naive facade"),  # diacritics go
    ("ｶﾞｷﾞ", "ガギ"),  # halfwidth katakana with its voicing mark → one fullwidth character
    ("が", "が"),  # kana voicing is not a diacritic: が ≠ か
    ("한국어", "한국어"),  # Hangul survives the decompose/recompose
    ("ﬁle ⑤", "file 5"),  # compatibility forms
    ("a\ue000b", "ab"),  # private use is reserved for filter tokens
])
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_index_text_cuts_cjk_runs_into_bigrams_then_lists_their_characters():
    out = index_text("图片中有一只小狗。猫 Hello World")
    body, tail = out.split("\n")
    assert body.split() == ["图片", "片中", "中有", "有一", "一只", "只小", "小狗", "。", "猫", "hello", "world"]
    assert tail.split() == list("图片中有一只小狗")  # once each; a 1-character run is already a token


def test_index_text_without_cjk_is_only_normalised():
    assert index_text("Invoice 2024-0193 total 42.50 EUR") == "invoice 2024-0193 total 42.50 eur"
    assert not has_cjk("Invoice 2024-0193")
    assert has_cjk("カ") and has_cjk("한") and has_cjk("小")


def test_tokens_keep_spans_in_the_original_text():
    text = "ＡＢＣ商事 ｶﾀｶﾅ Café"
    toks = tokens(text)
    assert [t.norm for t in toks] == ["abc", "商", "事", "カ", "タ", "カ", "ナ", "cafe"]
    assert [text[t.start:t.end] for t in toks] == ["ＡＢＣ", "商", "事", "ｶ", "ﾀ", "ｶ", "ﾅ", "Café"]
    assert [t.cjk for t in toks] == [False, True, True, True, True, True, True, False]


@pytest.fixture(scope="module")
def fts(tmp_path_factory):
    conn = sqlite3.connect(tmp_path_factory.mktemp("seg") / "fts.db")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize=\"{FTS_TOKENIZE}\")")
    conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)",
                     [(i, index_text(s)) for i, s in enumerate(SENTENCES)])
    yield conn
    conn.close()


def _found(conn, query: str) -> set[int]:
    return {r[0] for r in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (parse(query).match(),))}


def test_every_cjk_substring_is_found_and_only_where_it_occurs(fts):
    """The index's promise: any 1-, 2-, 3-…-character CJK substring finds exactly the texts holding it."""
    checked = 0
    for s in SENTENCES:
        for run in (r for r in s.replace("，", " ").replace("。", " ").replace("、", " ").split()):
            for size in range(1, 6):
                for i in range(len(run) - size + 1):
                    sub = run[i:i + size]
                    if not all(has_cjk(c) for c in sub):
                        continue
                    assert _found(fts, sub) == {k for k, t in enumerate(SENTENCES) if sub in t}, sub
                    checked += 1
    assert checked > 150


@pytest.mark.parametrize("query", ["狗小", "小狗雪", "地上图", "请网络", "カナと"[::-1], "查检"])
def test_characters_that_are_not_adjacent_do_not_match(fts, query):
    assert _found(fts, query) == set()


def test_a_cjk_phrase_does_not_run_across_punctuation(fts):
    # "失败，请" — 败 and 请 are separated by a comma: no bigram 败请.
    assert _found(fts, "失败") == {1} and _found(fts, "请检查") == {1}
    assert _found(fts, "败请") == set()


@pytest.mark.parametrize("query", ["失败，请检查", "失败, 请检查", "连接失败，请", "失败。请检查"])
def test_a_query_with_punctuation_inside_a_cjk_run_finds_what_the_parts_find(fts, query):
    # The query's punctuation separates as the text's does: 失败 and 请检查 are two units, not
    # one run 失败请检查 whose bigram 败请 exists nowhere.
    assert _found(fts, query) == {1}


def test_query_units_stop_a_cjk_run_at_punctuation():
    assert [u.pieces for u in parse("失败，请检查").units] == [(("失败", True),), (("请检查", True),)]
    assert [u.pieces for u in parse("失败请检查").units] == [(("失败请检查", True),)]

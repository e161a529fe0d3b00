"""Metric functions against values computed by hand (and pycocoevalcap's published formulas)."""

from __future__ import annotations

import math

import pytest

from vlagent.eval.metrics import (
    caption_scores,
    caption_tokens,
    cer,
    cer_unordered,
    char_errors,
    normalize,
    word_recall,
    words,
)


def test_cer_of_known_strings():
    assert cer("kitten", "sitting") == pytest.approx(3 / 6)  # k→s, e→i, +g
    assert cer("abc", "abc") == 0.0
    assert cer("abcd", "") == 1.0 and cer("", "") == 0.0
    e = char_errors("小狗在雪地上", "小猫在雪地")  # 狗→猫, 上 deleted
    assert (e.substitutions, e.deletions, e.insertions, e.reference_chars) == (1, 1, 0, 6)
    assert e.cer == pytest.approx(2 / 6)


def test_cer_ignores_layout_whitespace_and_width_variants():
    # line breaks vs spaces, doubled spaces, spaces OCR puts between Chinese characters,
    # fullwidth digits and letters (NFKC) are not errors
    assert cer("Total 42.50\nThank you", "Total  42.50 Thank you") == 0.0
    assert cer("会议改到下午三点", "会 议 改 到 下午 三点") == 0.0
    assert cer("ＡＢＣ１２３", "ABC123") == 0.0
    assert normalize("发票 Invoice  2024\n") == "发票Invoice 2024"
    assert cer("Hello World", "hello world") == pytest.approx(2 / 11)  # case still counts


def test_word_recall_counts_cjk_characters_as_words():
    assert words("图片中有一只小狗, The DOG's ball cost 42.50元!") == [
        "图", "片", "中", "有", "一", "只", "小", "狗", "the", "dog's", "ball", "cost", "42.50", "元"]
    assert word_recall("a cat, a mat", "A cat") == pytest.approx(2 / 4)  # "a" counted as often as it occurs
    assert word_recall("小狗在雪地上", "在雪地上的小狗") == 1.0  # order doesn't matter for recall
    assert word_recall("小狗在雪地上", "小猫") == pytest.approx(1 / 6)
    assert word_recall("", "anything") == 1.0


def test_bleu_matches_the_formula_by_hand():
    # candidate "a cat on the mat" vs reference "a cat is on the mat":
    # p1 = 5/5, p2 = 3/4 (a cat, on the, the mat), p3 = 1/3 (on the mat), p4 = 0/2; BP = exp(1 - 6/5)
    s = caption_scores(["A cat on the mat."], [["a cat is on the mat"]])
    bp = math.exp(1 - 6 / 5)
    assert s.bleu[0] == pytest.approx(bp, abs=1e-6)
    assert s.bleu[1] == pytest.approx(bp * (3 / 4) ** (1 / 2), abs=1e-6)
    assert s.bleu[2] == pytest.approx(bp * (3 / 4 * 1 / 3) ** (1 / 3), abs=1e-6)
    assert s.bleu4 < 1e-3  # no 4-gram matches: pycocoevalcap's tiny smoothing, not exactly 0
    assert caption_scores(["a dog runs fast"], [["a dog runs fast", "a cat"]]).bleu4 == pytest.approx(1.0, abs=1e-6)


def test_cider_matches_the_formula_by_hand():
    # two images, each candidate equal to its only reference, no n-gram shared between images:
    # idf = log(2) - log(1) for all, cosine 1 for 1- and 2-grams, no 3-/4-grams: 10 * mean(1, 1, 0, 0) = 5
    s = caption_scores(["red car", "blue sky"], [["red car"], ["blue sky"]])
    assert s.cider == pytest.approx(5.0, abs=1e-9)
    assert s.per_item_cider == pytest.approx([5.0, 5.0], abs=1e-9)
    # an n-gram found in every image's references has idf 0: CIDEr is about distinctive words
    shared = caption_scores(["a photo", "a photo"], [["a photo"], ["a photo"]])
    assert shared.cider == pytest.approx(0.0, abs=1e-9)
    # with one image every idf is 0 (documented in --help: use many images)
    assert caption_scores(["red car"], [["red car"]]).cider == 0.0


def test_cjk_captions_are_scored_per_character():
    assert caption_tokens("一只小狗在雪地里玩耍。") == "一 只 小 狗 在 雪 地 里 玩 耍"
    s = caption_scores(["一只小狗在雪地里", "红色的汽车"], [["一只小狗在雪地里玩耍"], ["一辆红色的汽车"]])
    assert 0.5 < s.bleu[0] <= 1.0 and s.cider > 1.0
    wrong = caption_scores(["一辆红色的汽车", "一只小狗在雪地里"], [["一只小狗在雪地里玩耍"], ["一辆红色的汽车"]])
    assert wrong.cider < s.cider and wrong.bleu4 < s.bleu4


def test_caption_scores_reject_mismatched_input():
    with pytest.raises(ValueError):
        caption_scores(["a"], [])
    with pytest.raises(ValueError):
        caption_scores(["a"], [[]])


def test_order_counts_for_cer_but_not_for_the_unordered_variant():
    ref = ["left column", "right column"]
    assert cer("\n".join(ref), "right column\nleft column") > 0.3
    assert cer_unordered(ref, ["right column", "left column"]) == 0.0
    assert cer_unordered(ref, ["right colunn", "left column"]) == pytest.approx(1 / 24)

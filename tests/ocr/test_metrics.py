import random

import pytest

from vlagent.ocr.metrics import cer, cer_unordered, edit_distance


def reference_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]


def test_edit_distance_matches_the_textbook_algorithm():
    rng = random.Random(7)
    alphabet = "ab c图片\n"
    for _ in range(1500):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert edit_distance(a, b) == reference_distance(a, b), (a, b)


def test_edit_distance_handles_long_pages_beyond_one_machine_word():
    rng = random.Random(3)
    a = "".join(rng.choice("abcdefg图片中有") for _ in range(300))
    b = list(a)
    for pos in sorted(rng.sample(range(300), 12), reverse=True):
        b[pos] = "X"  # 12 substitutions
    assert edit_distance(a, "".join(b)) == 12 == reference_distance(a, "".join(b))


@pytest.mark.parametrize("ref,hyp,expected", [
    ("图片中有一只小狗", "图片中有一只小狗", 0.0),
    ("图片中有一只小狗", "图片中有只小狗", 1 / 8),
    ("abc", "", 1.0),
    ("", "", 0.0),
    ("", "x", 1.0),
])
def test_cer(ref, hyp, expected):
    assert cer(ref, hyp) == pytest.approx(expected)


def test_order_counts_for_cer_but_not_for_the_unordered_variant():
    ref = ["left column", "right column"]
    assert cer("\n".join(ref), "right column\nleft column") > 0.3
    assert cer_unordered(ref, ["right column", "left column"]) == 0.0

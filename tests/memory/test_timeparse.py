"""Time expressions in questions, English and Chinese, become local-time ranges."""

from __future__ import annotations

from datetime import datetime

import pytest

from vlagent.memory.timeparse import extract_time, zh_number

NOW = datetime(2026, 12, 5, 10, 0)  # a Saturday


@pytest.mark.parametrize("question,label,rest", [
    ("what was the total on the ACME invoice last week?", "2026-11-23 – 2026-11-29", "what was the total on the ACME invoice  ?"),
    ("上周那个报错截图里的端口号是多少?", "2026-11-23 – 2026-11-29", "那个报错截图里的端口号是多少?"),
    ("三天前的截图", "2026-12-02", "的截图"),
    ("3 days ago error", "2026-12-02", "error"),
    ("yesterday's receipt", "2026-12-04", "'s receipt"),
    ("前天的账单", "2026-12-03", "的账单"),
    ("in October", "2026-10-01 – 2026-10-31", ""),
    ("10月的发票", "2026-10-01 – 2026-10-31", "的发票"),
    ("十二月三号的会议", "2026-12-03", "的会议"),
    ("上个月的账单", "2026-11-01 – 2026-11-30", "的账单"),
    ("last 7 days", "2026-11-29 – 2026-12-05", ""),
    ("过去两周的截图", "2026-11-22 – 2026-12-05", "的截图"),
    ("两周前的报告", "2026-11-16 – 2026-11-22", "的报告"),
    ("screenshot from 2026-11-02", "2026-11-02", "screenshot from"),
    ("invoice on Nov 3", "2026-11-03", "invoice on"),
    ("in December 2025", "2025-12-01 – 2025-12-31", ""),
    ("去年的照片", "2025-01-01 – 2025-12-31", "的照片"),
])
def test_time_expressions_become_ranges(question, label, rest):
    r, remaining = extract_time(question, NOW)
    assert r is not None and r.label == label
    assert remaining == rest


@pytest.mark.parametrize("question", ["when did I last see the blue chart?", "What may I do?", "the second tab",
                                      "端口号是多少"])
def test_questions_without_a_time_have_no_range(question):
    r, remaining = extract_time(question, NOW)
    assert r is None and remaining == question


def test_range_ends_are_exclusive_and_in_local_time():
    r, _ = extract_time("yesterday", NOW)
    assert r is not None
    assert datetime.fromtimestamp(r.since) == datetime(2026, 12, 4)
    assert datetime.fromtimestamp(r.until) == datetime(2026, 12, 5)


def test_a_month_not_yet_reached_this_year_is_last_years():
    r, _ = extract_time("12月的发票", datetime(2026, 3, 1))
    assert r is not None and r.label == "2025-12-01 – 2025-12-31"


@pytest.mark.parametrize("text,n", [("3", 3), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("两", 2)])
def test_chinese_numbers(text, n):
    assert zh_number(text) == n

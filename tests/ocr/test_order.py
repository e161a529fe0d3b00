"""Reading order on hand-placed boxes (no model): columns, sidebars, chat bubbles, rows."""

from vlagent.ocr.base import OcrLine
from vlagent.ocr.order import reading_order


def line(text, x, y, w, h=20):
    return OcrLine(text, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]], 0.9)


def texts(lines):
    return [l.text for l in reading_order(lines)]


def test_two_columns_read_column_by_column():
    left = [line(f"L{i}", 40, 40 + 36 * i, 500) for i in range(6)]
    right = [line(f"R{i}", 620, 40 + 36 * i, 480) for i in range(6)]
    shuffled = [l for pair in zip(right, left) for l in pair]
    assert texts(shuffled) == [f"L{i}" for i in range(6)] + [f"R{i}" for i in range(6)]


def test_heading_spanning_both_columns_comes_first():
    head = line("Heading", 40, 10, 1000)
    left = [line(f"L{i}", 40, 50 + 36 * i, 500) for i in range(4)]
    right = [line(f"R{i}", 620, 50 + 36 * i, 480) for i in range(4)]
    assert texts(right + left + [head]) == ["Heading"] + [f"L{i}" for i in range(4)] + [f"R{i}" for i in range(4)]


def test_sidebar_is_read_before_the_page_beside_it_and_title_bar_first():
    title = line("Mail - Inbox", 14, 8, 120)
    side = [line(f"S{i}", 16, 60 + 34 * i, 60) for i in range(5)]
    body = [line(f"B{i}", 350, 60 + 40 * i, 900) for i in range(10)]
    assert texts(body + side + [title]) == ["Mail - Inbox"] + [f"S{i}" for i in range(5)] + [f"B{i}" for i in range(10)]


def test_chat_bubbles_alternating_left_and_right_stay_in_time_order():
    msgs = []
    for i in range(6):
        x = 40 if i % 2 == 0 else 700
        msgs.append(line(f"M{i}", x, 40 + 80 * i, 300))
    assert texts(list(reversed(msgs))) == [f"M{i}" for i in range(6)]


def test_items_on_one_row_read_left_to_right():
    row = [line(w, x, 10 + (x % 3), 60) for w, x in (("View", 200), ("File", 10), ("Edit", 100), ("Help", 300))]
    assert texts(row) == ["File", "Edit", "View", "Help"]


def test_single_column_keeps_top_to_bottom_even_with_uneven_spacing():
    lines = [line(f"P{i}", 40 + (i % 2) * 30, 40 + 30 * i + (i // 3) * 25, 400 - 20 * (i % 3)) for i in range(9)]
    assert texts(lines[::-1]) == [f"P{i}" for i in range(9)]


def test_empty_and_single():
    assert reading_order([]) == []
    one = line("x", 0, 0, 10)
    assert reading_order([one]) == [one]

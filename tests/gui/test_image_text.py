"""The image with its text on it: the OCR lines drawn where they were read; a click copies a
line, a drag across lines copies them in reading order, the search's words are highlighted."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication

from tests.gui.conftest import wait_for_query


def shown(qtbot, window, query: str):
    window.set_query(query)
    wait_for_query(qtbot, window, query)
    window.select_row(0)
    view = window.detail.image_view
    qtbot.waitUntil(lambda: view.has_image and view.lines and window.detail.detail["id"] == window.selected_id())
    return view


def test_clicking_a_line_copies_it_and_dragging_copies_several_in_reading_order(qtbot, search_window):
    view = shown(qtbot, search_window, "invoice")
    assert [line.text for line in view.lines] == ["Invoice 2024-0193", "Total due: 42.50 EUR"]
    # The boxes sit where the text is: inside the image, the first above the second.
    image = view.sceneRect()
    assert all(image.contains(line.rect) for line in view.lines)
    assert view.lines[0].rect.bottom() < view.lines[1].rect.top()

    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.lines[1].rect.center()))
    assert clipboard.text() == "Total due: 42.50 EUR"
    assert view.selected == [1]
    assert search_window.statusBar().currentMessage() == "Copied 1 line"

    # From the end of the second line up to the start of the first: copied top to bottom.
    clipboard.clear()
    start = view.mapFromScene(view.lines[1].rect.bottomRight() - QPointF(3, 3))
    end = view.mapFromScene(view.lines[0].rect.topLeft() + QPointF(3, 3))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), pos=(start + end) / 2)
    qtbot.mouseMove(view.viewport(), pos=end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert clipboard.text() == "Invoice 2024-0193\nTotal due: 42.50 EUR"
    assert view.selected == [0, 1]
    assert search_window.statusBar().currentMessage() == "Copied 2 lines"

    # A click off the text clears the selection (and copies nothing); a drag there moves the image.
    clipboard.setText("kept")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(QPointF(4, image.bottom() - 4)))
    assert view.selected == [] and clipboard.text() == "kept"


def test_the_search_words_are_highlighted_on_the_image(qtbot, search_window):
    view = shown(qtbot, search_window, "invoice")
    assert view.hit_lines == [0]
    (line, part), = view.hits
    box = view.lines[0].rect
    hit = part.boundingRect()
    # Only the word: it starts where the line starts and ends well before the line does.
    assert abs(hit.left() - box.left()) < 1 and hit.right() < box.left() + 0.6 * box.width()

    view = shown(qtbot, search_window, "数据库")
    assert [view.lines[i].text for i in view.hit_lines] == ["数据库连接失败"]
    (_line, part), = view.hits
    assert part.boundingRect().width() < 0.6 * view.lines[1].rect.width()

    # Switching to the timeline drops the search's highlight; back to the list restores it.
    search_window.set_mode("timeline")
    assert view.hits == []
    search_window.set_mode("list")
    assert view.hit_lines == [1]

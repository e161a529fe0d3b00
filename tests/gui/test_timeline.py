"""The timeline over 100k images: day groups as the index has them, pages read only for what
comes on screen (and thumbnails asked for only there), keyboard navigation."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from PySide6.QtCore import Qt

from vlagent.gui.timeline import MAX_PAGES, PAGE


@pytest.fixture
def timeline_window(qtbot, timeline_root):
    from vlagent.gui.backend import Backend
    from vlagent.gui.search_window import SearchWindow
    from vlagent.home import Home
    from vlagent.settings import Settings

    root, seen = timeline_root
    home = Home(root)
    backend = Backend(home, Settings.load(home.config_path))
    window = SearchWindow(backend)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    window.set_mode("timeline")
    qtbot.waitUntil(lambda: window.timeline.loaded, timeout=10_000)
    yield window, seen
    backend.stop()


def local_day(ts: float) -> str:
    return date.fromtimestamp(ts).isoformat()


def visible(view) -> list[int]:
    """Positions of the cells on screen."""
    h = view.viewport().height()
    first = next(i for i in range(view.model.total) if view.visual_rect(i).bottom() >= 0) \
        if view.verticalScrollBar().value() == 0 else None
    if first is None:  # by bisection: cells are in screen order
        lo, hi = 0, view.model.total - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if view.visual_rect(mid).bottom() < 0:
                lo = mid + 1
            else:
                hi = mid
        first = lo
    out = []
    i = first
    while i < view.model.total and view.visual_rect(i).top() < h:
        out.append(i)
        i += 1
    return out


def test_the_timeline_groups_100k_images_by_day_and_reads_only_what_is_on_screen(qtbot, timeline_window):
    window, seen = timeline_window
    view, model = window.timeline_view, window.timeline
    assert window.list_stack.currentWidget() is view and not window.filter_bar.isVisible()
    expected = sorted(Counter(local_day(t) for t in seen.values()).items(), reverse=True)
    assert [(d.key, d.count) for d in model.days] == expected
    assert model.total == len(seen) == 100_000
    assert view.day_label(expected[0][0]) in ("Today", "Yesterday") or expected[0][0] < date.today().isoformat()

    sb = view.verticalScrollBar()
    assert sb.maximum() > 100_000 // view.columns * 50  # the scroll bar spans every row at once
    thumbs = window.backend.thumbnails
    for fraction in (0.0, 0.31, 0.5, 0.77, 1.0):
        sb.setValue(int(sb.maximum() * fraction))
        on_screen = visible(view)
        assert on_screen
        qtbot.waitUntil(lambda on_screen=on_screen: all(model.record(i) is not None for i in on_screen),
                        timeout=10_000)
        records = [model.record(i) for i in on_screen]
        times = [r["first_seen"] for r in records]
        assert times == sorted(times, reverse=True)  # newest first
        for i, rec in zip(on_screen, records, strict=True):  # each under its own day's header
            assert local_day(seen[rec["id"]]) == model.days[model.day_of(i)].key
        view.viewport().repaint()  # painted: its thumbnails are asked for
    assert records[-1]["id"] == min(seen, key=lambda i: (seen[i], i))  # the oldest image, at the very end
    # Five screens looked at: a few pages each, never the 100k rows; thumbnails for what was painted.
    assert model.rows_read <= 5 * 5 * PAGE and model.pages_kept <= MAX_PAGES
    assert 0 < thumbs.loads_started <= 5 * 2 * len(on_screen)


def test_the_timeline_is_keyboard_navigable_and_shows_the_current_image(qtbot, timeline_window):
    window, seen = timeline_window
    view, model, detail = window.timeline_view, window.timeline, window.detail
    newest = sorted(seen, key=lambda i: (seen[i], i), reverse=True)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: detail.image_id == newest[0] and detail.detail is not None, timeout=10_000)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: detail.image_id == newest[1])
    qtbot.keyClick(view, Qt.Key.Key_Down)  # the same column, a row down (the first day holds many rows)
    assert model.days[0].count > 2 * view.columns
    assert view.current == 1 + view.columns
    qtbot.waitUntil(lambda: detail.image_id == newest[1 + view.columns])
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.current == view.columns
    qtbot.keyClick(view, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: detail.image_id == newest[-1], timeout=10_000)
    assert view.verticalScrollBar().value() == view.verticalScrollBar().maximum()
    assert view.visual_rect(view.current).bottom() <= view.viewport().height()
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert view.current < len(newest) - 1 and view.visual_rect(view.current).top() >= 0
    qtbot.waitUntil(lambda: detail.image_id == newest[view.current], timeout=10_000)
    # A click makes an image current; typing a query goes back to the result list.
    i = view.current - 1
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visual_rect(i).center())
    assert view.current == i
    qtbot.keyClicks(window.query_edit, "x")
    assert window.mode == "list" and window.list_stack.currentWidget() is not view


def test_new_images_appear_in_the_open_timeline_and_the_current_image_stays_current(qtbot, search_window, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    from vlagent.samples import text_image

    window = search_window
    window.set_mode("timeline")
    view, model = window.timeline_view, window.timeline
    qtbot.waitUntil(lambda: model.loaded and model.total == 4 and model.record(0) is not None)
    assert [(d.key, d.count) for d in model.days] == [(date.today().isoformat(), 4)]
    assert view.day_label(model.days[0].key) == "Today" and view.count_label(4) == "4 images"
    view.set_current(2)
    current = view.current_id()
    qtbot.waitUntil(lambda: window.detail.image_id == current)

    path = tmp_path / "fresh.png"
    text_image(["Fresh arrival"], font_size=30).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with qtbot.waitSignal(window.imported, timeout=10_000) as imported:
        assert window.import_mime(mime)
    (new_id,) = imported.args[0]
    qtbot.waitUntil(lambda: model.total == 5 and model.record(0) is not None and model.record(0)["id"] == new_id,
                    timeout=10_000)
    assert view.current == 3 and view.current_id() == current  # one image came before it
    assert window.detail.image_id == new_id  # the dropped image is open to ask about

"""The region overlay driven with qtbot: a drag selects exactly the pixels under it (also
when the frozen image has twice the screen's logical resolution, as on a 2x display), Enter
and double-click take the whole screen, Esc cancels, outside the selection is dimmed."""

import pytest
from PIL import Image, ImageChops
from PySide6.QtCore import QPoint, QRectF, Qt

from vlagent.capture.base import Monitor, Rect, Shot
from vlagent.gui.overlay import RegionOverlay


def _noise(size, seed=1) -> Image.Image:
    """Every pixel different from its neighbours, so a crop off by one pixel cannot match."""
    import random

    rnd = random.Random(seed)
    return Image.frombytes("RGB", size, bytes(rnd.getrandbits(8) for _ in range(size[0] * size[1] * 3)))


@pytest.fixture
def overlay(qtbot, qapp):
    made = []

    def _make(scale: int = 1, image=None):
        screen = qapp.primaryScreen().geometry()
        size = (screen.width() * scale, screen.height() * scale)
        shot = Shot(image or _noise(size), [Monitor(1, Rect(0, 0, *size))], handler="test")
        ov = RegionOverlay(shot, language="en")
        ov.show()
        qtbot.waitExposed(ov.windows[0])
        made.append(ov)
        return ov, ov.windows[0], shot

    yield _make
    for ov in made:
        ov.finish(None)


def _drag(qtbot, w, a: QPoint, b: QPoint):
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(w, b)
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=b)


def _same(a, b):
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


@pytest.mark.parametrize("scale", [1, 2])
def test_drag_selects_exactly_the_pixels_under_it(overlay, qtbot, scale):
    ov, w, shot = overlay(scale)
    with qtbot.waitSignal(ov.finished, timeout=3000) as sig:
        _drag(qtbot, w, QPoint(300, 250), QPoint(100, 100))  # dragged up-left: normalised
    region = sig.args[0]
    assert region.rect == Rect(100 * scale, 100 * scale, 200 * scale, 150 * scale)
    assert region.image.size == (200 * scale, 150 * scale)
    assert _same(region.image, shot.image.crop(region.rect.box))
    assert region.monitor == 1 and not region.whole_screen
    assert ov.windows == []  # the overlay closed


def test_enter_takes_the_whole_screen(overlay, qtbot):
    ov, w, shot = overlay(2)
    with qtbot.waitSignal(ov.finished, timeout=3000) as sig:
        qtbot.keyClick(w, Qt.Key.Key_Return)
    region = sig.args[0]
    assert region.whole_screen and region.rect == Rect(0, 0, *shot.image.size)
    assert _same(region.image, shot.image)


def test_double_click_takes_the_whole_screen(overlay, qtbot):
    ov, w, shot = overlay()
    with qtbot.waitSignal(ov.finished, timeout=3000) as sig:
        qtbot.mouseDClick(w, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    assert sig.args[0].whole_screen and _same(sig.args[0].image, shot.image)


def test_esc_cancels_and_a_click_without_a_drag_selects_nothing(overlay, qtbot):
    ov, w, _ = overlay()
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert not ov.done and w.start is None
    with qtbot.waitSignal(ov.finished, timeout=3000) as sig:
        qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert sig.args[0] is None and ov.result is None


def test_outside_the_selection_is_dimmed_and_inside_is_the_frozen_screen(overlay, qtbot, qapp):
    screen = qapp.primaryScreen().geometry()
    image = Image.new("RGB", (screen.width() * 2, screen.height() * 2), (200, 120, 40))
    ov, w, _ = overlay(2, image)
    banner = QPoint(w.width() // 2, 40)  # the hint, top centre
    assert w.grab().toImage().pixelColor(banner).red() < 40
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.wait(50)  # painted once with the press alone, as between real mouse events
    qtbot.mouseMove(w, QPoint(300, 250))
    qtbot.wait(50)
    shown = w.grab().toImage()
    on_screen = w.screen().grabWindow(w.winId()).toImage()  # what partial repaints left on screen
    assert on_screen.pixelColor(banner) == on_screen.pixelColor(500, 400)  # the hint is gone during a drag
    inside, outside = shown.pixelColor(200, 200), shown.pixelColor(500, 400)
    assert (inside.red(), inside.green(), inside.blue()) == (200, 120, 40)
    assert outside.red() < 130 and outside.green() < 80  # dimmed
    border = shown.pixelColor(200, 99)  # one pixel above the selection: the border line
    assert (border.red(), border.green(), border.blue()) == (0, 162, 255)


def test_the_size_label_stays_on_screen(overlay):
    _, w, _ = overlay()
    W, H = w.width(), w.height()
    box = w.label_box(QRectF(10, 200, 100, 100), 90, 20)  # room above: sits above the selection
    assert box.bottom() <= 200 and box.left() == 10
    box = w.label_box(QRectF(W - 20, 0, 20, 200), 90, 20)  # at the top-right corner: inside, pulled left
    assert box.top() >= 0 and box.right() <= W
    box = w.label_box(QRectF(0, 0, W, H), 90, 20)  # the whole screen
    assert box.top() >= 0 and box.bottom() <= H

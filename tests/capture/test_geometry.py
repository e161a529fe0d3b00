"""Logical overlay coordinates → physical pixels, and which part of a capture shows which screen."""

from PIL import Image

from vlagent.capture.base import Monitor, Rect, Shot
from vlagent.capture.geometry import screen_regions, to_physical


def test_selection_at_scale_1_is_the_same_pixels():
    assert to_physical(10, 20, 110, 70, (1920, 1080), Rect(0, 0, 1920, 1080)) == Rect(10, 20, 100, 50)


def test_selection_on_a_2x_screen_covers_twice_the_pixels_and_keeps_half_pixels():
    # A 1280x1024 monitor at 1920,0 shown as 640x512 logical: Qt reports x.5 positions for odd pixels.
    region = Rect(1920, 0, 1280, 1024)
    assert to_physical(100, 50, 300, 150, (640, 512), region) == Rect(2120, 100, 400, 200)
    assert to_physical(100.5, 50.5, 300, 150, (640, 512), region) == Rect(2121, 101, 399, 199)


def test_selection_on_a_fractional_scale_rounds_edges_not_sizes():
    # 1.25: logical 80 → 100 physical, 81.6 → 102
    assert to_physical(80, 80, 81.6, 160, (1536, 864), Rect(0, 0, 1920, 1080)) == Rect(100, 100, 2, 100)


def test_a_drag_up_and_left_and_past_the_edge_is_normalised_and_clamped():
    assert to_physical(300, 200, -40, 50, (800, 600), Rect(0, 0, 800, 600)) == Rect(0, 50, 300, 150)
    assert to_physical(700, 500, 900, 700, (800, 600), Rect(0, 0, 800, 600)) == Rect(700, 500, 100, 100)


def _shot(size, monitors, origin=(0, 0)):
    return Shot(Image.new("RGB", size), monitors, origin=origin)


def test_screens_match_reported_monitors_by_position_whatever_their_order():
    shot = _shot((3200, 1080), [Monitor(1, Rect(1920, 0, 1280, 1024)), Monitor(2, Rect(0, 0, 1920, 1080))])
    screens = [Rect(0, 0, 1920, 1080), Rect(1920, 0, 1280, 1024)]
    assert screen_regions(shot, screens) == [Rect(0, 0, 1920, 1080), Rect(1920, 0, 1280, 1024)]


def test_screens_match_monitors_when_the_desktop_starts_left_of_zero():
    # The OS puts a monitor at x=-1280: the image's origin is there.
    shot = _shot((3200, 1080), [Monitor(1, Rect(0, 0, 1280, 1024)), Monitor(2, Rect(1280, 0, 1920, 1080))],
                 origin=(-1280, 0))
    assert screen_regions(shot, [Rect(0, 0, 1920, 1080), Rect(-1280, 0, 1280, 1024)]) == [
        Rect(1280, 0, 1920, 1080), Rect(0, 0, 1280, 1024)]


def test_a_picture_without_monitor_geometry_is_shared_out_in_proportion():
    # A portal screenshot at twice the screens' coordinates (a HiDPI desktop) with two screens.
    shot = _shot((6400, 2160), [])
    screens = [Rect(0, 0, 1920, 1080), Rect(1920, 0, 1280, 1024)]
    assert screen_regions(shot, screens) == [Rect(0, 0, 3840, 2160), Rect(3840, 0, 2560, 2048)]

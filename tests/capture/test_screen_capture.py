"""Real screen grabs under Xvfb: a window with known pixels is captured exactly, by mss in
this process and by Qt in a `vlagent capture` subprocess; per-monitor geometry on a
two-monitor X screen, including a monitor Qt scales by 2."""

import json

import pytest
from PIL import Image

from tests.capture.conftest import TWO_MONITORS, pattern_window, same_pixels
from tests.conftest import cli_env, run_cli
from vlagent.capture import Rect, capture

pytestmark = pytest.mark.xvfb


def test_mss_captures_the_window_pixels_exactly(shown_pattern, on_display, xvfb_display):
    x, y, expected = shown_pattern
    on_display(xvfb_display)
    shot = capture(choice="mss")
    assert shot.handler == "mss" and shot.image.size == (1920, 1080)
    assert [m.rect for m in shot.monitors] == [Rect(0, 0, 1920, 1080)]
    assert same_pixels(shot.crop(Rect(x, y, *expected.size)), expected)
    # One pixel off in any direction is a different picture (the pattern has a checkerboard).
    assert not same_pixels(shot.crop(Rect(x + 1, y, *expected.size)), expected)


def test_qt_handler_in_the_cli_captures_the_same_pixels(shown_pattern, xvfb_display, vlagent_home, tmp_path):
    x, y, expected = shown_pattern
    out = tmp_path / "qt.png"
    proc = run_cli("capture", "--full", "--capture-backend", "qt", "--no-wait", "--json", "--output", out,
                   home=vlagent_home, env=cli_env(vlagent_home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb"),
                   check=True)
    rec = json.loads(proc.stdout)
    assert rec["capture"]["handler"] == "qt" and (rec["width"], rec["height"]) == (1920, 1080)
    saved = Image.open(rec["path"])
    assert same_pixels(saved, Image.open(out))
    assert same_pixels(saved.crop((x, y, x + expected.width, y + expected.height)), expected)


def test_each_monitor_of_a_two_monitor_screen_has_its_geometry_and_pixels(two_monitor_display, on_display):
    on_display(two_monitor_display)
    with pattern_window(two_monitor_display, 1920 + 50, 60) as expected:
        shot = capture(choice="mss")
        assert shot.image.size == (3200, 1080)
        assert [m.rect for m in shot.monitors] == [Rect(*r) for r in TWO_MONITORS]
        second = shot.monitor_image(2)
        assert second.size == (1280, 1024)
        assert same_pixels(second.crop((50, 60, 50 + expected.width, 60 + expected.height)), expected)


@pytest.mark.parametrize("scales", ["", "VLMON0=1;VLMON1=2"], ids=["unscaled", "mixed-dpi"])
def test_qt_grabs_a_monitor_in_physical_pixels_even_when_qt_scales_it(two_monitor_display, vlagent_home,
                                                                      tmp_path, scales):
    out = tmp_path / "m2.png"
    env = cli_env(vlagent_home, DISPLAY=two_monitor_display, QT_QPA_PLATFORM="xcb",
                  QT_SCREEN_SCALE_FACTORS=scales)
    with pattern_window(two_monitor_display, 1920 + 50, 60) as expected:
        proc = run_cli("capture", "--full", "--monitor", "2", "--capture-backend", "qt", "--no-wait", "--json",
                       "--output", out, env=env, check=True)
    rec = json.loads(proc.stdout)
    assert (rec["width"], rec["height"]) == (1280, 1024) and rec["monitor"] == 2
    # every monitor's geometry, in physical pixels, whatever Qt's scaling
    assert [(m["x"], m["y"], m["width"], m["height"]) for m in rec["capture"]["monitors"]] == TWO_MONITORS
    assert [m["scale"] for m in rec["capture"]["monitors"]] == ([1.0, 2.0] if scales else [1.0, 1.0])
    got = Image.open(out)
    assert same_pixels(got.crop((50, 60, 50 + expected.width, 60 + expected.height)), expected)

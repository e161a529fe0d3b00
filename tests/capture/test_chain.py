"""The handler chain: fall through failing or unusable handlers, say why, fail clearly."""

import pytest
from PIL import Image

import vlagent.gui.screens  # noqa: F401 - registers the "qt" handler, as the faces that capture do
from vlagent.capture import Availability, CaptureError, Monitor, NoUsableHandler, Rect, Shot, build_handlers, capture
from vlagent.capture.session import HEADLESS, WAYLAND, X11, detect


class Fake:
    def __init__(self, name, *, usable=True, reason="", error=None, colour=(1, 2, 3)):
        self.name, self.usable, self.reason, self.error, self.colour = name, usable, reason, error, colour
        self.grabbed = 0

    def available(self):
        return Availability(self.usable, self.reason)

    def grab(self):
        self.grabbed += 1
        if self.error:
            raise self.error
        img = Image.new("RGB", (64, 32), self.colour)
        return Shot(img, [Monitor(1, Rect(0, 0, 64, 32))], handler=self.name)


def test_first_usable_handler_that_works_produces_the_shot_and_the_others_are_explained():
    broken = Fake("broken", error=CaptureError("the grab returned nothing"))
    crashing = Fake("crashing", error=RuntimeError("segfault-ish"))
    absent = Fake("absent", usable=False, reason="not installed")
    good = Fake("good", colour=(9, 8, 7))
    never = Fake("never")
    shot = capture([broken, crashing, absent, good, never])
    assert shot.handler == "good"
    assert shot.image.getpixel((5, 5)) == (9, 8, 7)
    assert [(a.handler, a.failed) for a in shot.attempts] == [("broken", True), ("crashing", True),
                                                             ("absent", False)]
    assert shot.attempts[0].reason == "the grab returned nothing"
    assert "RuntimeError: segfault-ish" in shot.attempts[1].reason
    assert absent.grabbed == 0 and never.grabbed == 0


def test_when_every_handler_fails_the_error_names_each_reason():
    with pytest.raises(NoUsableHandler) as e:
        capture([Fake("a", error=CaptureError("boom")), Fake("b", usable=False, reason="no screen")])
    assert str(e.value) == "cannot capture the screen (a: boom; b: no screen)"
    assert [a.handler for a in e.value.attempts] == ["a", "b"]


def test_without_any_display_every_real_handler_says_why():
    handlers = build_handlers(session=detect(env={}, platform="linux"))
    assert [h.name for h in handlers] == ["mss", "qt", "grim", "portal"]
    with pytest.raises(NoUsableHandler) as e:
        capture(handlers)
    msg = str(e.value)
    assert "mss: no display (DISPLAY is not set)" in msg
    assert "portal: not a Wayland session" in msg


def test_on_wayland_the_x11_grabbers_step_aside_even_with_xwayland():
    session = detect(env={"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, platform="linux")
    assert session.kind == WAYLAND and session.xwayland
    mss_, qt, grim, portal = build_handlers(session=session)
    assert not mss_.available() and "Wayland" in mss_.available().reason
    assert not qt.available()


def test_a_named_handler_is_the_only_one_tried_and_unknown_names_are_refused():
    assert [h.name for h in build_handlers("grim")] == ["grim"]
    with pytest.raises(CaptureError, match="unknown capture handler 'scrot'"):
        build_handlers("scrot")


@pytest.mark.parametrize("env,platform,kind", [
    ({"DISPLAY": ":1"}, "linux", X11),
    ({"XDG_SESSION_TYPE": "wayland"}, "linux", WAYLAND),
    ({}, "linux", HEADLESS),
    ({}, "win32", "windows"),
    ({}, "darwin", "macos"),
])
def test_session_kind(env, platform, kind):
    assert detect(env=env, platform=platform).kind == kind


def test_shot_refuses_a_monitor_or_region_it_does_not_have():
    shot = Shot(Image.new("RGB", (100, 50)), [Monitor(1, Rect(0, 0, 100, 50))])
    with pytest.raises(CaptureError, match="no monitor 2"):
        shot.monitor_image(2)
    with pytest.raises(CaptureError, match="not inside"):
        shot.crop(Rect(90, 0, 20, 10))


def test_the_qt_handler_comes_from_the_gui_layer_by_registration():
    # vlagent.capture imports no GUI code: the Qt grabber is what vlagent.gui.screens registered.
    import subprocess
    import sys

    code = ("import sys; from vlagent.capture import build_handlers; from vlagent.capture.session import detect; "
            "names = [h.name for h in build_handlers(session=detect(env={}, platform='linux'))]; "
            "print(names, 'PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "['mss', 'grim', 'portal'] False", out.stderr
    with pytest.raises(CaptureError, match="not available in this program"):
        from vlagent.capture import chain

        saved = chain.HANDLERS.pop("qt")
        try:
            build_handlers("qt")
        finally:
            chain.register_handler("qt", saved)

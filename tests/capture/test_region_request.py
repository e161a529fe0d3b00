"""The hand-off seam: a running app that accepts the region request does the capture; when
it declines or is gone, this process captures itself (here: no display, so it says so)."""

import pytest

from vlagent.capture import NoUsableHandler
from vlagent.capture.region import RegionRequest, request_region_capture


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)


def test_an_accepted_hand_off_captures_nothing_here():
    got = []
    outcome = request_region_capture(RegionRequest("翻译这段文字", keep=False), handoff=lambda r: got.append(r) or True)
    assert outcome.handed_off and outcome.region is None and outcome.shot is None
    assert got == [RegionRequest("翻译这段文字", keep=False)]


@pytest.mark.parametrize("handoff", [lambda r: False, lambda r: 1 / 0], ids=["declined", "app-gone"])
def test_a_declined_or_failed_hand_off_falls_back_to_capturing_here(handoff):
    with pytest.raises(NoUsableHandler, match="no display"):
        request_region_capture(RegionRequest(), handoff=handoff)


def test_without_a_registered_selector_the_error_says_what_is_missing(monkeypatch):
    from vlagent.capture import region
    from vlagent.capture.base import Monitor, Rect, Shot

    monkeypatch.setattr(region, "_selector", None)
    shot = Shot(image=None, monitors=[Monitor(1, Rect(0, 0, 10, 10))], handler="fake")
    monkeypatch.setattr(region, "capture", lambda choice: shot)
    from vlagent.capture import CaptureError

    with pytest.raises(CaptureError, match="no region selector"):
        region.request_region_capture(region.RegionRequest(), handoff=None)

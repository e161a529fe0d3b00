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

"""``capture_screen`` on an Xvfb display: refused until ``mcp.allow_capture`` is set in the config
(read at each call, no restart), then a full-screen capture saved, indexed and OCR'd like
``vlagent capture --full``; ``privacy.paused`` still stops it."""

from __future__ import annotations

import pytest

from tests.capture.conftest import pattern_window
from tests.conftest import run_cli
from tests.mcp.conftest import data_of, error_of, stdio_session, write_config

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def capture_server(xvfb_display, tmp_path_factory):
    home = tmp_path_factory.mktemp("mcp-capture") / "home"
    write_config(home)
    log = home.parent / "server.log"
    with pattern_window(xvfb_display, 100, 80):
        session = stdio_session(home, log=log, DISPLAY=xvfb_display)
        try:
            yield session, home
        finally:
            session.close()


def test_capture_follows_the_config_and_indexes_the_screen(capture_server):
    server, home = capture_server
    assert "mcp.allow_capture" in error_of(server.call("capture_screen", {}))
    run_cli("config", "mcp.allow_capture", "true", home=home, check=True)
    shot = data_of(server.call("capture_screen", {}, timeout=180))
    assert shot["id"] >= 1 and (shot["width"], shot["height"]) == (1920, 1080) and shot["handler"] == "mss"
    assert "Invoice 2024-0193" in shot["ocr_text"] and shot["kept"] and shot["path"].endswith(".png")
    found = data_of(server.call("search_images", {"query": "2024-0193", "source": "screenshot"}))
    assert [h["id"] for h in found["hits"]] == [shot["id"]]
    assert data_of(server.call("get_image", {"id": shot["id"]}))["source"] == "screenshot"
    assert "there is no monitor 7" in error_of(server.call("capture_screen", {"monitor": 7}))


def test_paused_means_no_capture(capture_server):
    server, home = capture_server
    run_cli("config", "mcp.allow_capture", "true", home=home, check=True)
    run_cli("config", "privacy.paused", "true", home=home, check=True)
    try:
        assert "paused" in error_of(server.call("capture_screen", {}))
    finally:
        run_cli("config", "privacy.paused", "false", home=home, check=True)

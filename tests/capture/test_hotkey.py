"""The global hotkey: parsed and explained without a display; under Xvfb it fires when the
keys are pressed with xdotool (keys injected by pynput itself would be ignored), and does
nothing while capturing is paused."""

import subprocess
import threading

import pytest

from vlagent.capture.hotkey import (
    GLOBAL_HOTKEY,
    OS_SHORTCUT,
    HotkeyError,
    HotkeyListener,
    hotkey_mode,
    human_hotkey,
    parse_hotkey,
)
from vlagent.capture.session import detect


@pytest.mark.parametrize("text,parts,human", [
    ("<ctrl>+<shift>+a", ["<ctrl>", "<shift>", "a"], "Ctrl+Shift+A"),
    ("<cmd>+<alt_l>+<f12>", ["<cmd>", "<alt_l>", "<f12>"], "Super+Alt+F12"),
    (" <Print_Screen> ", ["<print_screen>"], "Print"),
])
def test_valid_hotkeys(text, parts, human):
    assert parse_hotkey(text) == parts
    assert human_hotkey(text) == human


@pytest.mark.parametrize("text,why", [
    ("", "pynput syntax"), ("<ctrl>+", "pynput syntax"), ("ctrl+a", "'ctrl' is neither"),
    ("<ctrl>+<shift>", "only modifiers"), ("<ctrl>+a+a", "appears twice"), ("<hyper>+a", "'<hyper>' is neither"),
])
def test_invalid_hotkeys_say_why(text, why):
    with pytest.raises(HotkeyError, match=why):
        parse_hotkey(text)


def test_wayland_and_headless_sessions_need_an_os_shortcut():
    wayland = hotkey_mode("<ctrl>+<shift>+a", detect(env={"WAYLAND_DISPLAY": "wayland-0"}, platform="linux"))
    assert wayland.mode == OS_SHORTCUT and "Wayland" in wayland.reason
    assert wayland.instruction == ("bind Ctrl+Shift+A in your desktop's keyboard settings to run: "
                                   "vlagent capture --region")
    assert hotkey_mode("<ctrl>+<shift>+a", detect(env={}, platform="linux")).mode == OS_SHORTCUT
    assert hotkey_mode("<ctrl>+<shift>+a", detect(env={"DISPLAY": ":0"}, platform="linux")).mode == GLOBAL_HOTKEY
    assert hotkey_mode("<ctrl>+<shift>+a", detect(env={}, platform="win32")).mode == GLOBAL_HOTKEY


def test_starting_without_a_display_raises_with_the_instruction():
    listener = HotkeyListener("<ctrl>+<shift>+a", lambda: None, session=detect(env={}, platform="linux"))
    with pytest.raises(HotkeyError, match="vlagent capture --region"):
        listener.start()


@pytest.mark.xvfb
def test_the_hotkey_fires_on_key_presses_and_not_while_paused(xvfb_display, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    fired, ignored = threading.Event(), threading.Event()
    state = {"paused": True}

    def press(keys):
        subprocess.run(["xdotool", "key", keys], env={"DISPLAY": xvfb_display}, check=True, timeout=10)

    with HotkeyListener("<ctrl>+<shift>+a", fired.set, paused=lambda: state["paused"],
                        on_paused=ignored.set) as listener:
        assert listener.mode.mode == GLOBAL_HOTKEY
        press("ctrl+shift+a")
        assert ignored.wait(5) and not fired.is_set()  # paused: noticed, not captured
        state["paused"] = False
        press("ctrl+shift+b")  # another combination does nothing
        assert not fired.wait(0.5)
        press("ctrl+shift+a")
        assert fired.wait(5)
    press("shift")  # pynput's X11 thread ends at the next input event after stop()
    listener.stop(timeout=5)
    assert not listener.running

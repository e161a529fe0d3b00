"""The global capture hotkey (``capture.hotkey``, pynput syntax, default ``<ctrl>+<shift>+a``).

On X11, Windows and macOS pynput's ``GlobalHotKeys`` sees every key press. Where no program
may (a Wayland session), or there is no display at all, the mode is ``os-shortcut``: the
user binds the same keys in the desktop's keyboard settings to ``vlagent capture --region``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from vlagent.capture.session import HEADLESS, WAYLAND, Session, detect

log = logging.getLogger(__name__)

GLOBAL_HOTKEY, OS_SHORTCUT = "global-hotkey", "os-shortcut"
CAPTURE_COMMAND = "vlagent capture --region"
MODIFIERS = {"ctrl", "ctrl_l", "ctrl_r", "shift", "shift_l", "shift_r", "alt", "alt_l", "alt_r", "alt_gr",
             "cmd", "cmd_l", "cmd_r"}
NAMED_KEYS = MODIFIERS | {f"f{i}" for i in range(1, 21)} | {
    "space", "tab", "enter", "esc", "backspace", "delete", "insert", "home", "end", "page_up", "page_down",
    "up", "down", "left", "right", "print_screen", "pause", "scroll_lock", "caps_lock", "num_lock", "menu"}
PRETTY = {"ctrl": "Ctrl", "shift": "Shift", "alt": "Alt", "alt_gr": "AltGr", "cmd": "Super", "esc": "Esc",
          "print_screen": "Print", "page_up": "PageUp", "page_down": "PageDown"}


class HotkeyError(Exception):
    """The hotkey is invalid, or a global hotkey cannot be registered here."""


@dataclass(frozen=True)
class HotkeyMode:
    mode: str  # GLOBAL_HOTKEY or OS_SHORTCUT
    reason: str
    instruction: str = ""

    def as_dict(self) -> dict:
        return {"mode": self.mode, "reason": self.reason, "instruction": self.instruction}


def parse_hotkey(text: str) -> list[str]:
    """The hotkey's parts (``["<ctrl>", "<shift>", "a"]``) or HotkeyError. Checked without
    pynput, which cannot even be imported on Linux without a display."""
    raw = (text or "").strip().lower()
    parts = [p.strip() for p in raw.split("+")] if raw else []
    if not parts or any(not p for p in parts):
        raise HotkeyError(f"invalid hotkey {text!r}: use pynput syntax like <ctrl>+<shift>+a")
    keys = 0
    for p in parts:
        if len(p) == 1:
            keys += 1
        elif p.startswith("<") and p.endswith(">") and (p[1:-1] in NAMED_KEYS or p[1:-1].isdigit()):
            keys += p[1:-1] not in MODIFIERS
        else:
            raise HotkeyError(f"invalid hotkey {text!r}: {p!r} is neither one character nor a key name "
                              "like <ctrl>, <shift>, <alt>, <cmd>, <f1> or <print_screen>")
    if len(set(parts)) != len(parts):
        raise HotkeyError(f"invalid hotkey {text!r}: a key appears twice")
    if keys == 0:
        raise HotkeyError(f"invalid hotkey {text!r}: it has only modifiers; add a key, e.g. +a")
    return parts


def human_hotkey(text: str) -> str:
    """``<ctrl>+<shift>+a`` → ``Ctrl+Shift+A``, as desktop shortcut settings write it."""
    out = []
    for p in parse_hotkey(text):
        name = p[1:-1] if p.startswith("<") else p
        base = name.rsplit("_", 1)[0] if name.endswith(("_l", "_r")) else name
        out.append(PRETTY.get(base, base.upper() if len(base) <= 3 else base.replace("_", " ").title()))
    return "+".join(out)


def hotkey_mode(hotkey: str, session: Session | None = None) -> HotkeyMode:
    session = session or detect()
    bind = (f"bind {human_hotkey(hotkey)} in your desktop's keyboard settings to run: {CAPTURE_COMMAND}")
    if session.kind == WAYLAND:
        return HotkeyMode(OS_SHORTCUT, "a Wayland session: programs cannot listen to global keys", bind)
    if session.kind == HEADLESS:
        return HotkeyMode(OS_SHORTCUT, "no display (DISPLAY is not set)", bind)
    return HotkeyMode(GLOBAL_HOTKEY, f"pynput listens for {human_hotkey(hotkey)} ({session.kind})")


class HotkeyListener:
    """Calls ``on_hotkey`` (from pynput's thread) each time the hotkey is pressed, unless
    ``paused()`` says capturing is paused; then ``on_paused`` is called instead."""

    def __init__(self, hotkey: str, on_hotkey: Callable[[], None], *, paused: Callable[[], bool] = lambda: False,
                 on_paused: Callable[[], None] | None = None, session: Session | None = None):
        parse_hotkey(hotkey)
        self.hotkey = hotkey.strip().lower()
        self.on_hotkey = on_hotkey
        self.paused = paused
        self.on_paused = on_paused
        self.mode = hotkey_mode(self.hotkey, session)
        self._listener = None
        self._lock = threading.Lock()

    def start(self) -> HotkeyListener:
        if self.mode.mode != GLOBAL_HOTKEY:
            raise HotkeyError(f"no global hotkey here ({self.mode.reason}); {self.mode.instruction}")
        try:
            from pynput import keyboard

            listener = keyboard.GlobalHotKeys({self.hotkey: self._fire})
        except ImportError as e:  # pynput could not reach the display
            raise HotkeyError(f"cannot listen for global keys: {str(e).splitlines()[0]}") from e
        except ValueError as e:
            raise HotkeyError(f"pynput rejects the hotkey {self.hotkey!r}: {e}") from e
        listener.start()
        listener.wait()
        if not listener.running:
            raise HotkeyError("the global key listener stopped at once (is the display reachable?)")
        self._listener = listener
        return self

    def _fire(self) -> None:
        with self._lock:  # one capture at a time even if keys repeat
            try:
                if self.paused():
                    log.info("hotkey pressed while capturing is paused: ignored")
                    if self.on_paused:
                        self.on_paused()
                    return
                self.on_hotkey()
            except Exception:  # noqa: BLE001 - never let a callback kill the listener thread
                log.exception("hotkey callback failed")

    @property
    def running(self) -> bool:
        return self._listener is not None and self._listener.is_alive()

    def stop(self, timeout: float = 0.2) -> None:
        """Stop listening. On X11 pynput's thread ends at the next key or button event after
        this (it is a daemon thread, so it never holds the process); calling again waits."""
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(timeout)
            if not self._listener.is_alive():
                self._listener = None

    def __enter__(self) -> HotkeyListener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

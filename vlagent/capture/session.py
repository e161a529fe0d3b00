"""Which kind of desktop session this process runs in, from its environment alone."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

X11, WAYLAND, WINDOWS, MACOS, HEADLESS = "x11", "wayland", "windows", "macos", "headless"


@dataclass(frozen=True)
class Session:
    kind: str  # one of X11, WAYLAND, WINDOWS, MACOS, HEADLESS
    desktop: str = ""  # XDG_CURRENT_DESKTOP, lower-cased ("gnome", "kde", "sway", …)
    xwayland: bool = False  # an X display exists inside a Wayland session (it sees X clients only)


def detect(env: Mapping[str, str] | None = None, platform: str | None = None) -> Session:
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform.startswith("win"):
        return Session(WINDOWS)
    if platform == "darwin":
        return Session(MACOS)
    desktop = env.get("XDG_CURRENT_DESKTOP", "").lower()
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    if wayland:
        return Session(WAYLAND, desktop, xwayland=bool(env.get("DISPLAY")))
    if env.get("DISPLAY"):
        return Session(X11, desktop)
    return Session(HEADLESS, desktop)

"""Asking for a region capture: the seam between a command (or OS shortcut) and whoever
shows the overlay.

A running desktop app should do it (its model is loaded and its windows are warm), so a
``handoff`` callable is tried first (the app's single-instance channel); when it declines or
fails, the screen is captured and the overlay shown in this process, by the *region
selector* the GUI layer registered (:func:`set_region_selector`; :mod:`vlagent.gui.overlay`
registers its own when imported). Nothing here imports the GUI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vlagent.capture.base import CaptureError, Rect, Shot
from vlagent.capture.chain import AUTO, capture

log = logging.getLogger(__name__)


class Region(Protocol):
    """What a selector returns: the chosen rectangle and the image cut from the shot."""

    @property
    def rect(self) -> Rect: ...

    @property
    def image(self) -> Any: ...


class RegionSelector(Protocol):
    def __call__(self, shot: Shot, *, language: str = "auto",
                 on_shown: Callable[[float], None] | None = None) -> Region | None: ...


_selector: RegionSelector | None = None


def set_region_selector(selector: RegionSelector | None) -> None:
    """Register who shows the overlay in this process (the GUI layer does, when imported)."""
    global _selector
    _selector = selector


@dataclass
class RegionRequest:
    """What the one who shows the overlay needs to finish the job."""

    question: str | None = None
    keep: bool = True  # False: "don't keep this capture" (removed after the answer)


@dataclass
class RegionOutcome:
    handed_off: bool  # True: a running app took the request and does the rest
    region: Region | None = None  # None when handed off or cancelled (Esc)
    shot: Shot | None = None


Handoff = Callable[[RegionRequest], bool]


def request_region_capture(request: RegionRequest | None = None, *, handoff: Handoff | None = None,
                           choice: str = AUTO, language: str = "auto",
                           on_shown: Callable[[float], None] | None = None) -> RegionOutcome:
    request = request or RegionRequest()
    if handoff is not None:
        try:
            if handoff(request):
                return RegionOutcome(handed_off=True)
        except Exception as e:  # noqa: BLE001 - the app is gone or broken: do it here instead
            log.warning("could not hand the capture to the running app (%s); selecting here", e)
    shot = capture(choice=choice)  # before any window of ours is on screen
    if _selector is None:
        raise CaptureError("no region selector in this program: the overlay comes with the desktop app's Qt layer "
                           "(use --full to capture every monitor)")
    return RegionOutcome(False, _selector(shot, language=language, on_shown=on_shown), shot)

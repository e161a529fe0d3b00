"""Asking for a region capture: the seam between a command (or OS shortcut) and whoever
shows the overlay.

A running desktop app should do it (its model is loaded and its windows are warm), so a
``handoff`` callable is tried first (the app's single-instance channel); when it declines or
fails, the screen is captured and the overlay shown in this process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from vlagent.capture.base import Shot
from vlagent.capture.chain import AUTO, capture

if TYPE_CHECKING:
    from vlagent.gui.overlay import Region

log = logging.getLogger(__name__)


@dataclass
class RegionRequest:
    """What the one who shows the overlay needs to finish the job."""

    question: str | None = None
    keep: bool = True  # False: "don't keep this capture" (removed after the answer)


@dataclass
class RegionOutcome:
    handed_off: bool  # True: a running app took the request and does the rest
    region: "Region | None" = None  # None when handed off or cancelled (Esc)
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
    from vlagent.gui.overlay import select_region

    return RegionOutcome(False, select_region(shot, language=language, on_shown=on_shown), shot)

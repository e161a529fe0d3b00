"""Screen capture: handlers behind one Protocol, an orchestrator that falls through them,
the global hotkey, and the flow that saves and indexes a capture. Qt-free; the Qt pieces
(the screen-grab handler, the region overlay) live under :mod:`vlagent.gui`."""

from vlagent.capture.base import (
    Attempt,
    Availability,
    CaptureError,
    CaptureHandler,
    CapturePaused,
    Monitor,
    NoUsableHandler,
    Rect,
    Shot,
)
from vlagent.capture.chain import build_handlers, capture

__all__ = ["Attempt", "Availability", "CaptureError", "CaptureHandler", "CapturePaused", "Monitor",
           "NoUsableHandler", "Rect", "Shot", "build_handlers", "capture"]

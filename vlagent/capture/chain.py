"""The capture orchestrator: try each handler in order until one produces an image.

Order: mss (X11, Windows, macOS; fastest), Qt's screen grab (same platforms, needs a
QApplication), grim (wlroots Wayland; fails fast elsewhere), then the desktop portal
(any Wayland desktop, but it may show a permission dialog and stays silent when refused,
so it goes last). The Shot records which handler produced it and why the others before it
were skipped or failed.
"""

from __future__ import annotations

import importlib
import logging

from vlagent.capture.base import Attempt, Availability, CaptureError, CaptureHandler, NoUsableHandler, Shot
from vlagent.capture.session import Session, detect

log = logging.getLogger(__name__)

# name → "module:Class"; Qt's handler lives with the rest of the Qt code under vlagent.gui.
HANDLERS = {
    "mss": "vlagent.capture.mss_handler:MssHandler",
    "qt": "vlagent.gui.screens:QtHandler",
    "grim": "vlagent.capture.grim_handler:GrimHandler",
    "portal": "vlagent.capture.portal_handler:PortalHandler",
}
AUTO = "auto"


def build_handlers(choice: str = AUTO, session: Session | None = None) -> list[CaptureHandler]:
    """The handlers to try: all of them in order for ``auto``, else only the one named."""
    if choice != AUTO and choice not in HANDLERS:
        raise CaptureError(f"unknown capture handler {choice!r} (choose from auto, {', '.join(HANDLERS)})")
    session = session or detect()
    handlers = []
    for name in (HANDLERS if choice == AUTO else [choice]):
        module, cls = HANDLERS[name].split(":")
        handlers.append(getattr(importlib.import_module(module), cls)(session=session))
    return handlers


def capture(handlers: list[CaptureHandler] | None = None, *, choice: str = AUTO) -> Shot:
    """Grab the whole virtual desktop with the first handler that works; raises
    :class:`NoUsableHandler` listing every handler's reason when none does."""
    attempts: list[Attempt] = []
    for handler in handlers if handlers is not None else build_handlers(choice):
        try:
            usable = handler.available()
        except Exception as e:  # noqa: BLE001 - a broken probe only rules its handler out
            usable = Availability(False, f"{e.__class__.__name__}: {e}")
        if not usable:
            attempts.append(Attempt(handler.name, usable.reason))
            continue
        try:
            shot = handler.grab()
        except CaptureError as e:
            attempts.append(Attempt(handler.name, str(e), failed=True))
            continue
        except Exception as e:  # noqa: BLE001 - a library crash: record it, try the next handler
            log.exception("capture handler %s crashed", handler.name)
            attempts.append(Attempt(handler.name, f"{e.__class__.__name__}: {e}", failed=True))
            continue
        shot.attempts = attempts
        for a in attempts:
            log.info("capture: %s %s: %s", a.handler, "failed" if a.failed else "skipped", a.reason)
        return shot
    raise NoUsableHandler(attempts)

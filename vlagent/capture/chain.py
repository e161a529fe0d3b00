"""The capture orchestrator: try each handler in order until one produces an image.

Order: mss (X11, Windows, macOS; fastest), Qt's screen grab (same platforms, needs a
QApplication), grim (wlroots Wayland; fails fast elsewhere), then the desktop portal
(any Wayland desktop, but it may show a permission dialog and stays silent when refused,
so it goes last). The Shot records which handler produced it and why the others before it
were skipped or failed.

Handlers are registered by name (:func:`register_handler`): this package's own at import,
Qt's by the GUI layer (:mod:`vlagent.gui.screens` registers it when imported), so nothing
here imports the GUI. A face that wants the Qt grabber (the desktop app, ``vlagent capture``)
imports that module first; without it ``auto`` tries the others.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from vlagent.capture.base import Attempt, Availability, CaptureError, CaptureHandler, NoUsableHandler, Shot
from vlagent.capture.session import Session, detect

log = logging.getLogger(__name__)

HandlerFactory = Callable[..., CaptureHandler]  # called with session=...

ORDER = ("mss", "qt", "grim", "portal")  # the order ``auto`` tries them in
# name → "module:Class" (imported only when built) or a factory registered at run time.
HANDLERS: dict[str, str | HandlerFactory] = {
    "mss": "vlagent.capture.mss_handler:MssHandler",
    "grim": "vlagent.capture.grim_handler:GrimHandler",
    "portal": "vlagent.capture.portal_handler:PortalHandler",
}
AUTO = "auto"


def register_handler(name: str, factory: str | HandlerFactory) -> None:
    """Make a handler available under ``name`` (its place in ``auto`` is given by :data:`ORDER`;
    names not in it are tried last)."""
    HANDLERS[name] = factory


def known_handlers() -> list[str]:
    return [n for n in ORDER if n in HANDLERS] + [n for n in HANDLERS if n not in ORDER]


def build_handlers(choice: str = AUTO, session: Session | None = None) -> list[CaptureHandler]:
    """The handlers to try: all of them in order for ``auto``, else only the one named."""
    if choice != AUTO and choice not in HANDLERS:
        if choice in ORDER:
            raise CaptureError(f"the {choice} capture handler is not available in this program "
                               f"(it comes with the desktop app's Qt layer)")
        raise CaptureError(f"unknown capture handler {choice!r} (choose from auto, {', '.join(known_handlers())})")
    session = session or detect()
    handlers = []
    for name in (known_handlers() if choice == AUTO else [choice]):
        target = HANDLERS[name]
        if isinstance(target, str):
            module, cls = target.split(":")
            target = getattr(importlib.import_module(module), cls)
        handlers.append(target(session=session))
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

"""Capture through xdg-desktop-portal's Screenshot interface over D-Bus (GNOME, KDE and
other Wayland desktops).

The call returns a request handle at once; the image arrives later in a ``Response`` signal
on that handle, carrying a file URI. When the user refuses the permission dialog some
portals never answer, so the wait has a deadline.

D-Bus is spoken with ``jeepney``: pure Python, no C library and no event loop, so this layer
stays free of Qt and works in the plain CLI.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image, UnidentifiedImageError

from vlagent.capture.base import Availability, CaptureError, Shot
from vlagent.capture.session import WAYLAND, Session, detect

PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT_IFACE = "org.freedesktop.portal.Screenshot"
REQUEST_IFACE = "org.freedesktop.portal.Request"
TIMEOUT_S = 30.0  # long enough for a first-use permission dialog
RESPONSES = {1: "the screenshot was cancelled", 2: "the screenshot permission was refused or the portal failed"}


class PortalHandler:
    name = "portal"

    def __init__(self, session: Session | None = None, timeout: float = TIMEOUT_S):
        self.session = session or detect()
        self.timeout = timeout

    def available(self) -> Availability:
        if self.session.kind != WAYLAND:
            return Availability(False, "not a Wayland session")
        try:
            import jeepney  # noqa: F401
        except ImportError:
            return Availability(False, "jeepney is not installed (pip install jeepney)")
        try:
            with _connect() as conn:
                if not _portal_present(conn):
                    return Availability(False, f"no {PORTAL_NAME} service on the session bus")
        except (OSError, KeyError, TimeoutError) as e:
            return Availability(False, f"no D-Bus session bus ({e})")
        return Availability(True)

    def grab(self) -> Shot:
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy
        from jeepney.wrappers import DBusErrorResponse

        t0 = time.perf_counter()
        token = "vlagent_" + uuid.uuid4().hex[:12]
        try:
            with _connect() as conn:
                # Subscribe before calling, or a fast portal's answer could be missed.
                rule = MatchRule(type="signal", interface=REQUEST_IFACE, member="Response",
                                 path_namespace="/org/freedesktop/portal/desktop/request")
                Proxy(message_bus, conn, timeout=5).AddMatch(rule)
                portal = DBusAddress(PORTAL_PATH, bus_name=PORTAL_NAME, interface=SCREENSHOT_IFACE)
                call = new_method_call(portal, "Screenshot", "sa{sv}", (
                    "", {"handle_token": ("s", token), "modal": ("b", True), "interactive": ("b", False)}))
                with conn.filter(rule, bufsize=16) as responses:
                    reply = conn.send_and_get_reply(call, timeout=self.timeout)
                    if reply.header.message_type.name == "error":
                        raise CaptureError(f"the screenshot portal refused the call: {reply.body}")
                    handle = reply.body[0]
                    code, results = self._wait_for(conn, responses, handle, t0)
        except DBusErrorResponse as e:
            raise CaptureError(f"the screenshot portal refused the call: {e}") from e
        except TimeoutError:
            raise CaptureError(f"the screenshot portal did not answer in {self.timeout:.0f} s") from None
        except (OSError, KeyError) as e:
            raise CaptureError(f"cannot reach the D-Bus session bus: {e}") from e
        if code != 0:
            raise CaptureError(RESPONSES.get(code, f"the screenshot portal answered {code}"))
        uri = results.get("uri", ("s", ""))[1]
        image = _read_and_remove(uri)
        return Shot(image, [], handler=self.name, ms=(time.perf_counter() - t0) * 1000)

    def _wait_for(self, conn, responses, handle: str, t0: float) -> tuple[int, dict]:
        from jeepney import HeaderFields

        while True:
            left = max(self.timeout - (time.perf_counter() - t0), 0.001)
            try:
                msg = conn.recv_until_filtered(responses, timeout=left)
            except TimeoutError:
                raise CaptureError(
                    f"the screenshot portal did not answer in {self.timeout:.0f} s (permission refused, "
                    "or its dialog was left open)") from None
            if msg.header.fields.get(HeaderFields.path) == handle:
                return msg.body[0], msg.body[1]


def _connect():
    from jeepney.io.blocking import open_dbus_connection

    return open_dbus_connection(bus="SESSION", auth_timeout=2.0)


def _portal_present(conn) -> bool:
    from jeepney import message_bus
    from jeepney.io.blocking import Proxy

    bus = Proxy(message_bus, conn, timeout=2)
    if bus.NameHasOwner(PORTAL_NAME)[0]:
        return True
    return PORTAL_NAME in bus.ListActivatableNames()[0]


def _read_and_remove(uri: str) -> Image.Image:
    """Load the portal's file. The portal wrote it only for us, so it is removed afterwards
    (GNOME would otherwise leave one "Screenshot from …" per capture in ~/Pictures)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or not parsed.path:
        raise CaptureError(f"the screenshot portal returned no file ({uri!r})")
    path = Path(unquote(parsed.path))
    try:
        data = path.read_bytes()
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except (OSError, UnidentifiedImageError) as e:
        raise CaptureError(f"cannot read the portal's screenshot {path}: {e}") from e
    try:
        os.unlink(path)
    except OSError:
        pass
    return image

"""One desktop app per data home: a second launch hands its request to the running one over a
local socket (``QLocalServer``) and exits.

The socket's name is derived from the data home's path and the user, so two data homes run
two apps. A request is one JSON line, answered by one JSON line::

    {"action": "show"}                      raise the search window
    {"action": "search", "query": "小狗"}    open it with this query
    {"action": "capture_region", "question": null, "keep": null}
    {"action": "capture_screen"}

The client side (:func:`send_request`) needs no running event loop, so the CLI can call
it (``vlagent gui --search``, ``vlagent capture --region`` through the capture seam).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIONS = ("show", "search", "capture_region", "capture_screen")
CONNECT_TIMEOUT_MS = 1000
REPLY_TIMEOUT_MS = 5000
MAX_REQUEST_BYTES = 64 * 1024


def server_name(home) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers)
        user = "user"
    user = re.sub(r"[^A-Za-z0-9_.-]", "_", user)[:32]
    digest = hashlib.sha1(str(home.root.resolve()).encode("utf-8")).hexdigest()[:12]
    return f"vlagent-{user}-{digest}"


def send_request(home, request: dict, *, timeout_ms: int = REPLY_TIMEOUT_MS) -> dict | None:
    """Hand ``request`` to the app running on ``home``; its reply, or None when none runs."""
    sock = QLocalSocket()
    sock.connectToServer(server_name(home))
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return None
    try:
        sock.write(json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n")
        if not sock.waitForBytesWritten(timeout_ms):
            return None
        data = b""
        while b"\n" not in data:
            if not sock.waitForReadyRead(timeout_ms):
                return None
            data += bytes(sock.readAll().data())
        return json.loads(data.split(b"\n", 1)[0])
    except (ValueError, OSError) as e:
        log.warning("the running app sent an unreadable reply: %s", e)
        return None
    finally:
        sock.disconnectFromServer()


def region_handoff(home):
    """The ``handoff`` for :func:`vlagent.capture.region.request_region_capture`: True when a
    running app took the region capture over."""

    def handoff(request) -> bool:
        reply = send_request(home, {"action": "capture_region", "question": request.question,
                                    "keep": request.keep})
        return bool(reply and reply.get("ok"))

    return handoff


class InstanceServer(QObject):
    """Listens for second launches; ``requested(dict)`` fires for each valid request."""

    requested = Signal(dict)

    def __init__(self, home, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(home)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; False when another live app already listens on this data home."""
        # No socket options: with them Qt binds elsewhere and renames over the name, which
        # would silently take it from a running app. Plain bind fails when the name is taken.
        if self.server.listen(self.name):
            return True
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(CONNECT_TIMEOUT_MS):
            probe.disconnectFromServer()
            return False
        QLocalServer.removeServer(self.name)  # a socket file left by a crashed app
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():  # arrived before readyRead was connected
                self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        if len(data) > MAX_REQUEST_BYTES:
            self._reply(sock, {"ok": False, "error": "request too large"})
            return
        if b"\n" not in data:
            self._buffers[sock] = data
            return
        line = data.split(b"\n", 1)[0]
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or request.get("action") not in ACTIONS:
                raise ValueError(f"unknown request {line[:80]!r}")
        except ValueError as e:
            self._reply(sock, {"ok": False, "error": str(e)})
            return
        self._reply(sock, {"ok": True})
        self.requested.emit(request)

    def _reply(self, sock: QLocalSocket, reply: dict) -> None:
        self._buffers.pop(sock, None)
        sock.write(json.dumps(reply).encode("utf-8") + b"\n")
        sock.flush()
        sock.disconnectFromServer()

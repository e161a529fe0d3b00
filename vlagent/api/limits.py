"""The limits on the API's connections (``api.*`` settings) and the counters of what the
guard in :mod:`vlagent.api.connections` did. Light: the server object imports it at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

FD_RESERVE = 64  # files left for everything but connections: the index, logs, models, the worker
# Connections taken per turn of the event loop (uvicorn's backlog). The guard sees a connection
# a turn or two after it was accepted, and what it closes goes a turn later: files for a few
# batches in flight are kept free too, so a flood never meets the file limit.
ACCEPT_BATCH = 32
IN_FLIGHT = 4 * ACCEPT_BATCH
LISTEN_QUEUE = 2048  # connections the kernel holds for us meanwhile (they use none of our files)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    keep_alive_s: float = 5.0
    max_connections: int = 256
    max_per_client: int = 64

    @classmethod
    def from_settings(cls, settings) -> ConnectionLimits:
        api = settings.view.api
        return cls(header_timeout_s=api.header_timeout_s, body_timeout_s=api.body_timeout_s,
                   keep_alive_s=api.keep_alive_s, max_connections=min(api.max_connections, file_budget()),
                   max_per_client=api.max_connections_per_client)


def file_budget() -> int:
    """How many connections the process's file limit leaves room for (:data:`FD_RESERVE` and
    :data:`IN_FLIGHT` kept)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no such limit here (Windows)
        return 1 << 30
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(16, soft - FD_RESERVE - IN_FLIGHT)


@dataclass
class ConnectionStats:
    """What the guard did since the server started (read by the tests and bench/flood.py)."""

    opened: int = 0
    evicted: int = 0  # closed to make room for a newer connection
    refused: int = 0  # answered 503: no room, every connection busy with the token holder
    header_timeouts: int = 0
    body_timeouts: int = 0
    open_now: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def raw_error(status: int, reason: str, message: str, code: str) -> bytes:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error" if status < 500 else
                                 "server_error", "param": None, "code": code}}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body

"""The API's connections under abuse: uvicorn's h11 protocol with the limits uvicorn lacks.

uvicorn times out only a keep-alive connection that sits idle after a response. A client
that opens a connection and sends half a request line (or a body, a byte a minute) holds it
for ever, and some thousands of them use up the process's file limit: from then on nobody,
the token holder included, gets in. :class:`GuardedH11` adds, per connection:

- a head timeout (``api.header_timeout_s``): the whole request head (line and headers) must
  arrive within it, counted from the connection or from the end of the previous response;
  else 408 and close;
- a body timeout (``api.body_timeout_s``): once the head arrived, the body must arrive within it;
- the keep-alive time (``api.keep_alive_s``): uvicorn closes a connection idle that long
  between requests;

and across connections:

- per client address (``api.max_connections_per_client``): connections that have not sent a
  request with the token. Past the cap, the *oldest* of them is closed: a flood of half-open
  connections makes room for the next connection instead of locking it out. On loopback every
  client is 127.0.0.1, and this is what lets the token holder in during a flood: its
  connection is the newest and sends its whole request at once;
- in total (``api.max_connections``, and never closer to the process's file limit than
  ``limits.FD_RESERVE`` files plus a few accept batches): past it, the oldest connection that
  is not in the middle of a request with the token is closed (those that never sent the token
  first); when every one is, the new connection is answered 503.

A connection that has sent a request with the token is *proven*: the per-client cap leaves it
alone (a client keeping connections alive between its requests), and a request with the token
in progress is never cut for room. The timeouts apply to every connection.

uvicorn's backlog is also asyncio's accept batch; the server keeps it small
(``limits.ACCEPT_BATCH``) so that a flood is taken a few connections at a time and closed
before it piles up, and lengthens the kernel's queue again (``limits.LISTEN_QUEUE``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from vlagent.api.guard import bearer_matches
from vlagent.api.limits import ConnectionLimits, ConnectionStats, raw_error

log = logging.getLogger(__name__)

WARN_EVERY_S = 30.0  # at most one warning about a flood per this many seconds


class GuardedH11(H11Protocol):
    """One connection. Made by uvicorn through the subclass :func:`guarded_protocol` returns,
    which carries the token, the limits and the shared counters."""

    token: bytes | None = b""
    limits_now: Callable[[], ConnectionLimits] = ConnectionLimits
    stats: ConnectionStats = ConnectionStats()
    _warned: list[float] = [0.0]  # when a flood was last logged (shared through the subclass)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = type(self).limits_now()
        self.timeout_keep_alive = self.limits.keep_alive_s  # type: ignore[assignment]  # uvicorn types it int
        self.proven = False  # a request with the token came on this connection
        self.since = 0.0  # when it began waiting for its current request (the oldest is closed first)
        self._authed = False  # the request in progress carries the token
        self._seen: object = None  # the request cycle last looked at
        self._requests = 0
        self._phase: tuple[int, str] = (-1, "")
        self._timer: Any = None  # asyncio.TimerHandle

    # --- uvicorn's protocol hooks ----------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().connection_made(transport)
        self.stats.opened += 1
        self.stats.open_now += 1
        self._sync()
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.open_now -= 1
        self._cancel_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._sync()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._sync()

    # --- where the connection is -----------------------------------------------------
    @property
    def host(self) -> str | None:
        return self.client[0] if self.client else None

    @property
    def busy_with_token(self) -> bool:
        """In the middle of a request that carries the token: never closed for room."""
        return self._authed and self.cycle is not None and not self.cycle.response_complete

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _sync(self) -> None:
        """Look at the connection after uvicorn handled an event: note a new request (and
        whether it has the token), and arm the timeout of the phase it is in."""
        if self._closing():
            self._cancel_timer()
            return
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen:  # a whole request head arrived
            self._seen = cycle
            self._requests += 1
            # No token (--no-auth, loopback only): every whole request head counts as the token holder's.
            self._authed = self.token is None or bearer_matches(dict(cycle.scope["headers"]).get(b"authorization"),
                                                                self.token)
            self.proven = self.proven or self._authed
        if self.conn.their_state is h11.SEND_BODY:
            phase = "body"
        elif cycle is None or cycle.response_complete:
            phase = "head"  # waiting for the (next) request
        else:
            phase = "app"  # the request is in; the answer may take long (a streamed generation)
        if (self._requests, phase) == self._phase:
            return
        self._phase = (self._requests, phase)
        self._cancel_timer()
        if phase == "head":
            self.since = self.loop.time()
            self._timer = self.loop.call_later(self.limits.header_timeout_s, self._expired, "head")
        elif phase == "body":
            self._timer = self.loop.call_later(self.limits.body_timeout_s, self._expired, "body")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, phase: str) -> None:
        self._timer = None
        if self._closing():
            return
        if phase == "head":
            self.stats.header_timeouts += 1
            started = bool(self.conn.trailing_data[0])  # part of a request came: say why it ends
            message = (f"the request head did not arrive within {self.limits.header_timeout_s:g} s "
                       "(api.header_timeout_s)")
        else:
            self.stats.body_timeouts += 1
            started = self.cycle is not None and not self.cycle.response_started
            message = (f"the request body did not arrive within {self.limits.body_timeout_s:g} s "
                       "(api.body_timeout_s)")
        log.info("API: closing the connection from %s: %s", self.host, message)
        if started:
            self.transport.write(raw_error(408, "Request Timeout", message, "request_timeout"))
        self.transport.close()

    # --- room for one more -----------------------------------------------------------
    def _make_room(self) -> None:
        """Called for each new connection: enforce the per-client and total caps by closing
        the oldest connections that may be closed, or refuse this one."""
        if self._closing():
            return
        limits = self.limits
        others = [c for c in list(self.connections)
                  if c is not self and isinstance(c, GuardedH11) and not c._closing()]
        host = self.host
        unproven = sorted((c for c in others if c.host == host and not c.proven), key=lambda c: c.since)
        evict = unproven[:max(0, len(unproven) + 1 - limits.max_per_client)]
        why = f"more than {limits.max_per_client} from {host} without the token (api.max_connections_per_client)"
        excess = len(others) - len(evict) + 1 - limits.max_connections
        if excess > 0:
            chosen = set(evict)
            idle = sorted((c for c in others if c not in chosen and not c.busy_with_token),
                          key=lambda c: (c.proven, c.since))
            evict += idle[:excess]
            excess -= len(idle[:excess])
            why = f"more than {limits.max_connections} connections (api.max_connections)"
        for c in evict:
            c.transport.close()
        self.stats.evicted += len(evict)
        if excess > 0:
            self.stats.refused += 1
            why = f"more than {limits.max_connections} connections, all busy (api.max_connections)"
            self.transport.write(raw_error(503, "Service Unavailable", f"the API has {why}; retry shortly",
                                            "too_many_connections"))
            self.transport.close()
        if evict or excess > 0:
            self._warn(why)

    def _warn(self, why: str) -> None:
        now = time.monotonic()
        if now - self._warned[0] >= WARN_EVERY_S:
            self._warned[0] = now
            log.warning("API: %s: closing the oldest waiting connections (%s)", why, self.stats.as_dict())


def guarded_protocol(token: str | None, limits: Callable[[], ConnectionLimits],
                     stats: ConnectionStats) -> type[GuardedH11]:
    """The protocol class to give uvicorn (``Config(http=...)``): :class:`GuardedH11` with this
    server's token (None: no token is asked for), its limits (read at each new connection, so a
    settings change applies to the next one) and its counters."""
    return type("GuardedH11", (GuardedH11,), {"token": token.encode() if token is not None else None,
                                              "limits_now": staticmethod(limits), "stats": stats, "_warned": [0.0]})

"""The door every request passes: the bearer token (or, without one, this machine's Host and
Origin only), then the body size limit.

An ASGI middleware rather than per-route dependencies, so nothing — an unknown path, a
malformed body, a multipart upload — reaches the app without a token, and no body larger
than ``api.max_body_bytes`` is ever held in memory. The body is read here (up to the limit)
and handed on whole; after it, the app sees the client's own messages (a disconnect
stops a streamed answer).

Without a token (``vlagent serve --no-auth``, loopback only) any program on this machine may
use the API, and so could a web page in the user's browser: it can send requests to
127.0.0.1, and with DNS rebinding make its own name point there and read the answers. So
every request must name this machine in ``Host`` (localhost, a loopback address, ``0.0.0.0``
or the bound address), and a request from a browser page must come from this server's own
origin: a foreign ``Origin`` or a ``Sec-Fetch-Site`` of cross-site or same-site is refused
(403). Clients that are not browsers send neither and are let in.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from vlagent.api.errors import ApiError

# Past the limit, a declared body up to this many times the limit is read and dropped so
# the client gets the 413 instead of a reset connection; larger ones are cut off at once.
DRAIN_FACTOR = 4


def bearer_matches(header: bytes | None, token: bytes) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <token>`` (compared in constant time)."""
    if not header:
        return False
    scheme, _, value = header.partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), token)


def host_name(value: str) -> str:
    """The host of a ``Host`` header or an origin's netloc, without its port, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_local_name(host: str, allowed: set[str]) -> bool:
    if host in allowed:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    def __init__(self, app, token: str | None, max_body: int, open_paths: tuple[str, ...] = ("/health", "/version"),
                 allowed_hosts: set[str] | None = None, port: int | None = None):
        """``token`` None: no token is asked for, and ``allowed_hosts`` (the names of this machine)
        limit the ``Host`` and ``Origin`` a request may carry."""
        self.app = app
        self.token = token.encode() if token is not None else None
        self.max_body = max_body
        self.open_paths = open_paths
        self.allowed_hosts = allowed_hosts
        self.port = port

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        if self.allowed_hosts is not None:
            problem = self._foreign(headers)
            if problem:
                return await _send(scope, receive, send, ApiError(403, problem, code="forbidden"))
        if self.token is not None and scope["path"] not in self.open_paths:
            problem = self._auth_problem(headers.get(b"authorization"))
            if problem:
                return await _send(scope, receive, send, ApiError(401, problem, code="invalid_api_key",
                                                  headers={"WWW-Authenticate": "Bearer"}))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            if int(declared) <= self.max_body * DRAIN_FACTOR:
                await _drain(receive)
            return await _send(scope, receive, send, self._too_large(int(declared)))
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and declared in (None, b"0"):
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return await _send(scope, receive, send, self._too_large(None))
            if not message.get("more_body"):
                break
        return await self.app(scope, _replay(bytes(body), receive), send)

    def _foreign(self, headers: dict) -> str | None:
        """Why a request without a token is refused: a Host that is not this machine, or a
        browser page of another origin; None when it may go on."""
        allowed = self.allowed_hosts or set()
        host = headers.get(b"host")
        if host is not None and not is_local_name(host_name(host.decode("latin-1")), allowed):
            return (f"the Host {host.decode('latin-1')!r} is not this machine: without a token (--no-auth) only "
                    "localhost, a loopback address or 0.0.0.0 is answered (a guard against DNS rebinding)")
        origin = headers.get(b"origin")
        if origin is not None:
            o = urlsplit(origin.decode("latin-1").strip())
            same = (o.scheme in ("http", "https") and is_local_name((o.hostname or "").lower(), allowed)
                    and (o.port or (443 if o.scheme == "https" else 80)) == self.port)
            if not same:
                return (f"requests from the web page at {origin.decode('latin-1')!r} are refused: without a token "
                        "(--no-auth) only this server's own pages may call it")
        site = headers.get(b"sec-fetch-site")
        if site in (b"cross-site", b"same-site"):
            return ("requests from another site's web page are refused: without a token (--no-auth) only this "
                    "server's own pages may call it")
        return None

    def _auth_problem(self, header: bytes | None) -> str | None:
        if not header:
            return ("missing API key: send the header 'Authorization: Bearer <token>' "
                    "(the command 'vlagent api-token' prints the token)")
        if self.token is None or not bearer_matches(header, self.token):
            return "incorrect API key (the command 'vlagent api-token' prints the right one)"
        return None

    def _too_large(self, size: int | None) -> ApiError:
        what = f"{size:,} bytes" if size is not None else "the request body"
        return ApiError(413, f"{what} is over the limit of {self.max_body:,} bytes (api.max_body_bytes)",
                        code="request_too_large")


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drain(receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _send(scope, receive, send, error: ApiError) -> None:
    await error.response()(scope, receive, send)

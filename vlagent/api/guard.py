"""The door every request passes: the bearer token, then the body size limit.

An ASGI middleware rather than per-route dependencies, so nothing — an unknown path, a
malformed body, a multipart upload — reaches the app without a token, and no body larger
than ``api.max_body_bytes`` is ever held in memory. The body is read here (up to the limit)
and handed on whole; after it, the app sees the client's own messages (a disconnect
stops a streamed answer).
"""

from __future__ import annotations

import hmac

from vlagent.api.errors import ApiError

# Past the limit, a declared body up to this many times the limit is read and dropped so
# the client gets the 413 instead of a reset connection; larger ones are cut off at once.
DRAIN_FACTOR = 4


class Guard:
    def __init__(self, app, token: str, max_body: int, open_paths: tuple[str, ...] = ("/health",)):
        self.app = app
        self.token = token.encode()
        self.max_body = max_body
        self.open_paths = open_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        if scope["path"] not in self.open_paths:
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

    def _auth_problem(self, header: bytes | None) -> str | None:
        if not header:
            return ("missing API key: send the header 'Authorization: Bearer <token>' "
                    "(the command 'vlagent api-token' prints the token)")
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
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

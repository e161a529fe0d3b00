"""The web face's door: an ASGI middleware in front of the API's bearer-token guard.

Requests for the web face (``/``, ``/login``, ``/logout``, ``/favicon.ico``, ``/web/…``) are
checked here (see :mod:`vlagent.web.auth`): the Host header, then the session cookie (or the
API's bearer token), then, for anything but GET/HEAD, the CSRF header and the Origin. What is
let through goes on to the API's guard with the API's bearer token added, so the guard's body
limit applies to uploads as to every API request; every other path goes to the guard as it
came (``/v1/…`` wants its bearer token as before). Every answer to a web path gets the
security headers: a strict Content-Security-Policy (everything from this origin, nothing
inline, no frames), no referrer to other sites (and an Origin header on our own
requests: "no-referrer" would make Chromium send "Origin: null" with a form), no sniffing, no caching of pages and data.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response

from vlagent.api.guard import bearer_matches
from vlagent.web.auth import CSRF_HEADER, SAFE_METHODS, WebAuth, cookie_name, host_ok, read_cookie, same_origin

WEB_PATHS = ("/", "/login", "/logout", "/favicon.ico")
WEB_PREFIX = "/web/"
# Open without a session: the login page and what it shows (its stylesheet and icon are the
# package's own files, the same for everyone).
PUBLIC = ("/login", "/favicon.ico", "/web/static/app.css", "/web/static/icon.svg")
PAGES = ("/",)  # without a session these send the browser to the login page
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
SESSION_SCOPE_KEY = "vlagent.web.session"


def is_web_path(path: str) -> bool:
    return path in WEB_PATHS or path.startswith(WEB_PREFIX)


class WebGate:
    def __init__(self, guarded: Any, auth: WebAuth, token: str | None):
        self.guarded = guarded
        self.auth = auth
        self._bearer = f"Bearer {token}".encode() if token else None
        self._token = token.encode() if token else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            return await self.guarded(scope, receive, send)
        send = _with_security_headers(send)
        problem = self._check(scope)
        if problem is not None:
            return await problem(scope, receive, send)
        headers = [(k, v) for k, v in scope.get("headers") or () if k != b"authorization"]
        if self._bearer is not None:
            headers.append((b"authorization", self._bearer))
        return await self.guarded(dict(scope, headers=headers), receive, send)

    def _check(self, scope: dict) -> Response | None:
        """None when the request may go on (and the scope then names its session), else the refusal."""
        headers = _headers(scope)
        server = scope.get("server") or (None, None)
        # (Without auth the API's guard holds every request to this machine's names and origin.)
        if self.auth.auth and not host_ok(headers.get("host"), server[0], server[1]):
            return _refuse(421, "this server does not answer for that host name (use 127.0.0.1 or localhost)",
                           "wrong_host")
        path, method = scope["path"], scope["method"]
        session = self.auth.session(read_cookie(headers.get("cookie"), cookie_name(server[1])))
        scope[SESSION_SCOPE_KEY] = session
        bearer = self._token is not None and bearer_matches(headers.get("authorization", "").encode(), self._token)
        signed_in = bearer or session is not None or not self.auth.auth
        if not signed_in and path not in PUBLIC:
            if method in SAFE_METHODS and path in PAGES:
                return RedirectResponse("/login", status_code=303, headers={"Cache-Control": "no-store"})
            return _refuse(401, "sign in first: open the login link 'vlagent serve' printed", "not_signed_in")
        if method in SAFE_METHODS or bearer:
            return None
        # A change of state: from this very page only.
        origin, fetch_site = headers.get("origin"), headers.get("sec-fetch-site")
        if origin is not None and not same_origin(origin, headers.get("host"), scope.get("scheme", "http")):
            return _refuse(403, "cross-site request refused", "cross_site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return _refuse(403, "cross-site request refused", "cross_site")
        if path == "/login":
            if origin is None and fetch_site is None:
                return _refuse(403, "sign in from the login page", "cross_site")
            return None  # it checks the token it is given
        if not self.auth.csrf_ok(session, headers.get(CSRF_HEADER)):
            return _refuse(403, "missing or wrong CSRF token (reload the page)", "csrf")
        return None


def _headers(scope: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers") or ():
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        out[name] = f"{out[name]}; {value}" if name == "cookie" and name in out else value
    return out


def _refuse(status: int, message: str, code: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}},
                        status_code=status, headers={"Cache-Control": "no-store"})


def _with_security_headers(send: Any) -> Any:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            have = {k.lower() for k, _ in message.get("headers") or ()}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in have]
            if b"cache-control" not in have:
                extra.append((b"cache-control", b"no-store"))
            message = dict(message, headers=[*(message.get("headers") or ()), *extra])
        await send(message)

    return wrapped

"""Who may use the web face: the login, the session cookie, CSRF and the Host/Origin rules.

No HTTP framework here (plain bytes and strings), so the rules can be read and tested alone.

- **Login.** ``vlagent serve`` prints a one-time URL, ``/login?token=ONE-TIME`` (as Jupyter
  does). The first visit spends it and gets a session; the URL is worthless after. Another
  browser signs in on ``/login`` with the API token (``vlagent api-token``).
- **Session.** A cookie ``vlagent_session_<port>`` (HttpOnly, SameSite=Strict, Path=/;
  a name per port, because browsers share cookies between the ports of one host) holding
  ``<id>.<expiry>.<mac>``: an HMAC under a key derived from the API token. Nothing is stored
  on the server, so a session survives a restart of ``serve``, and ``vlagent api-token
  --regenerate`` ends every session. Logging out revokes that session id in this process.
- **CSRF.** Every request that changes state (any method but GET/HEAD) carries the header
  ``X-CSRF-Token`` with the session's CSRF token (an HMAC of the session id, put in the page),
  and, when the browser sends ``Origin`` / ``Sec-Fetch-Site``, they must say the request comes
  from this very origin. A cross-site form or ``fetch`` can neither read the token nor send
  the cookie (SameSite=Strict).
- **Host.** On a loopback address the ``Host`` header must name loopback (``localhost``,
  ``127.0.0.1``, ``[::1]``): a DNS-rebinding page (``evil.example`` resolving to 127.0.0.1)
  is refused before any cookie or token matters.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass

SESSION_DAYS = 30
SESSION_S = SESSION_DAYS * 86400
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD")
LOOPBACK_NAMES = ("localhost", "localhost.")


def _mac(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    sid: str
    expires: int


class WebAuth:
    """The web face's secrets for one server: derived from the API token (``None``: ``--no-auth``,
    every visitor is let in, and only the Host/Origin/CSRF rules hold)."""

    def __init__(self, api_token: str | None, *, session_s: int = SESSION_S):
        self.auth = api_token is not None
        self._api_token = (api_token or "").encode()
        secret = api_token.encode() if api_token is not None else secrets.token_bytes(32)
        self._key = hmac.new(secret, b"vlagent-web-session-v1", hashlib.sha256).digest()
        self.session_s = session_s
        self._lock = threading.Lock()
        self._one_time: set[str] = set()
        self._revoked: dict[str, int] = {}  # sid -> its expiry (dropped once past it)

    # --- the one-time login URL ------------------------------------------------------------
    def new_login_token(self) -> str:
        """A token for one login (``/login?token=…``): spent on first use."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._one_time.add(token)
        return token

    def spend_login_token(self, token: str) -> bool:
        with self._lock:
            for known in self._one_time:
                if hmac.compare_digest(known.encode(), token.encode()):
                    self._one_time.discard(known)
                    return True
        return False

    def api_token_matches(self, token: str) -> bool:
        return self.auth and hmac.compare_digest(token.strip().encode(), self._api_token)

    # --- sessions ------------------------------------------------------------------------
    def new_session(self, now: float | None = None) -> tuple[Session, str]:
        """A new session and its cookie value."""
        s = Session(secrets.token_urlsafe(18), int((now or time.time()) + self.session_s))
        return s, f"{s.sid}.{s.expires}.{_mac(self._key, f'{s.sid}.{s.expires}')}"

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie value holds, when it is genuine, unexpired and not revoked."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        sid, expires, mac = parts
        if not hmac.compare_digest(mac.encode(), _mac(self._key, f"{sid}.{expires}").encode()):
            return None
        now = now or time.time()
        if int(expires) <= now:
            return None
        with self._lock:
            if sid in self._revoked:
                return None
        return Session(sid, int(expires))

    def revoke(self, session: Session) -> None:
        now = time.time()
        with self._lock:
            self._revoked = {s: e for s, e in self._revoked.items() if e > now}
            self._revoked[session.sid] = session.expires

    def csrf_token(self, session: Session | None) -> str:
        """The token the page sends back in ``X-CSRF-Token`` (one per session; one per server
        without auth)."""
        return _mac(self._key, "csrf." + (session.sid if session else "no-auth"))[:40]

    def csrf_ok(self, session: Session | None, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self.csrf_token(session).encode())


def cookie_name(port: int | None) -> str:
    return f"vlagent_session_{port}" if port else "vlagent_session"


def session_cookie(name: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, for the whole site."""
    return f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"


def clear_cookie(name: str) -> str:
    return f"{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"


def read_cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


# --- Host and Origin ---------------------------------------------------------------------
def split_host(host: str) -> tuple[str, int | None]:
    """``Host`` header → (name, port); the name lower-case, IPv6 without brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name, int(port) if port.isdigit() else None


def is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_ok(host: str | None, bound_host: str | None, port: int | None) -> bool:
    """Whether the ``Host`` header fits the address the server listens on: on loopback it must
    name loopback and the server's port (a DNS-rebinding page names its own host)."""
    if not host:
        return False
    name, hport = split_host(host)
    if bound_host is not None and is_loopback_name(bound_host.strip("[]").lower()):
        return is_loopback_name(name) and (port is None or hport in (None, port))
    return bool(name)


def same_origin(origin: str | None, host: str | None, scheme: str = "http") -> bool:
    """Whether an ``Origin`` header names this server (as the ``Host`` header the browser sent it)."""
    if not origin or not host or origin == "null":
        return False
    return origin.rstrip("/").lower() == f"{scheme}://{host}".lower()

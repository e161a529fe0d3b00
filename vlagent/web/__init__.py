"""The web face: vlagent in a browser, served by ``vlagent serve`` (and by the agent the desktop
app runs when its API is on) at ``/``, behind the API's token.

Stack: HTML rendered by the server from templates in ``resources/web/`` plus one small
hand-written ES module (vanilla JavaScript, no framework, no build step, no Node), its
stylesheet and icon, all served by vlagent itself (no CDN: it works offline and leaks
nothing; a strict Content-Security-Policy says so to the browser).

- :mod:`vlagent.web.auth`: the one-time login URL, the session cookie, CSRF, Host/Origin rules;
- :mod:`vlagent.web.gate`: the ASGI door in front of the API's bearer-token guard;
- :mod:`vlagent.web.routes`: the pages and the JSON / streamed endpoints the page uses;
- :mod:`vlagent.web.i18n`: English and Chinese, following the browser.

This module stays light (no FastAPI at import): ``vlagent serve`` imports it to print the
login URL.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vlagent.web.auth import WebAuth

# The web face of each running API service (a service is made once per server).
_AUTH: weakref.WeakKeyDictionary[Any, WebAuth] = weakref.WeakKeyDictionary()


def mount(app: Any, guarded: Any, service: Any, token: str | None) -> Any:
    """Add the web face to the API's FastAPI ``app`` and return the ASGI app to serve: the web's
    gate in front of ``guarded`` (the API's bearer-token guard around ``app``). ``token`` is the
    API token; None when the API runs without auth (``--no-auth``)."""
    from vlagent.web.auth import WebAuth
    from vlagent.web.gate import WebGate
    from vlagent.web.routes import router

    auth = WebAuth(token)
    app.state.web_auth = auth
    app.include_router(router)
    _AUTH[service] = auth
    return WebGate(guarded, auth, token)


def login_message(server: Any) -> str:
    """The line ``vlagent serve`` prints for the browser: the one-time login URL (or, without auth,
    the page's URL)."""
    url = login_url(server)
    if url is None:
        return "vlagent in a browser: not available"
    how = "this link signs in once" if "/login?token=" in url else "no sign-in: --no-auth"
    return f"vlagent in a browser ({how}): {url}"


def login_url(server: Any) -> str | None:
    """A new one-time login URL for a started :class:`~vlagent.api.server.ApiServer`
    (``<url>/login?token=…``; the URL of the page itself when it runs without auth), or
    None when the server has no web face."""
    auth = _AUTH.get(server.service) if server.service is not None else None
    if auth is None:
        return None
    if not auth.auth:
        return server.url + "/"
    return f"{server.url}/login?token={auth.new_login_token()}"

"""``vlagent mcp --http``: the MCP server over streamable HTTP, behind the same door as the API.

- The address: loopback unless ``--allow-remote`` (or ``api.allow_remote``), the rule of
  ``vlagent serve`` (:func:`vlagent.api.server.check_host`); on loopback the SDK's DNS-rebinding
  protection checks the Host and Origin headers too.
- The token: every request needs ``Authorization: Bearer <token>``, the API's token
  (:mod:`vlagent.api.token`, printed by ``vlagent api-token``); without it the answer is 401
  before the SDK sees the request.
- The connections: uvicorn with the API's connection guard (:mod:`vlagent.api.connections`:
  head and body timeouts, caps per client and in total, the ``api.*`` limits), so half-open
  connections cannot lock the token holder out.

The endpoint is ``http://HOST:PORT/mcp``. It runs in the foreground until Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.mcp.tools import McpTools
    from vlagent.settings import Settings

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
DEFAULT_PORT = 8766  # next to the API's 8765
START_TIMEOUT_S = 15.0


class BearerGate:
    """ASGI middleware: an HTTP request without the bearer token is answered 401 here."""

    def __init__(self, app: Any, token: str):
        from vlagent.api.guard import bearer_matches

        self.app = app
        self.token = token.encode()
        self.matches = bearer_matches

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or ()).get(b"authorization")
            if not self.matches(header, self.token):
                problem = ("missing API key: send the header 'Authorization: Bearer <token>'" if not header
                           else "incorrect API key") + " (the command 'vlagent api-token' prints the token)"
                body = json.dumps({"error": {"message": problem, "code": "invalid_api_key"}}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def url_of(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{MCP_PATH}"


def serve_http(tools: McpTools, home: Home, settings: Settings, *, host: str, port: int, allow_remote: bool,
               on_ready: Callable[[str], None] | None = None) -> None:
    """Bind, serve, call ``on_ready(url)`` once requests are accepted, and go on until SIGINT or
    SIGTERM. Raises :class:`~vlagent.api.server.ApiConfigError` for a public address without
    ``allow_remote``, :class:`OSError` when the port cannot be bound, :class:`RuntimeError` when
    the server fails."""
    import uvicorn

    from vlagent.api.connections import guarded_protocol
    from vlagent.api.limits import ConnectionLimits, ConnectionStats
    from vlagent.api.server import bind, check_host
    from vlagent.api.token import load_or_create
    from vlagent.mcp.server import build_server

    check_host(host, allow_remote)
    home.ensure()
    token = load_or_create(home)
    app = build_server(tools).streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    limits = ConnectionLimits.from_settings(settings)
    http = guarded_protocol(token, lambda: ConnectionLimits.from_settings(settings), ConnectionStats())
    config = uvicorn.Config(BearerGate(app, token), log_level="warning", access_log=False, lifespan="on", ws="none",
                            http=http, loop="asyncio", timeout_graceful_shutdown=3, server_header=False,
                            timeout_keep_alive=limits.keep_alive_s,  # type: ignore[arg-type]  # int in its hint
                            backlog=max(16, min(2048, limits.max_connections // 2)))
    server = uvicorn.Server(config)
    sock = bind(host, port)
    errors: list[BaseException] = []

    def serve() -> None:  # on a thread, so that the signals stay ours (uvicorn re-raises those it caught)
        try:
            server.run(sockets=[sock])
        except BaseException as e:
            errors.append(e)
            log.exception("the MCP HTTP server stopped on an error")
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name="vlagent-mcp-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            raise RuntimeError(f"the MCP HTTP server did not start: {errors[0] if errors else 'timed out'}")
        time.sleep(0.01)
    if on_ready is not None:
        on_ready(url_of(host, sock.getsockname()[1]))
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while thread.is_alive() and not stop.wait(0.5):
            pass
    finally:
        server.should_exit = True
        thread.join(10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(2)
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if errors:
        raise RuntimeError(f"the MCP HTTP server stopped: {errors[0]}")

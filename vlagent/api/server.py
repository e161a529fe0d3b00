"""The API server object: uvicorn on a background thread, serving a running agent.

``vlagent serve`` and the desktop app use it the same way::

    agent = Agent(home, settings, folders=[]).start()
    server = ApiServer(agent).start()      # binds now; raises ApiConfigError / OSError
    print(server.url, server.token)
    ...
    server.stop()                          # then agent.stop()

It binds to loopback unless told otherwise; any other address needs ``allow_remote``
(``--allow-remote`` or ``api.allow_remote``) and still needs the token. ``vlagent serve``
passes :class:`ServeOptions` too (vLLM's flags: ``--api-key``, ``--served-model-name``,
``--max-model-len``, ``--limit-mm-per-prompt``; and ``--no-auth``, loopback only) and calls
:meth:`ApiServer.load_model` before :meth:`ApiServer.start`, so the model is loaded and warm
before the first request is accepted. Every connection
goes through :mod:`vlagent.api.connections` (head and body timeouts, keep-alive, caps per
client and in total), so slow or half-open clients cannot lock the token holder out.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vlagent.api.limits import ACCEPT_BATCH, LISTEN_QUEUE, ConnectionLimits, ConnectionStats
from vlagent.api.token import load_or_create

if TYPE_CHECKING:
    import uvicorn

    from vlagent.api.service import ApiService
    from vlagent.worker.agent import Agent

log = logging.getLogger(__name__)


class ApiConfigError(ValueError):
    """A server configuration refused on purpose (e.g. a public address without allow_remote)."""


@dataclass
class ServeOptions:
    """How ``vlagent serve`` was asked to behave (vLLM's flags of the same names)."""

    api_key: str | None = None  # this key instead of the generated token
    no_auth: bool = False  # no token at all: loopback only, foreign Host and Origin refused
    served_model_names: list[str] = field(default_factory=list)  # the first is the one /v1/models lists first
    max_model_len: int | None = None  # prompt + completion tokens, at most
    max_images: int | None = None  # images per request (--limit-mm-per-prompt image=N)
    max_tokens_cap: int | None = None  # a request's max_tokens, at most (--override-generation-config)


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is this machine's loopback."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ApiConfigError(f"cannot resolve the API host {host!r}: {e.strerror}") from None
    # (i[4][0] is the address: a str for the IPv4/IPv6 families asked for here)
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def check_host(host: str, allow_remote: bool) -> None:
    if not allow_remote and not is_loopback(host):
        raise ApiConfigError(f"binding the API to {host} would let other machines reach it; pass --allow-remote "
                             "(or set api.allow_remote) to do that on purpose — the token is still required")


def bind(host: str, port: int) -> socket.socket:
    try:
        family, type_, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                           flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise ApiConfigError(f"cannot resolve the API host {host!r}: {e.strerror}") from None
    sock = socket.socket(family, type_, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    return sock


class ApiServer:
    def __init__(self, agent: Agent, *, host: str | None = None, port: int | None = None,
                 allow_remote: bool | None = None, options: ServeOptions | None = None):
        """``agent``: the :class:`~vlagent.worker.agent.Agent` whose worker answers the requests
        (started before :meth:`start`). Unset arguments come from the ``api.*`` settings.
        Raises :class:`ApiConfigError` for an address other machines can reach without
        ``allow_remote``, and for ``no_auth`` anywhere but on loopback."""
        api = agent.settings.view.api
        self.agent = agent
        self.host = host or api.host
        self.requested_port = api.port if port is None else int(port)
        self.allow_remote = api.allow_remote if allow_remote is None else allow_remote
        self.options = options or ServeOptions()
        check_host(self.host, self.allow_remote)
        if self.options.no_auth and not is_loopback(self.host):
            raise ApiConfigError(f"--no-auth is allowed on loopback only: without a token, anyone who reaches "
                                 f"{self.host} could use the model and read the index")
        if self.options.no_auth and self.options.api_key:
            raise ApiConfigError("--no-auth and --api-key contradict each other: pass one of them")
        if self.options.api_key is not None and not self.options.api_key.strip():
            raise ApiConfigError("--api-key is empty (pass --api-key EMPTY for the key 'EMPTY', or --no-auth)")
        self.token: str | None = None
        self.port: int | None = None
        self.service: ApiService | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._sock: socket.socket | None = None  # bound by reserve(), listened on by start()
        self.connection_stats = ConnectionStats()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 60.0) -> ApiServer:
        """Bind and serve on a background thread; returns once requests are accepted (waiting
        up to ``timeout`` seconds for the worker, then for the server: a loaded laptop may
        take a while to start both)."""
        import uvicorn

        from vlagent.api.app import create_app
        from vlagent.api.connections import guarded_protocol
        from vlagent.api.service import ApiService

        if self.running:
            return self
        self.token = self._token()
        self.agent.worker.wait_started(timeout)  # its job runner exists from then on
        sock = self.reserve()
        self._sock = None
        service = self.service = ApiService(self.agent, self.options) if self.service is None else self.service
        service.scheduler.reopen()  # (a server started again after stop())
        app = create_app(service, self.token, self.agent.settings.view.api.max_body_bytes,
                         allowed_hosts=self.allowed_hosts(), port=self.port)
        settings = self.agent.settings
        limits = ConnectionLimits.from_settings(settings)
        if limits.max_connections < settings.view.api.max_connections:
            log.warning("api.max_connections %d is over what the file limit allows: at most %d connections",
                        settings.view.api.max_connections, limits.max_connections)
        http = guarded_protocol(self.token, lambda: ConnectionLimits.from_settings(settings), self.connection_stats)
        # A small accept batch: a flood is taken a few connections per turn of the loop, and the
        # guard closes the excess before it piles up (see limits.IN_FLIGHT).
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none", http=http,
                                loop="asyncio", timeout_graceful_shutdown=5, server_header=False,
                                timeout_keep_alive=limits.keep_alive_s,  # type: ignore[arg-type]  # int in its hint
                                backlog=ACCEPT_BATCH)
        server = self._server = uvicorn.Server(config)
        self._error = None
        self._thread = threading.Thread(target=self._serve, args=(server, sock), name="vlagent-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop(1)
                raise RuntimeError(f"the API server did not start: {self._error or 'timed out'}")
            time.sleep(0.01)
        # uvicorn's backlog is also asyncio's accept batch, kept small above; the kernel's queue of
        # connections waiting to be accepted is made long again, so a flood does not make the
        # kernel drop the token holder's connection attempt (a retry a second later).
        with contextlib.suppress(OSError):  # (already closed: the server stopped at once)
            sock.listen(LISTEN_QUEUE)
        log.info("API listening on %s", self.url)
        return self

    def reserve(self) -> socket.socket:
        """Bind the address now (a port in use fails here, before a long model load); nothing
        is accepted until :meth:`start` listens on it."""
        if self._sock is None:
            self._sock = bind(self.host, self.requested_port)
            self.port = self._sock.getsockname()[1]
        return self._sock

    def _token(self) -> str | None:
        """The key clients must send: ``--api-key``'s, none with ``--no-auth``, else the data home's token."""
        if self.options.no_auth:
            return None
        if self.options.api_key is not None:
            return self.options.api_key.strip()
        return load_or_create(self.agent.home)

    def allowed_hosts(self) -> set[str] | None:
        """Without a token: the ``Host`` names a request may carry (this machine's), else None (any)."""
        if not self.options.no_auth:
            return None
        return {"localhost", "0.0.0.0", self.host.strip("[]").lower()}  # and any loopback address (guard)

    def load_model(self, timeout: float | None = None) -> float | None:
        """Load the model and run a one-token warm-up, on the worker, before :meth:`start`
        (``vlagent serve``: ready before it listens). Returns the seconds it took, or None when
        there is no local model to load (logged; the API then answers model requests 503)."""
        from vlagent.api.service import ApiService

        self.agent.worker.wait_started(timeout)
        if self.service is None:
            self.service = ApiService(self.agent, self.options)
        return self.service.load_model(timeout)

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as e:  # kept for start() to report
            self._error = e
            log.exception("the API server stopped on an error")
        finally:
            sock.close()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop serving: generations started by API requests are cancelled, connections closed.
        The agent keeps running. Returns False if the server thread did not end in time."""
        if self.service is not None:
            self.service.close()
        if self._sock is not None:  # reserved, never served
            self._sock.close()
            self._sock = None
        server = self._server
        if server is not None:
            server.should_exit = True
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if self._thread.is_alive() and server is not None:  # (a thread is only started with a server)
            server.force_exit = True
            self._thread.join(2)
        return not self._thread.is_alive()

"""The API server object: uvicorn on a background thread, serving a running agent.

``vlagent serve`` and the desktop app use it the same way::

    agent = Agent(home, settings, folders=[]).start()
    server = ApiServer(agent).start()      # binds now; raises ApiConfigError / OSError
    print(server.url, server.token)
    ...
    server.stop()                          # then agent.stop()

It binds to loopback unless told otherwise; any other address needs ``allow_remote``
(``--allow-remote`` or ``api.allow_remote``) and still needs the token.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING

from vlagent.api.token import load_or_create

if TYPE_CHECKING:
    import uvicorn

    from vlagent.api.service import ApiService
    from vlagent.worker.agent import Agent

log = logging.getLogger(__name__)


class ApiConfigError(ValueError):
    """A server configuration refused on purpose (e.g. a public address without allow_remote)."""


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
                 allow_remote: bool | None = None):
        """``agent``: the :class:`~vlagent.worker.agent.Agent` whose worker answers the requests
        (started before :meth:`start`). Unset arguments come from the ``api.*`` settings.
        Raises :class:`ApiConfigError` for an address other machines can reach without
        ``allow_remote``."""
        api = agent.settings.view.api
        self.agent = agent
        self.host = host or api.host
        self.requested_port = api.port if port is None else int(port)
        self.allow_remote = api.allow_remote if allow_remote is None else allow_remote
        check_host(self.host, self.allow_remote)
        self.token: str | None = None
        self.port: int | None = None
        self.service: ApiService | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> ApiServer:
        """Bind and serve on a background thread; returns once requests are accepted."""
        import uvicorn

        from vlagent.api.app import create_app
        from vlagent.api.service import ApiService

        if self.running:
            return self
        self.token = load_or_create(self.agent.home)
        self.agent.worker.wait_started(timeout)  # its job runner exists from then on
        sock = bind(self.host, self.requested_port)
        self.port = sock.getsockname()[1]
        self.service = ApiService(self.agent) if self.service is None else self.service
        app = create_app(self.service, self.token, self.agent.settings.view.api.max_body_bytes)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none", http="h11",
                                loop="asyncio", timeout_graceful_shutdown=5, server_header=False)
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
        log.info("API listening on %s", self.url)
        return self

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

"""The API under abuse, on loopback against a real ``vlagent serve`` whose file limit is
lowered (so a flood that the server kept open would run it out of files): half-open
connections are closed (the oldest first when one client holds too many, any after the head
timeout), a slow body is cut off, and the token holder gets through during a flood, on a new
connection and on the keep-alive connection it already had."""

from __future__ import annotations

import http.client
import json
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.api.conftest import write_config
from tests.conftest import REPO, cli_env

SERVER_FILES = 256  # the server's RLIMIT_NOFILE: a flood it kept open would exhaust it
FLOOD = 400  # half-open connections, more than the server has files for
HALF_REQUEST = b"GET /v1/sea"  # half a request line: the head never completes


class Serve:
    def __init__(self, home: Path, api: dict):
        write_config(home, {"general": {"language": "en"}, "ocr": {"enabled": False}, "api": api})
        self.log = home.parent / "serve.log"

        def limit_files() -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FILES, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "vlagent", "serve", "--port", "0"], cwd=str(REPO),
                                         env=cli_env(home), stdout=subprocess.PIPE, stderr=err,
                                         preexec_fn=limit_files)
        found: dict = {}
        ready = threading.Event()

        def read() -> None:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                if "listening on " in line and "port" not in found:
                    found["port"] = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120) or "port" not in found:
            self.proc.kill()
            raise AssertionError(f"vlagent serve did not start:\n{self.log.read_text()}")
        self.port = found["port"]
        self.token = (home / "api-token").read_text().strip()

    def request(self, conn: http.client.HTTPConnection | None = None) -> http.client.HTTPResponse:
        """GET /v1/search with the token (a new connection unless one is given); the body is read."""
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", "/v1/search?q=flood", headers={"Authorization": f"Bearer {self.token}"})
        resp = conn.getresponse()
        resp.read()
        return resp

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def serve(tmp_path):
    started = []

    def _start(**api) -> Serve:
        s = Serve(tmp_path / f"home{len(started)}", api)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.stop()


def half_open(port: int, n: int, data: bytes = HALF_REQUEST) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if data:
            s.sendall(data)
        socks.append(s)
    return socks


def wait_closed(socks: list[socket.socket], want: int, timeout: float = 60) -> dict[socket.socket, bytes]:
    """Wait (bounded) until the server has closed ``want`` of ``socks``; returns the closed
    ones, each with what the server sent on it before closing."""
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    closed: dict[socket.socket, bytes] = {}
    received: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(closed) < want and time.monotonic() < deadline:
            for key, _ in sel.select(0.5):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                if data:
                    received[s] = received.get(s, b"") + data
                    continue
                sel.unregister(s)
                closed[s] = received.pop(s, b"")
    finally:
        sel.close()
    return closed


def error_408(answer: bytes) -> str:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    return json.loads(body)["error"]["message"]


def test_the_token_holder_gets_through_a_flood_of_half_open_connections(serve):
    # No reaping by timeout here: room is made by closing the oldest half-open connection.
    server = serve(max_connections_per_client=16, header_timeout_s=300, keep_alive_s=300)
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    assert server.request(kept).status == 200  # a keep-alive connection that has shown the token
    kept_sock = kept.sock

    flood = half_open(server.port, FLOOD)
    try:
        # A new connection with the token while the flood is held: more half-open connections
        # than the server has files for; without the guard it could not even accept this one.
        assert server.request().status == 200
        assert server.request(kept).status == 200 and kept.sock is kept_sock  # the proven one was left alone
        # The oldest went to make room: the server holds at most 16 of them.
        closed = wait_closed(flood, FLOOD - 16)
        assert len(closed) >= FLOOD - 16 and not any(closed.values())
    finally:
        for s in flood:
            s.close()
        kept.close()
    log = server.log.read_text(errors="replace")
    assert "Too many open files" not in log and "more than 16 from 127.0.0.1 without the token" in log


def test_the_total_cap_closes_the_oldest_waiting_connection_first(serve):
    server = serve(max_connections=40, max_connections_per_client=1000, header_timeout_s=300, keep_alive_s=300)
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    assert server.request(kept).status == 200
    kept_sock = kept.sock
    flood = half_open(server.port, 100)
    try:
        assert server.request().status == 200
        assert server.request(kept).status == 200 and kept.sock is kept_sock  # waiting, but proven: kept
        # 40 open at most, `kept` among them: the oldest 61 of the flood went to make room.
        assert len(wait_closed(flood[:61], 61)) == 61
    finally:
        for s in flood:
            s.close()
        kept.close()


def test_slow_heads_and_bodies_time_out(serve):
    server = serve(header_timeout_s=1, body_timeout_s=1)
    silent, partial = half_open(server.port, 1, b"")[0], half_open(server.port, 1)[0]
    slow_body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    slow_body.sendall(f"POST /v1/describe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"image\": ".encode())
    socks = [silent, partial, slow_body]
    try:
        closed = wait_closed(socks, 3)
        assert set(closed) == set(socks)
        assert closed[silent] == b""  # nothing was asked on it: just closed
        assert "api.header_timeout_s" in error_408(closed[partial])
        assert "api.body_timeout_s" in error_408(closed[slow_body])
        assert server.request().status == 200  # and the server is fine
    finally:
        for s in socks:
            s.close()

"""URL loading against a real HTTP server on 127.0.0.1 (and a real TLS one)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from vlagent.imaging import errors
from vlagent.imaging import fetch as fetch_mod
from vlagent.imaging.fetch import fetch_url
from vlagent.imaging.load import Limits, load_any
from vlagent.samples import encoded

PNG = encoded(Image.new("RGB", (30, 20), (10, 120, 200)), "PNG")
DRIP_BYTES = 200
DRIP_STEP_S = 0.25
LOCAL = Limits(allow_private_urls=True, url_timeout=2.0, url_max_bytes=100_000)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # keep test output clean
        pass

    def _send(self, status, body=b"", ctype="image/png", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (the timeout tests)
            pass

    def do_GET(self):
        self.server.seen.append(self.path)
        p = self.path
        if p == "/img.png":
            self._send(200, PNG)
        elif p == "/declared-big":
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            self.wfile.write(b"\0" * 1000)
        elif p == "/chunked-big":  # no Content-Length: only counting while streaming can stop it
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"\0" * 16384
            try:
                for _ in range(100):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
        elif p == "/slow":  # answers once the test has seen the client give up (or after 30 s)
            if not self.server.gave_up.wait(30):
                self.server.answered_slow = True
            self._send(200, PNG)
        elif p == "/drip":  # each byte well inside a per-read timeout; the whole never ends in time
            self.send_response(200)
            self.send_header("Content-Length", str(DRIP_BYTES))
            self.end_headers()
            try:
                for _ in range(DRIP_BYTES):
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    self.server.clock.now += DRIP_STEP_S  # the client's clock: a byte every DRIP_STEP_S
                    time.sleep(0.01)  # pacing only (one byte per read), not synchronisation
            except OSError:
                pass
        elif p == "/to-img":
            self._send(302, headers=[("Location", "/img.png")])
        elif p == "/to-file":
            self._send(302, headers=[("Location", "file:///etc/passwd")])
        elif p == "/to-gopher":
            self._send(301, headers=[("Location", "gopher://127.0.0.1/x")])
        elif p == "/loop":
            self._send(302, headers=[("Location", "/loop")])
        elif p == "/page":
            self._send(200, b"<html><body>hello</body></html>", ctype="text/html")
        else:
            self._send(404, b"nope", ctype="text/plain")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients hanging up early is the point of some tests
        pass


@pytest.fixture(scope="module")
def server():
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.seen = []
    srv.gave_up = threading.Event()
    srv.answered_slow = False
    srv.clock = FakeClock()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(srv, path, host="127.0.0.1"):
    return f"http://{host}:{srv.server_address[1]}{path}"


def test_fetch_and_load_when_private_urls_are_allowed(server):
    assert fetch_url(url(server, "/img.png"), LOCAL) == PNG
    img = load_any(url(server, "/to-img"), LOCAL)
    assert img.image.getpixel((3, 3)) == (10, 120, 200)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "0.0.0.0"])
def test_local_targets_refused_by_default_before_connecting(server, host):
    before = len(server.seen)
    with pytest.raises(errors.URLNotAllowed, match="local or private address"):
        load_any(url(server, "/img.png", host=host), Limits())
    assert len(server.seen) == before  # refused without sending a request


def test_size_caps(server):
    with pytest.raises(errors.TooLarge, match="10,000,000 bytes"):
        fetch_url(url(server, "/declared-big"), LOCAL)
    with pytest.raises(errors.TooLarge, match="exceeds the limit of 100,000"):
        fetch_url(url(server, "/chunked-big"), LOCAL)


def test_a_server_that_does_not_answer_times_out(server):
    server.gave_up.clear()
    server.answered_slow = False
    try:
        with pytest.raises(errors.FetchError, match="timed out after 0.5 s"):
            fetch_url(url(server, "/slow"), Limits(allow_private_urls=True, url_timeout=0.5))
        assert not server.answered_slow  # it gave up while the server still held the answer back
    finally:
        server.gave_up.set()


def test_the_timeout_covers_the_whole_download_not_each_read(server, monkeypatch):
    """/drip sends a byte every DRIP_STEP_S of the fetcher's clock (advanced by the server as it
    sends, so load cannot change the count): the 2 s overall deadline passes after about 8 bytes,
    while each read waits only one step, far inside a per-read timeout."""
    server.clock.now = 0.0
    monkeypatch.setattr(fetch_mod, "time", server.clock)
    with pytest.raises(errors.FetchError, match="timed out after 2 s"):
        fetch_url(url(server, "/drip"), Limits(allow_private_urls=True, url_timeout=2.0))


class FakeClock:
    """``time`` for the fetcher, with a ``monotonic`` the test moves."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


# --- DNS rebinding ---------------------------------------------------------------------------

PUBLIC = "93.184.216.34"  # a public address: the check passes it; the test intercepts the connection


@pytest.fixture
def rebinding_dns(server, monkeypatch):
    """``rebind.test`` resolves to a public address the first time, then to 127.0.0.1 (where
    ``server`` listens), as a hostile DNS server would. Connections to PUBLIC are refused
    here (nothing leaves the machine); every address dialled is recorded."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    answers = {"n": 0}
    dialled: list = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers["n"] += 1
        ip = PUBLIC if answers["n"] == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(port)))]

    def connect(sock, address):
        dialled.append(address)
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused (intercepted by the test)")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return answers, dialled


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(server, rebinding_dns, scheme):
    answers, dialled = rebinding_dns
    before = len(server.seen)
    with pytest.raises(errors.FetchError, match="ConnectionRefused"):
        fetch_url(f"{scheme}://rebind.test:{server.server_address[1]}/img.png", Limits(url_timeout=5.0))
    assert answers["n"] >= 1 and dialled  # resolved and dialled: the check passed the public answer
    assert all(addr[0] == PUBLIC for addr in dialled), dialled  # never loopback
    assert len(server.seen) == before  # the service on this machine was never reached


def test_redirects_are_checked_on_every_hop(server):
    with pytest.raises(errors.URLNotAllowed, match="'file'"):
        fetch_url(url(server, "/to-file"), LOCAL)
    with pytest.raises(errors.URLNotAllowed, match="'gopher'"):
        fetch_url(url(server, "/to-gopher"), LOCAL)
    with pytest.raises(errors.FetchError, match="more than 5 redirects"):
        fetch_url(url(server, "/loop"), LOCAL)


def test_http_errors_and_non_images(server):
    with pytest.raises(errors.FetchError, match="HTTP 404"):
        fetch_url(url(server, "/missing.png"), LOCAL)
    with pytest.raises(errors.NotAnImage, match="looks like text/markup"):
        load_any(url(server, "/page"), LOCAL)
    closed = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(errors.FetchError, match="ConnectionRefused"):
        fetch_url(f"http://127.0.0.1:{port}/img.png", LOCAL)


def test_schemes_outside_the_allowlist(server):
    with pytest.raises(errors.URLNotAllowed, match="'http' is not allowed"):
        fetch_url(url(server, "/img.png"), Limits(allow_private_urls=True, allowed_schemes=("https",)))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_is_verified_and_works_when_trusted(tmp_path, monkeypatch):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.seen = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    target = f"https://127.0.0.1:{srv.server_address[1]}/img.png"
    try:
        with pytest.raises(errors.FetchError, match="TLS error.*CERTIFICATE_VERIFY_FAILED"):
            fetch_url(target, LOCAL)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted, as a system CA would be
        assert fetch_url(target, LOCAL) == PNG
    finally:
        srv.shutdown()
        srv.server_close()

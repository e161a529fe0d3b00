"""Fetching from servers that close the connection after answering: ``http.server``'s own
handler (HTTP/1.0, as ``python -m http.server`` serves), and HTTP/1.1 with ``Connection:
close`` (with and without a length). Through the fetch function and through the CLI."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from vlagent.imaging.fetch import fetch_url
from vlagent.imaging.load import Limits, load_any
from vlagent.samples import encoded

PNG = encoded(Image.new("RGB", (64, 48), (200, 30, 30)), "PNG")
LOCAL = Limits(allow_private_urls=True, url_timeout=20.0)


class Closing(BaseHTTPRequestHandler):
    """HTTP/1.1 that says ``Connection: close`` and closes after the body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Connection", "close")
        if self.path == "/with-length.png":
            self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()  # without a length the body ends where the connection does
        self.wfile.write(PNG)
        self.close_connection = True


class Quiet(SimpleHTTPRequestHandler):  # what `python -m http.server` runs (HTTP/1.0)
    def log_message(self, *a):
        pass


@pytest.fixture
def serve():
    servers = []

    def _serve(handler) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield _serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_http_server_module_answers_are_fetched(serve, tmp_path):
    (tmp_path / "red.png").write_bytes(PNG)
    base = serve(functools.partial(Quiet, directory=str(tmp_path)))
    assert fetch_url(f"{base}/red.png", LOCAL) == PNG
    loaded = load_any(f"{base}/red.png", LOCAL)
    assert (loaded.width, loaded.height) == (64, 48) and loaded.data == PNG


@pytest.mark.parametrize("path", ["/with-length.png", "/until-close.png"])
def test_connection_close_answers_are_fetched(serve, path):
    base = serve(Closing)
    assert fetch_url(base + path, LOCAL) == PNG


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_connection_close_over_tls(tmp_path, monkeypatch):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Closing)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted, as a system CA would be
    try:
        for path in ("/with-length.png", "/until-close.png"):
            assert fetch_url(f"https://127.0.0.1:{httpd.server_address[1]}{path}", LOCAL) == PNG
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_describe_a_url_from_http_server(cli, text_png, tiny_model_dir, serve):
    img = text_png(["Quarterly report 2024"], name="report.png")
    base = serve(functools.partial(Quiet, directory=str(img.parent)))
    cli("config", "net.allow_private_urls", "true", check=True)
    p = cli("describe", f"{base}/report.png", "--model", tiny_model_dir, "--json", "--vlm-max-new-tokens", "4",
            "--vlm-max-pixels", str(64 * 28 * 28), "--vlm-cpu-quantize", "false")
    assert p.returncode == 0, p.stderr_text
    assert "Traceback" not in p.stderr_text
    (rec,) = json.loads(p.stdout_text)
    assert rec["image"] == f"{base}/report.png" and rec["image_id"] == 1 and rec["text"]
    shown = json.loads(cli("show", "1", "--json", check=True).stdout_text)
    assert shown["sha256"] == hashlib.sha256(img.read_bytes()).hexdigest()  # the bytes it served

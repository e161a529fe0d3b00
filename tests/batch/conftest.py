"""Batch tests: a generated mixed table (paths, loopback URLs, base64, data: URLs, bytes, per-row
prompts, a corrupt row, an unreachable URL) and a loopback image server the tests control."""

from __future__ import annotations

import base64
import http.server
import io
import socket
import threading
from pathlib import Path

import pytest

daft = pytest.importorskip("daft", reason="the [batch] extra (daft, ray) is not installed")


class ImageServer:
    """Serves PNGs on 127.0.0.1; paths under /hold/ wait until :meth:`release` (a slow download)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.released = threading.Event()
        self.held = threading.Semaphore(0)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                name = self.path.rsplit("/", 1)[-1]
                if self.path.startswith("/hold/"):
                    server.held.release()
                    server.released.wait(120)
                data = server.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def png_bytes(lines: list[str], font_size: int = 28) -> bytes:
    from vlagent.samples import text_image

    buf = io.BytesIO()
    text_image(lines, font_size=font_size).save(buf, format="PNG")
    return buf.getvalue()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def image_server():
    files = {f"u{i}.png": png_bytes([f"served image {i}", f"网络图片 {i}"]) for i in range(4)}
    srv = ImageServer(files)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def mixed_table(tmp_path_factory, image_server) -> dict:
    """The images column (strings of every kind) and a prompts column; ``kinds`` says what each row is."""
    d: Path = tmp_path_factory.mktemp("mixed")
    paths = []
    for i in range(3):
        p = d / f"local {i}.png"
        p.write_bytes(png_bytes([f"local file {i}", f"本地文件 {i}"]))
        paths.append(str(p))
    corrupt = d / "corrupt.png"
    corrupt.write_bytes(png_bytes(["truncated"])[:60])
    b64 = base64.b64encode(png_bytes(["base64 row", "编码"])).decode()
    rows = [
        ("path", paths[0], None),
        ("url", f"{image_server.url}/u0.png", "Describe the text in this image."),
        ("base64", b64, None),
        ("data_url", "data:image/png;base64," + b64, "用中文描述"),
        ("corrupt", str(corrupt), None),
        ("unreachable", f"http://127.0.0.1:{closed_port()}/gone.png", None),
        ("path", paths[1], "What is written here?"),
        ("url", f"{image_server.url}/u1.png", None),
        ("missing", str(d / "no such file.png"), None),
        ("path", paths[2], None),
    ]
    return {"images": [r[1] for r in rows], "prompts": [r[2] for r in rows], "kinds": [r[0] for r in rows],
            "dir": d}


BAD_KINDS = {"corrupt", "unreachable", "missing"}

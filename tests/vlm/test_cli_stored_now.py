"""``describe`` and ``ask`` as a newcomer uses them: what they store is searchable at once
(the image's OCR runs before the command ends, not when ``watch`` or the app next runs),
``--no-store`` stores nothing, and the timing line of a remote backend shows only what the
server reported."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

FAST = ["--vlm-max-new-tokens", "4", "--vlm-max-pixels", str(64 * 28 * 28), "--vlm-cpu-quantize", "false"]


def search_ids(cli, word: str) -> list[int]:
    return [h["id"] for h in json.loads(cli("search", word, "--json", check=True).stdout_text)]


def test_described_and_asked_images_are_searchable_by_their_text_at_once(cli, text_png, tiny_model_dir):
    shot = text_png(["Quarterly revenue grew", "季度收入增长"], name="shot.png")
    other = text_png(["Kubernetes deployment failed"], name="other.png")

    cli("describe", shot, "--model", tiny_model_dir, *FAST, check=True)
    assert search_ids(cli, "revenue") == [1] and search_ids(cli, "收入") == [1]
    shown = json.loads(cli("show", "1", "--json", check=True).stdout_text)
    assert [(j["kind"], j["state"]) for j in shown["jobs"]] == [("ocr", "done")]
    assert {r["kind"] for r in shown["results"]} == {"description", "ocr"}

    cli("ask", other, "what failed?", "--model", tiny_model_dir, *FAST, check=True)
    assert search_ids(cli, "Kubernetes") == [2]

    nothing = text_png(["Unstored invoice"], name="nostore.png")
    cli("describe", nothing, "--no-store", "--model", tiny_model_dir, *FAST, check=True)
    assert search_ids(cli, "Unstored") == []
    status = json.loads(cli("status", "--json", check=True).stdout_text)
    assert status["images"] == 2


def test_describe_stores_and_reads_the_text_even_when_the_model_cannot_run(cli, text_png, tmp_path):
    shot = text_png(["Meeting notes Tuesday"], name="notes.png")
    p = cli("describe", shot, "--model", tmp_path / "no-such-model")
    assert p.returncode == 1 and "no model directory" in p.stderr_text
    assert search_ids(cli, "Tuesday") == [1]


class FakeOpenAI(BaseHTTPRequestHandler):
    """A chat-completions server (streaming, as the CLI asks) that reports no timings and,
    unless told to, no token counts."""

    usage: dict | None = None

    def log_message(self, *a):
        pass

    def _json(self, status: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._json(404, {"error": {"message": "no model list here"}})

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        events = [{"choices": [{"delta": {"content": "a red "}}]},
                  {"choices": [{"delta": {"content": "square"}, "finish_reason": "stop"}]}]
        if self.usage:
            events.append({"choices": [], "usage": self.usage})
        body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("usage, expected", [
    (None, r"^\[fake-vl · \d+\.\d s\]$"),
    ({"prompt_tokens": 40, "completion_tokens": 3}, r"^\[fake-vl · \d+\.\d s · 3 new tokens · \d+\.\d tok/s\]$"),
])
def test_the_remote_timing_line_shows_only_what_the_server_reported(cli, text_png, usage, expected):
    handler = type("Fake", (FakeOpenAI,), {"usage": usage})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        img = text_png(["remote"], name="r.png")
        p = cli("describe", img, "--no-store", "--vlm-backend", "openai", "--vlm-openai-model", "fake-vl",
                "--vlm-openai-base-url", f"http://127.0.0.1:{httpd.server_address[1]}/v1", check=True)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert p.stdout_text.strip() == "a red square"
    assert re.match(expected, p.stderr_text.strip().splitlines()[-1]), p.stderr_text

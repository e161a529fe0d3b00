"""A real ``vlagent serve`` (tiny random checkpoint, its own data home) in a subprocess,
started once per session, and helpers to talk to it with real clients."""

from __future__ import annotations

import base64
import io
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env

MAX_BODY = 2 * 1024 * 1024  # small, so the 413 test sends little
SERVER_SETTINGS = {
    "general": {"language": "en"},
    "vlm": {"dtype": "float32", "cpu_quantize": False, "max_new_tokens": 12, "max_pixels": 128 * 28 * 28,
            "idle_unload_s": 0.0},
    "api": {"max_body_bytes": MAX_BODY},
    "memory": {"answer_tokens": 16, "rewrite_tokens": 8},  # a random checkpoint never stops by itself
}


def write_config(home: Path, tables: dict) -> None:
    import tomli_w

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_bytes(tomli_w.dumps(tables).encode())


def server_config(model_dir: Path, **extra_tables) -> dict:
    tables = {k: dict(v) for k, v in SERVER_SETTINGS.items()}
    tables["vlm"]["model"] = str(model_dir)
    for name, values in extra_tables.items():
        tables.setdefault(name, {}).update(values)
    return tables


class Served:
    """A running ``vlagent serve``: its URL, token and data home."""

    def __init__(self, proc: subprocess.Popen, url: str, home: Path, log: Path, login: str | None = None):
        self.proc, self.url, self.home, self.log = proc, url, home, log
        self.login = login  # the one-time browser login URL serve printed (when waited for)
        self.base = url + "/v1"
        self.port = int(url.rsplit(":", 1)[1])
        token = home / "api-token"  # none when serving with --api-key or --no-auth
        self.token = token.read_text().strip() if token.exists() else None

    def auth(self, token: str | None = None) -> dict:
        return {"Authorization": f"Bearer {token or self.token}"}

    def openai(self, **kw):
        from openai import OpenAI

        return OpenAI(base_url=self.base, api_key=self.token, max_retries=0, timeout=120, **kw)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def start_serve(home: Path, *args: str, timeout: float = 120, env: dict | None = None,
                wait_for_login: bool = False) -> Served:
    """Start ``vlagent serve --port 0`` on ``home`` and wait until it says where it listens
    (and, with ``wait_for_login``, the one-time login URL it prints for a browser)."""
    log = home.parent / f"{home.name}-serve.log"
    err = open(log, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "serve", "--port", "0", *args], cwd=str(REPO),
                            env=env or cli_env(home), stdout=subprocess.PIPE, stderr=err)
    err.close()
    found: dict = {}
    ready = threading.Event()
    wanted = "login" if wait_for_login else "url"

    def read() -> None:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            if "listening on " in line and "url" not in found:
                found["url"] = line.split("listening on ", 1)[1].split()[0]
            if "in a browser" in line and "login" not in found:
                found["login"] = line.rsplit(" ", 1)[1].strip()
            if wanted in found:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout) or wanted not in found or "url" not in found:
        proc.kill()
        raise AssertionError(f"vlagent serve did not start (exit {proc.poll()}):\n{log.read_text()}")
    return Served(proc, found["url"], home, log, found.get("login"))


@pytest.fixture(scope="session")
def server(tmp_path_factory, tiny_model_dir):
    home = tmp_path_factory.mktemp("serve") / "home"
    write_config(home, server_config(tiny_model_dir))
    served = start_serve(home)
    yield served
    code = served.stop()
    assert code == 0, f"vlagent serve exited {code}:\n{served.log.read_text()}"


@pytest.fixture(scope="session")
def model_name(tiny_model_dir) -> str:
    """What /v1/models calls the tiny checkpoint: its folder's name."""
    return Path(tiny_model_dir).name


def data_url(image, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    image.save(buf, fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"


def png_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def user(text: str, *urls: str) -> dict:
    return {"role": "user", "content": [*({"type": "image_url", "image_url": {"url": u}} for u in urls),
                                        {"type": "text", "text": text}]}


def assert_openai_error(r, status: int, *, code=None, param=None) -> dict:
    """``r`` is an error of ``status`` in OpenAI's shape, with the type OpenAI gives that status."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert isinstance(err["message"], str) and err["message"]
    expected = "rate_limit_error" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
    assert err["type"] == expected, err
    if code is not None:
        assert err["code"] == code, err
    if param is not None:
        assert err["param"] == param, err
    return err

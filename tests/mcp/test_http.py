"""``vlagent mcp --http``: streamable HTTP behind the API's bearer token, on loopback unless
allowed otherwise. One real server process for the module, spoken to by the SDK's client."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from tests.conftest import REPO, cli_env, run_cli
from tests.mcp.conftest import McpSession, authed, write_config

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def first_line(proc: subprocess.Popen, timeout: float = 60) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline().decode()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        proc.kill()
        raise AssertionError(f"the server printed no address: {proc.stderr.read().decode(errors='replace')}")
    return lines[0]


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("mcp-http") / "home"
    write_config(home)
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "mcp", "--http", "--port", "0"], cwd=str(REPO),
                            env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/mcp", first_line(proc)).group(0)
        token = run_cli("api-token", home=home, check=True).stdout_text.strip()
        yield proc, url, token
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_a_client_with_the_token_lists_and_calls_the_tools(http_server):
    _, url, token = http_server
    session = McpSession(authed(url, token))
    try:
        names = {t.name for t in session.list_tools().tools}
        assert names == {"search_images", "get_image", "ask_image", "ask_memory", "capture_screen"}
        found = session.call("search_images", {"query": "anything"})
        assert not found.is_error and found.structured_content["hits"] == []
        assert "nothing is indexed yet" in found.structured_content["note"]
        missing = session.call("get_image", {"id": 5})
        assert missing.is_error and "nothing is indexed yet" in missing.content[0].text
    finally:
        session.close()


@pytest.mark.parametrize("authorization, problem", [
    (None, "missing API key"),
    ("Bearer not-the-token", "incorrect API key"),
    ("Basic dXNlcjpwYXNz", "incorrect API key"),
])
def test_a_request_without_the_token_is_refused(http_server, authorization, problem):
    _, url, _ = http_server
    headers = dict(HEADERS, **({"Authorization": authorization} if authorization else {}))
    r = httpx.post(url, json=INIT, headers=headers, timeout=10)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert problem in r.json()["error"]["message"] and "vlagent api-token" in r.json()["error"]["message"]
    assert httpx.get(url, headers={"Accept": "text/event-stream"}, timeout=10).status_code == 401


def test_the_sdk_client_without_the_token_fails(http_server):
    _, url, _ = http_server
    with pytest.raises(Exception):  # noqa: B017 - whichever the SDK raises for a 401: not a session
        McpSession(authed(url, "wrong"), timeout=30).close()


def test_a_public_address_needs_allow_remote_and_http_options_need_http(tmp_path):
    refused = run_cli("mcp", "--http", "--host", "0.0.0.0", "--port", "0", home=tmp_path / "h", timeout=60)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr_text
    misused = run_cli("mcp", "--port", "9000", home=tmp_path / "h", timeout=60)
    assert misused.returncode == 2 and "go with --http" in misused.stderr_text


def test_sigterm_stops_the_server_cleanly(http_server):
    proc, url, token = http_server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0

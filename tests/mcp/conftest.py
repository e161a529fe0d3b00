"""The MCP server as its clients see it: a real ``python -m vlagent mcp`` process driven by the
``mcp`` SDK's own client, one server per test module (the SDK's client is async; :class:`McpSession`
keeps it open on an event loop of its own, so the tests stay plain functions)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, cli_env, run_cli

# The planted texts: search must find each one in its own image only.
PLANTED = {"invoice": ["ACME Invoice ZEBRAQUOKKA", "Total due 4471 EUR"],
           "error": ["Database error XYLOPHONE", "port 5432 refused"]}


def write_config(home: Path, tiny_model_dir: Path | None = None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    text = '[general]\nlanguage = "en"\n'
    if tiny_model_dir is not None:
        text += (f'\n[vlm]\nmodel = "{tiny_model_dir}"\ncpu_quantize = false\nmax_new_tokens = 8\n'
                 f'dtype = "float32"\nmax_pixels = {128 * 28 * 28}\n'
                 f'\n[memory]\nanswer_tokens = 8\nrewrite_tokens = 6\nimage_max_pixels = {64 * 28 * 28}\n')
    (home / "config.toml").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def indexed_home(tmp_path_factory, tiny_model_dir, cjk_font_path) -> tuple[Path, dict[str, int]]:
    """A data home with the tiny model configured and the PLANTED images indexed (OCR'd) by
    ``vlagent index``; returns it with each image's id."""
    from vlagent.samples import text_image

    root = tmp_path_factory.mktemp("mcp")
    home, folder = root / "home", root / "images"
    write_config(home, tiny_model_dir)
    folder.mkdir()
    for name, lines in PLANTED.items():
        text_image(lines, font_size=28).save(folder / f"{name}.png")
    run_cli("index", folder, "--json", home=home, check=True)
    ids = {}
    for name in PLANTED:
        shown = run_cli("show", folder / f"{name}.png", "--json", home=home, check=True)
        ids[name] = json.loads(shown.stdout_text)["id"]
    return home, ids


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def data_of(result) -> dict:
    assert not result.is_error, text_of(result)
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def error_of(result) -> str:
    assert result.is_error, result
    assert result.structured_content is None
    return text_of(result)


class McpSession:
    """An SDK client connected to a server (``connect``: an async context manager factory giving the
    transport, e.g. ``lambda: stdio_client(params)``), held open on a background event loop."""

    def __init__(self, connect: Callable[[], Any], timeout: float = 120):
        from mcp.client import Client

        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mcp-client", daemon=True)
        self.thread.start()
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Future | None = None
        self.client: Any = None

        async def open_() -> None:
            self._stop = asyncio.Event()
            ready = self.loop.create_future()

            async def hold() -> None:
                try:
                    async with Client(connect()) as client:
                        self.client = client
                        ready.set_result(None)
                        await self._stop.wait()
                except BaseException as e:
                    if ready.done():
                        raise
                    ready.set_exception(e)  # raised by the constructor

            self._task = asyncio.ensure_future(hold())
            await ready

        try:
            self._run(open_())
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            raise

    def _run(self, coro: Awaitable[Any], timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout or self.timeout)  # type: ignore[arg-type]

    def list_tools(self) -> Any:
        return self._run(self.client.list_tools())

    def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> Any:
        return self._run(self.client.call_tool(name, arguments), timeout)

    def close(self) -> None:
        async def stop() -> None:
            assert self._stop is not None and self._task is not None
            self._stop.set()
            try:
                await asyncio.wait_for(self._task, 30)
            except Exception:
                pass

        try:
            self._run(stop(), 40)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


def stdio_session(home: Path, *args: str, log: Path, **env: str) -> McpSession:
    """``python -m vlagent mcp ARGS`` started and spoken to by the SDK's stdio client; the
    server's stderr goes to ``log``; ``env``: more environment variables."""
    import sys

    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "vlagent", "mcp", *args],
                                   env=cli_env(home, **env), cwd=str(REPO))
    errlog = open(log, "w", encoding="utf-8")  # noqa: SIM115 - the server writes to it while it runs
    return McpSession(lambda: stdio_client(params, errlog=errlog))


def authed(url: str, token: str):
    """A connect factory for :class:`McpSession`: streamable HTTP at ``url`` with the bearer token."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    @asynccontextmanager
    async def connect():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                      timeout=httpx2.Timeout(30, read=120)) as http, \
                streamable_http_client(url, http_client=http) as streams:
            yield streams

    return connect

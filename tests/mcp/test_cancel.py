"""A client that cancels a model tool (``notifications/cancelled``, or going away) stops the model
at its next token: nothing is stored and the server goes on serving. In process, through the
SDK's own client on the server object, with the real tiny model made to answer at length."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from contextlib import suppress

import pytest

from tests.conftest import run_cli
from tests.mcp.conftest import PLANTED


class AtLength:
    """The real engine, made to answer until stopped (min_new_tokens), noting each generation."""

    def __init__(self, engine):
        self.engine = engine
        self.started = threading.Event()
        self.done: list = []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def chat(self, messages, options=None, on_token=None, cancel=None):
        options = dataclasses.replace(options, max_new_tokens=100_000, min_new_tokens=100_000)
        self.started.set()
        g = self.engine.chat(messages, options, on_token=on_token, cancel=cancel)
        self.done.append(g)
        return g


def answers(home, name: str) -> list:
    shown = json.loads(run_cli("show", str(name), "--json", home=home, check=True).stdout_text)
    return [r for r in shown["results"] if r["kind"] == "answer"]


@pytest.mark.parametrize("tool", ["ask_memory", "ask_image"])
def test_a_cancelled_question_stops_the_model_and_stores_nothing(indexed_home, tool):
    from mcp.client import Client

    from vlagent.home import Home
    from vlagent.mcp.server import build_server
    from vlagent.mcp.tools import McpTools
    from vlagent.settings import Settings

    home, ids = indexed_home
    before = answers(home, ids["invoice"])
    tools = McpTools(Home(home), Settings.load(home / "config.toml"))
    engine = tools.engine = AtLength(tools.engine)
    arguments = ({"question": "What was the total due on the ACME invoice ZEBRAQUOKKA?"} if tool == "ask_memory"
                 else {"id": ids["invoice"], "question": "What is the total?"})

    async def main():
        loop = asyncio.get_running_loop()
        async with Client(build_server(tools)) as client:
            call = asyncio.ensure_future(client.call_tool(tool, arguments))
            assert await loop.run_in_executor(None, engine.started.wait, 120), "the model never started"
            call.cancel()  # the client gives up: the SDK tells the server (notifications/cancelled)
            with suppress(asyncio.CancelledError):
                await call
            for _ in range(1200):  # the generation ends at its next token, not 100,000 tokens later
                if engine.done:
                    break
                await asyncio.sleep(0.05)
            found = await client.call_tool("search_images", {"query": PLANTED["invoice"][0].split()[-1]})
            return found

    found = asyncio.run(main())
    assert engine.done, "the generation did not stop"
    g = engine.done[-1]
    assert g.finish_reason == "cancelled" and g.timings.get("new_tokens", 0) < 100_000
    assert not found.is_error and found.structured_content["hits"]  # the server goes on
    assert answers(home, ids["invoice"]) == before  # nothing stored
    tools.engine.engine.unload()


def test_run_stoppable_sets_the_token_when_the_request_is_cancelled():
    from vlagent.mcp.server import run_stoppable

    tokens, started = [], threading.Event()

    def call(token):
        tokens.append(token)
        started.set()
        assert token.wait(60)  # a model checks it before each token
        raise AssertionError("not reached by the client: its request was cancelled")

    async def main():
        task = asyncio.ensure_future(run_stoppable("ask_memory", call))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert tokens and tokens[0].cancelled

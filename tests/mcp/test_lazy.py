"""The heavy libraries wait for the call that needs them: ``vlagent mcp --help`` imports neither
the SDK nor the model libraries, and a server that only searches never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, cli_env
from tests.mcp.conftest import write_config

HELP = """
import sys
from vlagent.cli.main import main
try:
    main(["mcp", "--help"])
except SystemExit:
    pass
print("LOADED", [m for m in ("torch", "transformers", "mcp", "uvicorn") if m in sys.modules])
"""

SEARCH_ONLY = """
import asyncio, json, sys
from mcp.client import Client
from vlagent.home import Home
from vlagent.settings import Settings
from vlagent.mcp.server import build_server
from vlagent.mcp.tools import McpTools

home = Home.resolve()
server = build_server(McpTools(home, Settings.load(home.config_path)))

async def main():
    async with Client(server) as client:
        await client.list_tools()
        r = await client.call_tool("search_images", {"query": "x"})
        m = await client.call_tool("ask_memory", {"question": "anything at all"})
        return r.is_error, m.is_error

print(json.dumps({"errors": asyncio.run(main()), "torch": "torch" in sys.modules}))
"""


def test_help_imports_no_sdk_and_no_model(vlagent_home):
    out = subprocess.run([sys.executable, "-c", HELP], capture_output=True, text=True, cwd=str(REPO),
                         env=cli_env(vlagent_home), timeout=60)
    assert "usage: vlagent mcp" in out.stdout and "--http" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_tools_without_the_model_never_import_torch(vlagent_home):
    write_config(vlagent_home)
    out = subprocess.run([sys.executable, "-c", SEARCH_ONLY], capture_output=True, text=True, cwd=str(REPO),
                         env=cli_env(vlagent_home), timeout=120)
    assert out.returncode == 0, out.stderr
    # nothing is indexed: search says so, ask_memory refuses before any model is built
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"errors": [False, True], "torch": False}

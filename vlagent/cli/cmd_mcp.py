"""vlagent mcp: serve the index and the model to MCP clients (Claude Desktop, IDEs, agents).

Tools: search_images, get_image (with the thumbnail), ask_image and ask_memory (the local
model; their answers are stored with the images, as every answer is), capture_screen (only
with mcp.allow_capture). Nothing is deleted or changed. By default it speaks MCP over stdin/stdout:
an MCP client starts it as {"command": "vlagent", "args": ["mcp"]}. With --http it serves
streamable HTTP at http://127.0.0.1:8766/mcp; every request needs the API's bearer token
('vlagent api-token'), and an address other machines can reach needs --allow-remote.
The model loads on the first question and stays loaded while the server runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context

DEFAULT_PORT = 8766  # next to the API's 8765 (vlagent.mcp.http.DEFAULT_PORT)


def register(sub) -> None:
    p = sub.add_parser("mcp", help="serve search, images and questions to MCP clients (stdio, or --http)",
                       description=__doc__.split("\n", 1)[1].strip(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    p.add_argument("--host", help="with --http: address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help=f"with --http: port (default {DEFAULT_PORT}; 0 = any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="with --http: allow an address other machines can reach (the token is still required)")
    add_setting_flags(p, "mcp")
    p.set_defaults(func=run)


def run(ctx: Context, args) -> int:
    import importlib.util

    from vlagent.mcp.tools import McpTools

    if not args.http and (args.host is not None or args.port is not None or args.allow_remote):
        raise UsageError("--host, --port and --allow-remote go with --http")
    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number")
    if importlib.util.find_spec("mcp") is None:
        print("vlagent: the MCP server needs the mcp package, which is not installed "
              "(pip install 'vlagent[mcp]')", file=sys.stderr)
        return 1
    settings = ctx.settings
    tools = McpTools(ctx.home, settings, allow_capture=getattr(args, "set_mcp__allow_capture", None))
    if not args.http:
        from vlagent.mcp.server import run_stdio

        run_stdio(tools)
        return 0
    from vlagent.api.server import ApiConfigError
    from vlagent.mcp.http import serve_http

    def ready(url: str) -> None:
        print(f"vlagent MCP server (streamable HTTP) on {url}  (token: 'vlagent api-token'; Ctrl-C to stop)",
              flush=True)

    try:
        serve_http(tools, ctx.home, settings, host=args.host or "127.0.0.1", port=port,
                   allow_remote=args.allow_remote or settings.view.api.allow_remote, on_ready=ready)
    except ApiConfigError as e:
        raise UsageError(str(e)) from None
    except (OSError, RuntimeError) as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    return 0

"""vlagent serve: the local API (OpenAI-compatible) on the running agent; vlagent api-token.

Serves POST /v1/chat/completions and GET /v1/models the way OpenAI clients expect (so
Dify, scripts and other apps can use the local model), plus POST /v1/describe,
GET /v1/search, GET /v1/images/ID and its thumbnail. Every request needs the bearer
token kept in the data home ('vlagent api-token' prints it). It binds to 127.0.0.1;
another address needs --allow-remote. The agent's one worker answers requests one at a
time, ahead of background jobs; --watch also watches folders.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the local API (OpenAI-compatible) from the agent",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", help="address to bind (default: api.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: api.port, 8765; 0 = any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow an address other clients can reach (e.g. --host 0.0.0.0); the token is still required")
    p.add_argument("--watch", nargs="*", metavar="FOLDER",
                   help="also watch folders and index what appears (no FOLDER: watch.folders from the config)")
    p.add_argument("--describe", action="store_true", help="also describe each newly indexed image in the background")
    add_setting_flags(p, "serve")
    p.set_defaults(func=run)

    t = sub.add_parser("api-token", help="print the API's bearer token (created if there is none yet)",
                       description="Print the bearer token that API clients send as 'Authorization: Bearer TOKEN'. "
                                   "It lives in the data home, readable by you only.")
    t.add_argument("--regenerate", action="store_true", help="replace it with a new token (restart 'serve' after)")
    t.set_defaults(func=run_token)


def run_token(ctx: Context, args) -> int:
    from vlagent.api.token import load_or_create

    ctx.home.ensure()
    print(load_or_create(ctx.home, regenerate=args.regenerate))
    return 0


def run(ctx: Context, args) -> int:
    from vlagent.api.server import ApiConfigError, ApiServer
    from vlagent.worker import Agent, AlreadyRunning

    settings = ctx.settings
    if args.describe:
        settings.override("vlm.describe", True)
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number")
    folders: list[str] | None = []
    if args.watch is not None:
        folders = [os.path.abspath(os.path.expanduser(f)) for f in args.watch] or None
        for f in folders or []:
            if not os.path.isdir(f):
                raise UsageError(f"{f}: not a folder")
        if folders is None and not settings.view.watch.folders:
            raise UsageError("--watch without folders needs watch.folders in the config "
                             "('vlagent config watch.folders add ~/Pictures')")
    agent = Agent(ctx.home, settings, folders)
    try:
        server = ApiServer(agent, host=args.host, port=args.port, allow_remote=args.allow_remote or None)
    except ApiConfigError as e:
        raise UsageError(str(e)) from None
    try:
        agent.start()
    except AlreadyRunning as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    try:
        server.start()
    except (ApiConfigError, OSError, RuntimeError) as e:
        print(f"vlagent: {e}", file=sys.stderr)
        agent.stop()
        return 1

    service = server.service
    assert service is not None  # made by start()
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    print(f"vlagent API listening on {server.url}  (model: {service.model_id()}; "
          f"token: 'vlagent api-token'; Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.5):
            if not agent.worker.running:
                print(f"vlagent: the worker stopped: {agent.worker.status.error}", file=sys.stderr)
                break
    finally:
        print("stopping…", file=sys.stderr, flush=True)
        clean = server.stop()
        clean = agent.stop() and clean
        for s, h in old.items():
            signal.signal(s, h)
    return 0 if clean and not agent.worker.status.error else 1

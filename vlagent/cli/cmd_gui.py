"""``vlagent gui`` (also plain ``vlagent``): the desktop app — tray, search window, background
worker. A second launch hands its request to the running app and exits."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser(
        "gui", help="the desktop app: tray icon, search window, background indexing (the default command)",
        description="Start the desktop app on this data home: a tray icon (or, where the desktop has no tray, "
                    "the search window as the main window), the background worker that indexes watched "
                    "folders and captures, and the search window. When the app already runs on this data "
                    "home, the request is handed to it and this command exits.")
    p.add_argument("--search", metavar="QUERY", help="open the search window with this query")
    p.add_argument("--background", action="store_true",
                   help="start in the tray without opening the search window (for autostart)")
    p.add_argument("--no-worker", action="store_true",
                   help="search only: do not index or answer questions in this process")
    p.add_argument("--no-tray", action="store_true", help="use the search window as the main window")
    add_setting_flags(p, "gui")
    p.set_defaults(func=run)


NO_DISPLAY = ("vlagent: the desktop app needs a display, and this session has none (neither DISPLAY nor "
              "WAYLAND_DISPLAY is set). Here the command line works: 'vlagent watch' indexes folders, 'vlagent "
              "serve' answers over HTTP, 'vlagent search QUERY' finds images. For the app, run it in your desktop "
              "session or set DISPLAY (X11) or WAYLAND_DISPLAY (Wayland) to reach one.")


def display_missing(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True where Qt would find no display and abort the process (a core dump, exit 134): on
    Linux and other X11/Wayland systems with neither DISPLAY nor WAYLAND_DISPLAY, unless a
    Qt platform was chosen on purpose (QT_QPA_PLATFORM, e.g. offscreen)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform.startswith("win") or platform == "darwin":
        return False
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def run(ctx: Context, args) -> int:
    from vlagent.gui.instance import send_request

    request = {"action": "search", "query": args.search} if args.search is not None else {"action": "show"}
    reply = send_request(ctx.home, request)
    if reply is not None:
        if reply.get("ok"):
            print("vlagent is already running on this data home: the request was handed to it")
            return 0
        print(f"vlagent: the running app refused the request: {reply.get('error')}", file=sys.stderr)
        return 1
    if display_missing():  # before Qt starts: it would abort the process
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    from vlagent.gui.app import run_app

    return run_app(ctx.home, ctx.settings, request, worker=not args.no_worker,
                   tray=False if args.no_tray else None, background=args.background)

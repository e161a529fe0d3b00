"""``vlagent install-desktop`` / ``uninstall-desktop``: the application-menu entry and icons,
starting with the session, and a systemd user unit for the headless agent (Linux, XDG)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser(
        "install-desktop", help="add vlagent to the application menu (Linux); optionally start it with the session",
        description="Write vlagent's desktop entry and icons under $XDG_DATA_HOME (~/.local/share), pointing at "
                    "this installation. Running it again updates them. A data home chosen with --home or "
                    "VLAGENT_HOME is written into the launchers.")
    p.add_argument("--autostart", action="store_true",
                   help="also start the app in the tray when you log in ($XDG_CONFIG_HOME/autostart)")
    p.add_argument("--systemd", action="store_true",
                   help="also write a systemd user unit that runs 'vlagent watch' headless (enable it yourself)")
    p.set_defaults(func=run_install)

    u = sub.add_parser("uninstall-desktop", help="remove what install-desktop wrote",
                       description="Remove the desktop entry, icons, autostart entry and systemd unit that "
                                   "install-desktop wrote, and the folders that leaves empty; files vlagent "
                                   "did not write are left alone. With "
                                   "--autostart or --systemd, remove only that part.")
    u.add_argument("--autostart", action="store_true", help="remove only the autostart entry")
    u.add_argument("--systemd", action="store_true", help="remove only the systemd user unit")
    u.set_defaults(func=run_uninstall)


def _chosen_home(ctx: Context):
    """The data home when the user picked one (else the launchers use the default)."""
    return ctx.home.root if (getattr(ctx.args, "home", None) or os.environ.get("VLAGENT_HOME")) else None


def run_install(ctx: Context, args) -> int:
    from vlagent.desktop import Part, install
    from vlagent.desktop.entries import UNIT_NAME
    from vlagent.desktop.install import ForeignFile
    from vlagent.desktop.launcher import launcher_argv

    if not sys.platform.startswith("linux"):
        raise UsageError("install-desktop writes freedesktop.org (Linux) desktop entries; "
                         "see packaging/README.md for Windows and macOS")
    parts = {Part.MENU} | ({Part.AUTOSTART} if args.autostart else set()) | ({Part.SYSTEMD} if args.systemd else set())
    try:
        written = install(launcher_argv(_chosen_home(ctx)), parts)
    except (ForeignFile, OSError) as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    for path, changed in written:
        print(f"{'wrote    ' if changed else 'unchanged'} {path}")
    if args.systemd:
        print(f"\nTo run the headless agent now and at every login:\n"
              f"  systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}\n"
              f"(it watches watch.folders from the config; 'loginctl enable-linger' keeps it running "
              f"when you are logged out)")
    return 0


def run_uninstall(ctx: Context, args) -> int:
    from vlagent.desktop import Part, uninstall
    from vlagent.desktop.entries import UNIT_NAME

    parts = {p for p, on in ((Part.AUTOSTART, args.autostart), (Part.SYSTEMD, args.systemd)) if on} or set(Part)
    if Part.SYSTEMD in parts:
        print(f"(if it runs: systemctl --user disable --now {UNIT_NAME})")
    removed, folders = uninstall(parts)
    for path in removed:
        print(f"removed {path}")
    for folder in folders:
        print(f"deleted the empty folder {folder}")
    if not removed:
        print("nothing of vlagent's was installed")
    return 0

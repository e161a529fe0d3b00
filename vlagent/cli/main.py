"""The ``vlagent`` command line.

Each command lives in its own module with ``register(subparsers)``; heavy libraries
(torch, transformers, Qt, RapidOCR) are imported inside the command that needs them, so
``search``, ``show`` and ``status`` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from vlagent import __version__
from vlagent.diagnostics import LOG_COMMANDS

# Modules under vlagent.cli that register commands, in --help order.
COMMAND_MODULES = [
    "cmd_index",
    "cmd_vlm",
    "cmd_batch",
    "cmd_search",
    "cmd_manage",
    "cmd_watch",
    "cmd_serve",
    "cmd_mcp",
    "cmd_purge",
    "cmd_config",
    "cmd_doctor",
    "cmd_demo",
    "cmd_gui",
    "cmd_capture",
    "cmd_model",
    "cmd_eval",
    "cmd_desktop",
]


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vlagent",
        description="vlagent remembers every image you see: OCR and a vision-language model describe "
                    "each image into a local, searchable index.",
    )
    parser.add_argument("--version", action="version", version=f"vlagent {__version__}")
    parser.add_argument("--home", metavar="DIR", help="data directory (default: $VLAGENT_HOME or the "
                                                     "per-user data dir)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"vlagent.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        if "cmd_gui" in COMMAND_MODULES and args.command is None:  # plain `vlagent [--home DIR]`
            args = parser.parse_args([*argv, "gui"])
        else:
            parser.print_help()
            return 0
    from vlagent.cli.context import Context

    ctx = Context(args)
    if args.command in LOG_COMMANDS:  # long-running: logs/<command>.log, uncaught exceptions included
        from vlagent.diagnostics.logfiles import start_file_logging

        start_file_logging(ctx.home, ctx.settings, args.command)
    try:
        return int(args.func(ctx, args) or 0)
    except UsageError as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""CLI flags derived from the settings declaration."""

from __future__ import annotations

import argparse
from typing import Any

from vlagent.settings.declaration import MODEL_CMDS, SETTINGS, Setting
from vlagent.settings.store import SettingError, Settings, coerce

# Commands that can run the model get every setting marked ``cli=MODEL_CMDS``.
MODEL_COMMANDS = ("index", "describe", "ask", "watch", "serve", "capture", "gui", "eval", "mcp")


def settings_for_command(command: str) -> list[Setting]:
    out = []
    for s in SETTINGS:
        if command in s.cli or (s.cli == MODEL_CMDS and command in MODEL_COMMANDS):
            out.append(s)
    return out


def _bool_arg(text: str) -> bool:
    try:
        return bool(coerce(Setting("x.x", "bool", False, ""), text))
    except SettingError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_setting_flags(parser: argparse.ArgumentParser, command: str, repeatable: tuple[str, ...] = ()) -> None:
    """``repeatable``: keys whose flag may be given several times (a list; the first one is the setting)."""
    items = settings_for_command(command)
    if not items:
        return
    group = parser.add_argument_group("settings (override config.toml for this run)")
    for s in items:
        kwargs: dict[str, Any] = {"dest": s.dest, "default": None, "help": f"{s.help} [config: {s.key}]"}
        if s.type == "bool":
            kwargs.update(type=_bool_arg, metavar="BOOL")
        elif s.type == "choice":
            kwargs.update(choices=s.choices)
        elif s.type in ("int", "float"):
            kwargs.update(type=int if s.type == "int" else float, metavar=s.type.upper())
        else:
            kwargs.update(metavar="VALUE")
        if s.key in repeatable:
            kwargs["action"] = "append"
            kwargs["help"] += " (repeat to compare)"
        flags = [s.flag]
        if s.key == "vlm.model":
            flags.insert(0, "--model")
        group.add_argument(*flags, **kwargs)


def apply_setting_flags(settings: Settings, args: argparse.Namespace) -> None:
    for s in SETTINGS:
        value = getattr(args, s.dest, None)
        if isinstance(value, list):
            value = value[0]
        if value is not None:
            settings.override(s.key, value)

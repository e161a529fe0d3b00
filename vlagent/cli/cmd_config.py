"""``vlagent config`` — show and change settings (written to config.toml in the data home).

    vlagent config                              all settings (non-defaults marked *)
    vlagent config KEY                          one value
    vlagent config KEY VALUE | set KEY VALUE    change it
    vlagent config KEY add|remove VALUE...      edit a list (e.g. watch.folders)
    vlagent config reset KEY                    back to the default
    vlagent config path                         where the file is
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("config", help="show and change settings",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=_raw())
    p.add_argument("words", nargs="*", help="see above")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _raw():
    import argparse

    return argparse.RawDescriptionHelpFormatter


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ", ".join(v) if v else "(empty)"
    return str(v) if v != "" else '""'


def run(ctx: Context, args) -> int:
    from vlagent.cli.output import print_json
    from vlagent.settings import SETTINGS, SettingError, lookup

    s = ctx.settings
    w = list(args.words)
    try:
        if not w or w[0] in ("list", "show"):
            if args.json:
                print_json(s.as_dict())
                return 0
            section = None
            for st in SETTINGS:
                if st.section != section:
                    section = st.section
                    print(f"[{section}]")
                v = s.get(st.key)
                if st.type == "secret" and v:
                    v = "***"
                mark = " " if s.is_default(st.key) else "*"
                print(f" {mark} {st.key} = {_fmt(v)}")
            return 0
        if w[0] == "path":
            print(ctx.home.config_path)
            return 0
        if w[0] == "get" and len(w) == 2:
            w = w[1:]
        if w[0] == "set" and len(w) >= 3:
            w = w[1:]
        if w[0] == "reset" and len(w) == 2:
            s.reset(w[1], save=True)
            print(f"{w[1]} = {_fmt(s.get(w[1]))} (default)")
            return 0
        key = w[0]
        st = lookup(key)
        if len(w) == 1:
            v = s.get(key)
            if args.json:
                print_json({key: v})
            else:
                print(_fmt(v) if st.type != "secret" or not v else "***")
            return 0
        if st.type == "list" and w[1] in ("add", "remove"):
            items = w[2:]
            if not items:
                raise UsageError(f"config {key} {w[1]}: give at least one value")
            if key.endswith("folders"):
                items = [os.path.abspath(os.path.expanduser(i)) for i in items]
            if w[1] == "add":
                v = s.list_add(key, items, save=True)
            else:
                v = s.list_remove(key, items, save=True)
        else:
            raw = w[1:] if st.type == "list" else " ".join(w[1:])
            if st.type == "list" and len(raw) == 1:
                raw = raw[0]
            v = s.set(key, raw, save=True)
        print(f"{key} = {_fmt(v) if st.type != 'secret' else '***'}")
        return 0
    except SettingError as e:
        raise UsageError(str(e)) from None

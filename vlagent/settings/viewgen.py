"""Generate :mod:`vlagent.settings.views` (typed settings views) from the declaration.

    python -m vlagent.settings.viewgen --write   # rewrite vlagent/settings/views.py
    python -m vlagent.settings.viewgen --check   # exit 1 if it is out of date
    python -m vlagent.settings.viewgen           # print what would be written

The views are checked in so that type checkers see them; ``tests/settings`` checks that
regenerating gives the identical file, so :data:`~vlagent.settings.declaration.SETTINGS` stays
the one source. This module must not import ``views`` (a stale one refuses to import).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vlagent.settings.declaration import SETTINGS, Setting, sections

TARGET = Path(__file__).with_name("views.py")

_PLAIN_TYPES = {"str": "str", "secret": "str", "path": "str", "int": "int", "float": "float", "bool": "bool",
                "list": "list[str]"}


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace(".", "_").split("_"))


def class_name(section: str) -> str:
    return _camel(section) + "View"


def choice_alias(setting: Setting) -> str:
    return _camel(setting.key)


def _wrapped(head: str, items: list[str], tail: str, width: int = 120) -> list[str]:
    """``head`` + the items joined by ", " + ``tail``, wrapped under the head to stay within ``width``."""
    lines, line = [], head
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if line != head and len(line) + 1 + len(piece) + len(tail) > width:
            lines.append(line)
            line = " " * len(head) + piece
        else:
            line += ("" if line == head else " ") + piece
    return [*lines, line + tail]


def annotation(setting: Setting) -> str:
    if setting.type == "choice":
        return choice_alias(setting)
    try:
        return _PLAIN_TYPES[setting.type]
    except KeyError:
        raise ValueError(f"{setting.key}: no view type for setting type {setting.type!r}") from None


def _doc(text: str) -> str:
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text + (" " if text.endswith('"') else "")


def _wrap(words: str, indent: str, width: int = 120) -> list[str]:
    """``words`` as lines of at most ``width`` columns (docstring body, no quotes)."""
    lines: list[str] = []
    line = ""
    for word in words.split(" "):
        if line and len(indent) + len(line) + 1 + len(word) > width - 3:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return [indent + ln for ln in lines]


def _docstring(text: str, indent: str) -> list[str]:
    body = _doc(text)
    if len(indent) + len(body) + 6 <= 120:
        return [f'{indent}"""{body}"""']
    lines = _wrap(body, indent)
    lines[0] = lines[0][: len(indent)] + '"""' + lines[0][len(indent):]
    return [*lines, f'{indent}"""']


def render() -> str:
    out = [
        "# GENERATED FILE - DO NOT EDIT.",
        "# Generated from vlagent/settings/declaration.py by `python -m vlagent.settings.viewgen --write`;",
        "# tests/settings/test_views.py fails when it is out of date.",
        '"""Typed, live views of the settings: ``settings.view.vlm.batch_size`` is an ``int``.',
        "",
        "One class per section of :data:`~vlagent.settings.declaration.SETTINGS`, one read-only property",
        "per setting; each read goes through ``Settings.get``, so overrides, ``set`` and ``reload`` show",
        "at once. Importing this module checks that it still matches the declaration.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Literal, cast",
        "",
        "from vlagent.settings.viewbase import SectionView, Signature, check_views",
        "",
        "if TYPE_CHECKING:",
        "    from vlagent.settings.store import Settings",
        "",
    ]
    choices = [s for s in SETTINGS if s.type == "choice"]
    if choices:
        out.append("# The values of each choice setting.")
        for s in choices:
            values = ", ".join(f'"{c}"' for c in s.choices)
            out.append(f"{choice_alias(s)} = Literal[{values}]")
        out.append("")
    names = sections()
    for section in names:
        out += ["", f"class {class_name(section)}(SectionView):", f'    """``{section}.*`` settings."""', "",
                "    __slots__ = ()", f'    section = "{section}"']
        for s in SETTINGS:
            if s.section != section:
                continue
            ann = annotation(s)
            default = "(secret)" if s.type == "secret" else repr(s.default)
            out += ["", "    @property", f"    def {s.name}(self) -> {ann}:"]
            out += _docstring(f"{s.help}. Default: {default}.", " " * 8)
            out.append(f'        return cast({ann}, self._settings.get("{s.key}"))')
        out.append("")
    out += ["", "class SettingsView:",
            '    """Every section\'s view: ``settings.view.<section>.<name>``."""', "",
            *_wrapped("    __slots__ = (", [f'"_{n}"' for n in names], ",)" if len(names) == 1 else ")"), "",
            "    def __init__(self, settings: Settings) -> None:"]
    for section in names:
        out.append(f"        self._{section} = {class_name(section)}(settings)")
    for section in names:
        out += ["", "    @property", f"    def {section}(self) -> {class_name(section)}:",
                f"        return self._{section}"]
    out += ["", "", "SECTION_VIEWS: tuple[type[SectionView], ...] = ("]
    out += [f"    {class_name(section)}," for section in names]
    out += [")", "", "# What each field was generated from: its declared type and choices.",
            "FIELDS: dict[str, Signature] = {"]
    for s in SETTINGS:
        ch = "(" + ", ".join(f'"{c}"' for c in s.choices) + ("," if len(s.choices) == 1 else "") + ")"
        out.append(f'    "{s.key}": ("{s.type}", {ch}),')
    out += ["}", "", "check_views(SECTION_VIEWS, FIELDS)", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vlagent.settings.viewgen",
                                     description="Generate vlagent/settings/views.py from the declaration")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"rewrite {TARGET.name}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 if {TARGET.name} is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            TARGET.write_text(text, encoding="utf-8")
            print(f"wrote {TARGET}")
        return 0
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python -m vlagent.settings.viewgen --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

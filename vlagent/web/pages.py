"""The HTML pages, rendered from the templates in ``resources/web/``.

A template's ``{{name}}`` is replaced by the value's HTML-escaped text, ``{{!name}}`` by the
value as it is (markup this module built and escaped itself), and ``{{json:name}}`` by JSON
that is safe inside a ``<script type="application/json">`` block. No template engine: the
pages are few and small.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Any

from vlagent import __version__
from vlagent.resources import resource_path
from vlagent.web.i18n import strings

_FIELD = re.compile(r"\{\{(!|json:)?([a-z_0-9]+)\}\}")
STATIC_FILES = {  # what /web/static/ serves, and as what
    "app.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
    "ocr.js": "text/javascript; charset=utf-8",
    "util.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@functools.lru_cache(maxsize=8)
def template(name: str) -> str:
    return resource_path("web", name).read_text(encoding="utf-8")


def static_path(name: str) -> Path | None:
    if name == "icon.svg":  # the app's icon, shared with the desktop
        return resource_path("icons", "vlagent.svg")
    return resource_path("web", name) if name in STATIC_FILES else None


def script_json(value: Any) -> str:
    """JSON that cannot end its <script> block or open a comment in it."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render(name: str, values: dict[str, Any]) -> str:
    def field(m: re.Match[str]) -> str:
        kind, key = m.group(1), m.group(2)
        value = values[key]
        if kind == "!":
            return str(value)
        if kind == "json:":
            return script_json(value)
        return html.escape(str(value), quote=True)

    return _FIELD.sub(field, template(name))


def _options(pairs: list[tuple[str, str]], selected: str = "") -> str:
    return "".join(f'<option value="{html.escape(v, quote=True)}"{" selected" if v == selected else ""}>'
                   f"{html.escape(label)}</option>" for v, label in pairs)


def app_page(lang: str, *, csrf: str, folders: list[str], auth: bool) -> str:
    s = strings(lang)
    values: dict[str, Any] = dict(s)
    values.update({
        "lang": "zh-CN" if lang == "zh" else "en",
        "csrf": csrf,
        "v": __version__,
        "auth": "1" if auth else "0",
        "strings": s,
        "source_options": _options([("", s["all_sources"]), ("folder", s["src_folder"]),
                                    ("screenshot", s["src_screenshot"]), ("import", s["src_import"]),
                                    ("api", s["src_api"]), ("web", s["src_web"])]),
        "seen_options": _options([("", s["any_time"]), ("0", s["today"]), ("7", s["last_7"]),
                                  ("30", s["last_30"]), ("365", s["last_year"])]),
        "folder_options": _options([("", s["all_folders"]), *((f, f) for f in folders),
                                    ("__other__", s["other_folder"])]),
        "sort_options": _options([("relevance", s["best_match"]), ("date", s["newest"])]),
    })
    return render("index.html", values)


def login_page(lang: str, *, message: str = "", ok: bool = False) -> str:
    s = strings(lang)
    values: dict[str, Any] = dict(s)
    values.update({"lang": "zh-CN" if lang == "zh" else "en", "v": __version__,
                   "message": message, "message_class": "ok" if ok else ("bad" if message else "none"),
                   "form_hidden": "hidden" if ok else "",
                   "refresh": '<meta http-equiv="refresh" content="0; url=/">' if ok else ""})
    return render("login.html", values)

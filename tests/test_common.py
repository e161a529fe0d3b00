"""vlagent.common: file names shown safely (display_path) and written to JSON (json_safe)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from vlagent.common import display_path, display_text, json_safe


@pytest.mark.parametrize("name, shown", [
    ("plain name.png", "plain name.png"),
    ("小狗 截图 2024.png", "小狗 截图 2024.png"),
    ("t\x1b]0;pwned\x07.png", "t\\x1b]0;pwned\\x07.png"),
    ("red\x1b[31m.png", "red\\x1b[31m.png"),
    ("a\nfailed [fake]: x.png", "a\\x0afailed [fake]: x.png"),
    ("tab\there\r.png", "tab\\x09here\\x0d.png"),
    ("c1\x9b31m.png", "c1\\x9b31m.png"),
    ("rtl\u202egnp.exe", "rtl\\u202egnp.exe"),
    ("line\u2028sep", "line\\u2028sep"),
])
def test_display_text_escapes_what_could_restyle_the_terminal_or_forge_a_line(name, shown):
    assert display_text(name) == shown
    assert display_text(shown) == shown  # the escaped form is itself printable, and left alone


def test_display_path_shows_bytes_that_are_not_utf8_as_hex():
    raw = b"/pics/b_\xff\xfe.png"
    assert display_path(raw) == "/pics/b_\\xff\\xfe.png"
    assert display_path(os.fsdecode(raw)) == "/pics/b_\\xff\\xfe.png"
    assert display_path(Path(os.fsdecode(raw))) == "/pics/b_\\xff\\xfe.png"
    display_path(raw).encode("utf-8")  # printable on any UTF-8 terminal


def test_json_safe_keeps_valid_text_exactly_and_adds_the_exact_bytes_of_the_rest():
    bad = os.fsdecode(b"/pics/b_\xff.png")
    good = "/pics/a\n\x1b[31m小狗.png"
    record = {"id": 1, "path": bad, "paths": [good, bad], "ok": good, "nested": [{"path": bad}], "n": None}
    safe = json_safe(record)
    text = json.dumps(safe, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate left
    back = json.loads(text)
    assert back["ok"] == good and back["id"] == 1 and back["n"] is None  # exact, JSON escapes controls
    assert "ok_b64" not in back and "id_b64" not in back
    assert back["path"] == "/pics/b_\\xff.png"
    assert base64.b64decode(back["path_b64"]) == b"/pics/b_\xff.png"
    assert back["paths"] == [good, "/pics/b_\\xff.png"]
    assert [base64.b64decode(p) for p in back["paths_b64"]] == [os.fsencode(good), b"/pics/b_\xff.png"]
    assert base64.b64decode(back["nested"][0]["path_b64"]) == b"/pics/b_\xff.png"
    assert json_safe({"path": good}) == {"path": good}

"""``vlagent search`` on images indexed by ``vlagent index`` (real OCR, real CLI, subprocesses)."""

from __future__ import annotations

import json


def test_cli_finds_chinese_text_read_from_an_image(cli, text_png, tmp_path):
    folder = tmp_path / "shots"
    dog = text_png(["图片中有一只小狗站在雪地上"], name="dog.png", folder=folder)
    text_png(["Invoice 2024-0193 total 42.50 EUR"], name="invoice.png", folder=folder)
    cli("index", folder, "--json", check=True)

    out = cli("search", "小狗", "--json", check=True)
    hits = json.loads(out.stdout_text)
    assert [h["path"] for h in hits] == [str(dog)]
    assert "[小狗]" in hits[0]["snippet_marked"] and "小狗" in hits[0]["snippet"]
    assert "[" not in hits[0]["snippet"]

    one_char = json.loads(cli("search", "狗", "--json", check=True).stdout_text)
    assert [h["path"] for h in one_char] == [str(dog)]
    assert [h["path"] for h in json.loads(cli("search", "42.50", "--json", check=True).stdout_text)] == \
        [str(folder / "invoice.png")]
    for query in ("C++ (", '"', "NEAR", "-"):  # FTS syntax is only text: no error
        proc = cli("search", "--", query)
        assert proc.returncode == 0, proc.stderr_text
    human = cli("search", "雪地", check=True).stdout_text
    assert str(dog) in human and "[雪地]" in human
    assert json.loads(out.stdout_text)[0]["relaxed"] is False

    # Not a substring of the text (站在雪地上的小狗 ≠ 小狗站在雪地上): images matching some of it, said so.
    loose = cli("search", "雪地上的小狗", "--json", check=True)
    assert [(h["path"], h["relaxed"]) for h in json.loads(loose.stdout_text)] == [(str(dog), True)]
    assert "no exact match" in cli("search", "雪地上的小狗", check=True).stderr_text

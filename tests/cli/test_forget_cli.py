"""``vlagent forget`` as a user runs it: an id is never given to another picture, and a
forgotten file stays out of ``index DIR`` until named, forced or changed."""

from __future__ import annotations

import json

from tests.watch.util import write_png


def index_json(cli, *args) -> dict:
    return json.loads(cli("index", *args, "--no-ocr", "--json", check=True).stdout_text)


def test_an_id_is_never_reused_after_forgetting_the_newest_image(cli, tmp_path):
    a, b, c = (write_png(tmp_path / "pics" / f"{name}.png", n) for n, name in enumerate("abc", 1))
    index_json(cli, a, b)
    shown = json.loads(cli("show", b, "--json", check=True).stdout_text)
    newest = shown["id"]
    assert newest == 2
    assert "forgot #2" in cli("forget", "2", check=True).stdout_text

    index_json(cli, c)
    new = json.loads(cli("show", c, "--json", check=True).stdout_text)["id"]
    assert new == 3  # not #2: a link to #2 must not show another picture
    gone = cli("show", "2")
    assert gone.returncode != 0


def test_a_forgotten_file_stays_out_of_its_folder_until_named(cli, tmp_path):
    pics = tmp_path / "pics"
    a, _ = write_png(pics / "a.png", 1), write_png(pics / "b.png", 2)
    assert index_json(cli, pics)["new"] == 2
    out = cli("forget", a, check=True).stdout_text
    assert "stay out of the index" in out

    again = index_json(cli, pics)
    assert again["skipped_why"] == {"forgotten": 1} and again["new"] == 0
    human = cli("index", pics, "--no-ocr", check=True).stdout_text
    assert "1 skipped (forgotten)" in human
    assert cli("show", a).returncode != 0

    assert index_json(cli, a)["new"] == 1  # named: it comes back
    assert json.loads(cli("show", a, "--json", check=True).stdout_text)["id"] == 3


def test_forget_allow_reindex_keeps_nothing_out(cli, tmp_path):
    pics = tmp_path / "pics"
    a = write_png(pics / "a.png", 1)
    index_json(cli, pics)
    cli("forget", a, "--allow-reindex", check=True)
    assert index_json(cli, pics)["new"] == 1


def test_forget_help_says_what_happens_to_the_files(cli):
    text = " ".join(cli("forget", "--help", check=True).stdout_text.split())
    assert "--allow-reindex" in text
    assert "vlagent index FILE" in text and "--force" in text
